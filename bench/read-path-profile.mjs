// Read path: share of CPU time per function group in a V8 .cpuprofile (node --cpu-prof; read-path.mjs
// --profile DIR writes one per server). Self time is charged to the frame that was on top of
// the stack; a group is the npm package (node_modules/<pkg>), the buildgate folder
// (dist/src/<folder>), a Node internal area, or V8's own (GC, idle, program).
//
//   node bench/read-path-profile.mjs FILE.cpuprofile [--top 25] [--functions 15] [--inclusive] [--layers]
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
// --layers: groups folded into the layers a request passes through.
const LAYERS = process.argv.includes('--layers');
const LAYER = [
  [/^native: writev|^node: (_http|net|stream|streams|stream_base_commons|events|buffer|timers|async_hooks|process|url|querystring)|^native: (runMicrotasks|utf8Write|base64urlSlice)/, 'Node HTTP, sockets, streams, event loop (writev: the response syscall)'],
  [/^npm: (express|router|body-parser|raw-body|type-is|content-type|negotiator|parseurl|finalhandler|iconv-lite|whatwg-mimetype|media-typer|mime-types|qs|debug|on-finished|statuses|depd|http-errors|send|accepts|encodeurl|escape-html|fresh|range-parser|vary|content-disposition|cookie)$/, 'express, router, body parsing'],
  [/^npm: @apollo\/|^npm: @as-integrations/, 'Apollo Server pipeline'],
  [/^npm: graphql$|^npm: type-graphql|^npm: graphql-scalars|^npm: @escape\.tech/, 'graphql-js execution, validation (+ type-graphql)'],
  [/^buildgate: src\/(server|auth|limits|audit|metrics)|^npm: (prom-client|pino|rate-limiter-flexible)/, 'buildgate server, security, limits, metrics'],
  [/^buildgate: src\/(schema|providers|ids)|^npm: dataloader/, 'buildgate resolvers, loaders, providers'],
  [/^buildgate: src\/store|^native: all|^npm: (kysely|better-sqlite3|pg)/, 'store (SQLite statements, row mapping)'],
  [/^npm: lru-cache/, 'lru-cache'],
  [/^V8: garbage/, 'garbage collection'],
  [/^node: crypto|^native: (Hash|digest|randomUUID)/, 'crypto (hashes, UUIDs)'],
  [/^bench:/, 'the reference\'s own resolvers (bench)'],
];
const layerOf = (g) => LAYER.find(([re]) => re.test(g))?.[1] ?? 'other (V8 compiler, natives, rest)';
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));

function groupOf(frame) {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName === '(garbage collector)') return 'V8: garbage collection';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'V8: program (native, compiler)';
    if (functionName === '(root)') return 'root';
    // The inspector session of read-path-server.mjs writing the profile itself: not the server's work.
    if (functionName === 'dispatch') return 'idle';
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
let idle = 0;
for (const [id, us] of self) if (groupOf(nodes.get(id).callFrame) === 'idle') idle += us;
const busy = total - idle;

const byGroup = new Map();
const byFunction = new Map();
const inclusive = new Map();
for (const [id, us] of self) {
  const n = nodes.get(id);
  const g0 = groupOf(n.callFrame);
  const g = LAYERS && g0 !== 'idle' ? layerOf(g0) : g0;
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
for (const [f, us] of [...byFunction].filter(([f]) => !f.startsWith('(idle)') && !f.startsWith('dispatch ')).sort((a, b) => b[1] - a[1]).slice(0, FUNCTIONS)) {
  console.log(`| \`${f}\` | ${pct(us, busy)} |`);
}
