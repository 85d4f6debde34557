/** Paths into the repository from compiled tests (dist/test/...). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Repository root, whether running from dist/test/helpers or test/helpers. */
export const REPO_ROOT = fileURLToPath(
  new URL(import.meta.url.includes('/dist/') ? '../../../' : '../../', import.meta.url),
);

export function repoPath(relative: string): string {
  return `${REPO_ROOT}${relative}`;
}

export function readFixture(name: string): Uint8Array {
  return readFileSync(repoPath(`test/fixtures/${name}`));
}

export interface GoldenFrame {
  readonly name: string;
  readonly hex: string;
}

export function goldenFrames(): GoldenFrame[] {
  return JSON.parse(readFileSync(repoPath('test/fixtures/golden.json'), 'utf8')).frames;
}
