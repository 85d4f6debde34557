/** The core (wire/ sim/ link/ devices/ overlay/ topo/ migration/) must run in a browser: no `node:` imports, no Node globals. */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoPath } from './helpers/repo.js';

const CORE = ['wire', 'sim', 'link', 'devices', 'overlay', 'migration', 'topo', 'vpc'];

function sources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

test('core modules import nothing from node: and use no Node-only globals', () => {
  const files = CORE.flatMap((d) => sources(repoPath(`src/${d}`)));
  assert.ok(files.length > 10, 'core sources found');
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    assert.doesNotMatch(text, /from ['"]node:|require\(|\bBuffer\b|\bprocess\./, file);
    for (const m of text.matchAll(/from ['"](\.\.?\/[^'"]+)['"]/g)) {
      assert.doesNotMatch(m[1]!, /\/(cli|api|linux)\//, `${file} imports ${m[1]}`);
    }
  }
});
