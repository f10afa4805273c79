#!/usr/bin/env node
/**
 * Builds the server (tsc → dist/src) and the playground (esbuild → dist/graphiql).
 * `--if-stale` (what `npm start` runs) skips a part whose inputs have not changed since its
 * last successful build, so a second start goes straight to the server: the playground
 * bundle alone takes most of a minute on a small machine.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const ifStale = process.argv.includes('--if-stale');

const parts = [
  {
    name: 'server',
    inputs: ['src', 'test/fakes', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'],
    outputs: ['dist/src/cli.js'],
    run: () => {
      if (spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' }).status !== 0) return false;
      fs.chmodSync(path.join(root, 'dist/src/cli.js'), 0o755);
      return true;
    },
  },
  {
    name: 'playground',
    inputs: ['client', 'scripts/build-client.mjs', 'package-lock.json'],
    outputs: ['dist/graphiql/main.js'],
    run: () => spawnSync(process.execPath, [path.join(root, 'scripts/build-client.mjs')], { cwd: root, stdio: 'inherit' }).status === 0,
  },
];

/** Newest modification time under `p` (a file or a directory tree), 0 when absent. */
function newest(p) {
  let st;
  try { st = fs.statSync(p); } catch { return 0; }
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs; // a deleted file shows only as its directory's change
  for (const e of fs.readdirSync(p)) max = Math.max(max, newest(path.join(p, e)));
  return max;
}

for (const part of parts) {
  const stamp = path.join(root, 'dist', `.${part.name}-built`);
  const built = newest(stamp);
  const upToDate = built > 0 && part.outputs.every((o) => fs.existsSync(path.join(root, o)))
    && part.inputs.every((i) => newest(path.join(root, i)) <= built);
  if (ifStale && upToDate) continue;
  // The stamp gets the time the build started: a file saved during the build counts as a change.
  const started = new Date();
  console.error(`building the ${part.name}…`);
  if (!part.run()) { console.error(`build: the ${part.name} failed to build`); process.exit(1); }
  fs.mkdirSync(path.dirname(stamp), { recursive: true });
  fs.writeFileSync(stamp, '');
  fs.utimesSync(stamp, started, started);
}
