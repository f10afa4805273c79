// Share of CPU time per function group in a V8 .cpuprofile (node --cpu-prof; read-path.mjs
// --profile DIR writes one per server). Self time is charged to the frame that was on top of
// the stack; a group is the npm package (node_modules/<pkg>), the buildgate folder
// (dist/src/<folder>), a Node internal area, or V8's own (GC, idle, program).
//
//   node bench/profile-groups.mjs FILE.cpuprofile [--top 25] [--functions 15] [--inclusive]
//
// --inclusive adds, per group, the time spent with a frame of that group anywhere on the stack
// (so `express` includes the middleware it called).
import fs from 'node:fs';

const file = process.argv[2];
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const TOP = Number(arg('top', 25));
const FUNCTIONS = Number(arg('functions', 15));
const INCLUSIVE = process.argv.includes('--inclusive');
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));

function groupOf(frame) {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName === '(garbage collector)') return 'V8: garbage collection';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'V8: program (native, compiler)';
    if (functionName === '(root)') return 'root';
    return `native: ${functionName || '(anonymous)'}`;
  }
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return `npm: ${rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const src = url.indexOf('/dist/src/');
  if (src >= 0) {
    const rest = url.slice(src + '/dist/src/'.length).split('/');
    return `buildgate: src/${rest.length > 1 ? rest[0] : rest[0].replace(/\.js$/, '')}`;
  }
  if (url.startsWith('node:')) {
    const m = /^node:(internal\/)?([^/]+)/.exec(url);
    return `node: ${m?.[2] ?? url}`;
  }
  if (url.includes('/bench/')) return `bench: ${url.slice(url.indexOf('/bench/') + 1)}`;
  return url;
}

const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
// Sample counts per node from samples + timeDeltas (µs).
const self = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const idleId = profile.nodes.find((n) => n.callFrame.functionName === '(idle)')?.id;
const busy = total - (self.get(idleId) ?? 0);

const byGroup = new Map();
const byFunction = new Map();
const inclusive = new Map();
for (const [id, us] of self) {
  const n = nodes.get(id);
  const g = groupOf(n.callFrame);
  byGroup.set(g, (byGroup.get(g) ?? 0) + us);
  const f = `${n.callFrame.functionName || '(anonymous)'} ${g.replace(/^[^:]+: /, '')}:${n.callFrame.lineNumber + 1}`;
  byFunction.set(f, (byFunction.get(f) ?? 0) + us);
  if (INCLUSIVE) {
    const seen = new Set();
    for (let p = id; p !== undefined; p = parent.get(p)) seen.add(groupOf(nodes.get(p).callFrame));
    for (const s of seen) inclusive.set(s, (inclusive.get(s) ?? 0) + us);
  }
}

const pct = (us, of) => `${((100 * us) / of).toFixed(1)} %`;
console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy (shares below are of busy time)\n`);
console.log(`| group | self${INCLUSIVE ? ' | inclusive' : ''} |`);
console.log(`|---|---:${INCLUSIVE ? '|---:' : ''}|`);
for (const [g, us] of [...byGroup].filter(([g]) => g !== 'idle').sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
  console.log(`| ${g} | ${pct(us, busy)}${INCLUSIVE ? ` | ${pct(inclusive.get(g) ?? 0, busy)}` : ''} |`);
}
console.log(`\n| function (self) | share |\n|---|---:|`);
for (const [f, us] of [...byFunction].filter(([f]) => !f.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, FUNCTIONS)) {
  console.log(`| \`${f}\` | ${pct(us, busy)} |`);
}
