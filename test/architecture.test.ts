/** The layers hold: the core (wire/ sim/ link/ devices/ overlay/ migration/ topo/ vpc/) runs in a browser (no `node:` imports, no Node globals), and every import in src/ points down the layers. */
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
      assert.doesNotMatch(m[1]!, /\/(cli|api|store|linux)\//, `${file} imports ${m[1]}`);
    }
  }
});

/**
 * The layers, bottom up: a module imports from its own layer and the layers below it, never above.
 * `linux/` and `web/` (when they come) sit beside `cli/`: on top of everything, below nothing.
 */
const LAYERS = [
  'wire',
  'sim',
  'link',
  'devices',
  'overlay',
  'migration',
  'topo',
  'vpc',
  'store',
  'api',
  'cli',
];
const BESIDE_CLI = ['linux', 'web'];
const rank = (layer: string) => (BESIDE_CLI.includes(layer) ? LAYERS.length - 1 : LAYERS.indexOf(layer));

/** The imports of `text` (the file at `path`, relative to src/) that point up the layers. */
function upwardImports(path: string, text: string): string[] {
  const layer = path.split('/')[0]!;
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.\.?\/[^'"]+)['"]/g)) {
    const target = join(path, '..', m[1]!);
    const to = target.split('/')[0]!;
    if (rank(to) > rank(layer)) out.push(`${path} imports ${target} (${layer} -> ${to})`);
  }
  return out;
}

test('every import in src/ points down the layers (or within its own)', () => {
  const src = repoPath('src');
  const layers = readdirSync(src, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  for (const layer of layers) assert.ok(rank(layer) >= 0, `src/${layer}/ is in no layer of this test`);
  const upward = layers.flatMap((layer) =>
    sources(join(src, layer)).flatMap((file) =>
      upwardImports(file.slice(src.length + 1), readFileSync(file, 'utf8')),
    ),
  );
  assert.deepEqual(upward, []);
});

test('the layer check catches an upward import, and lets downward and sideways ones pass', () => {
  assert.deepEqual(upwardImports('wire/ipv4.ts', "import { x } from '../devices/ip/ip-node.js';"), [
    'wire/ipv4.ts imports devices/ip/ip-node.js (wire -> devices)',
  ]);
  assert.deepEqual(upwardImports('vpc/apply/vrf.ts', "import type { R } from '../../api/server.js';"), [
    'vpc/apply/vrf.ts imports api/server.js (vpc -> api)',
  ]);
  assert.deepEqual(upwardImports('overlay/nve.ts', "import { R } from '../devices/router/router.js';"), []);
  assert.deepEqual(upwardImports('cli/main.ts', "import { w } from '../web/index.js';"), []);
  assert.ok(
    LAYERS.every((l) => existsSync(repoPath(`src/${l}`))),
    'every layer has its folder',
  );
});
