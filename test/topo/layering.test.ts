/** topo/ has no import circle, and overlay/ never imports topo/ (it is built on, not building). */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { repoPath } from '../helpers/repo.js';

function sources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The relative imports of `file` (type-only ones too), as absolute .ts paths. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.\.?\/[^'"]+)['"]/g)].map((m) =>
    resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')),
  );
}

test('src/topo has no import circle', () => {
  const files = sources(repoPath('src/topo'));
  assert.ok(files.length > 10, 'topo sources found');
  const inside = new Set(files);
  const edges = new Map(files.map((f) => [f, imports(f).filter((t) => inside.has(t))]));
  const state = new Map<string, 'open' | 'done'>();
  const visit = (f: string, path: string[]): void => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') {
      const circle = path.slice(path.indexOf(f)).concat(f);
      assert.fail(`import circle: ${circle.map((p) => relative(repoPath('src'), p)).join(' -> ')}`);
    }
    state.set(f, 'open');
    for (const t of edges.get(f)!) visit(t, [...path, f]);
    state.set(f, 'done');
  };
  for (const f of files) visit(f, []);
});

test('overlay/ imports nothing from topo/ or vpc/', () => {
  for (const file of sources(repoPath('src/overlay')))
    for (const target of imports(file))
      assert.doesNotMatch(relative(repoPath('src'), target), /^(topo|vpc)\//, `${file} imports ${target}`);
});
