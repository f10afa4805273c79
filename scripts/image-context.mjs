#!/usr/bin/env node
// Assembles the build context of the container image (Containerfile) from what
// `npm ci && npm run build` produced, without any network:
//
//   node scripts/image-context.mjs [OUT]        (default build/image)
//
//   OUT/app/     dist/, schema/, package.json, LICENSE and the production node_modules (npm ls --omit=dev)
//   OUT/rootfs/  this machine's Node binary at /usr/local/bin/node, the shared libraries it and the
//                native addons (better-sqlite3) link against (ldd), /etc/passwd and /etc/group with
//                the service user buildgate (10001), /tmp
//   OUT/data/    the empty volume directory (chowned to the service user in the image)
//
// The image is then FROM scratch: nothing to pull, and the same Node (20.x) the tests ran on.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.resolve(process.argv[2] ?? path.join(root, 'build/image'));
const app = path.join(out, 'app');
const rootfs = path.join(out, 'rootfs');

if (!fs.existsSync(path.join(root, 'dist/src/cli.js'))) {
  console.error('image-context: dist/src/cli.js is missing: run `npm run build` first');
  process.exit(2);
}
fs.rmSync(out, { recursive: true, force: true });
for (const d of [app, rootfs, path.join(out, 'data')]) fs.mkdirSync(d, { recursive: true });

// Build leftovers of native addons (object files, sources) are not needed at run time.
const SKIP = new Set(['obj', 'obj.target', '.deps', 'deps', 'src', '.bin']);
const copy = (from, to, opts = {}) => fs.cpSync(from, to, {
  recursive: true, dereference: true,
  filter: (src) => {
    const rel = path.relative(from, src);
    if (!rel) return true;
    const parts = rel.split(path.sep);
    // Nested node_modules are listed by npm ls on their own when they are production dependencies.
    if (parts.includes('node_modules')) return false;
    return !(opts.native && (parts.some((p) => SKIP.has(p)) || src.endsWith('.a')));
  },
});

// The application.
copy(path.join(root, 'dist'), path.join(app, 'dist'));
copy(path.join(root, 'schema'), path.join(app, 'schema'));
for (const f of ['package.json', 'LICENSE']) fs.copyFileSync(path.join(root, f), path.join(app, f));
const ls = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
const packages = ls.stdout.split('\n').map((l) => l.trim()).filter((l) => l && l !== root);
if (packages.length === 0) {
  console.error(`image-context: npm ls listed no production packages: ${ls.stderr}`);
  process.exit(1);
}
for (const p of packages) {
  const rel = path.relative(root, p);
  if (!rel.startsWith('node_modules')) continue;
  copy(p, path.join(app, rel), { native: fs.existsSync(path.join(p, 'binding.gyp')) });
}

// The runtime: Node and the libraries it and the addons load.
const node = fs.realpathSync(process.execPath);
fs.mkdirSync(path.join(rootfs, 'usr/local/bin'), { recursive: true });
fs.copyFileSync(node, path.join(rootfs, 'usr/local/bin/node'));
fs.chmodSync(path.join(rootfs, 'usr/local/bin/node'), 0o755);
const addons = execFileSync('find', [path.join(app, 'node_modules'), '-name', '*.node', '-type', 'f'], { encoding: 'utf8' }).split('\n').filter(Boolean);
const libs = new Set();
for (const bin of [node, ...addons]) {
  // Addons built for another libc (musl variants shipped beside glibc ones) are never loaded here: ldd refuses them.
  const deps = spawnSync('ldd', [bin], { encoding: 'utf8' });
  if (deps.status !== 0) continue;
  for (const line of deps.stdout.split('\n')) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m) libs.add(m[1]);
  }
}
for (const lib of libs) {
  const to = path.join(rootfs, lib);
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(fs.realpathSync(lib), to);
}
fs.mkdirSync(path.join(rootfs, 'etc'), { recursive: true });
fs.writeFileSync(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/sbin/nologin\nbuildgate:x:10001:10001:buildgate:/data:/sbin/nologin\n');
fs.writeFileSync(path.join(rootfs, 'etc/group'), 'root:x:0:\nbuildgate:x:10001:\n');
fs.mkdirSync(path.join(rootfs, 'tmp'));
fs.chmodSync(path.join(rootfs, 'tmp'), 0o1777);
console.log(JSON.stringify({ context: out, packages: packages.length, libraries: [...libs].length, node: process.version }));
