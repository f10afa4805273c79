// Share of a CPU profile's busy time per function group (self time), for bench/README.md.
// Run: node bench/profile-groups.mjs FILE.cpuprofile [more…]  (from node --cpu-prof; idle excluded)
import fs from 'node:fs';

/** First matching group wins: url patterns, then native functions by name. */
const GROUPS = [
  ['GC', (f) => f.functionName === '(garbage collector)'],
  ['socket writes (writev/write syscalls)', (f) => !f.url && /^(writev|writeBuffer|writeUtf8String|writeLatin1String|writeAsciiString|writeGeneric|writevGeneric)$/.test(f.functionName)],
  ['socket reads + parse (ws receiver)', (f) => /node_modules\/ws\/lib\/(receiver|buffer-util|validation)/.test(f.url) || (!f.url && /^(onStreamRead|readStop|readStart)$/.test(f.functionName))],
  ['ws sender / websocket.send', (f) => /node_modules\/ws\//.test(f.url)],
  ['graphql-ws', (f) => /node_modules\/graphql-ws\//.test(f.url)],
  ['graphql-js execute', (f) => /node_modules\/graphql\//.test(f.url)],
  ['type-graphql', (f) => /node_modules\/type-graphql\//.test(f.url)],
  ['live (src/live)', (f) => /\/src\/live\//.test(f.url)],
  ['ws transport (src/server)', (f) => /\/src\/server\//.test(f.url)],
  ['resolvers (src/schema)', (f) => /\/src\/schema\//.test(f.url)],
  ['engine + store (child pipe, log writer, SQLite)', (f) => /\/src\/(engine|store)\//.test(f.url) || /better-sqlite3|kysely/.test(f.url) || (!f.url && /^(run|all|get|prepare|step)$/.test(f.functionName))],
  ['other buildgate', (f) => /\/dist\/src\//.test(f.url)],
  ['bench harness', (f) => /\/bench\//.test(f.url)],
  ['node net/stream internals', (f) => /node:(internal\/)?(net|stream|streams\/|internal\/stream_base_commons|buffer)/.test(f.url)],
  ['promises/microtasks/timers', (f) => /node:internal\/(process\/task_queues|timers|async_hooks)/.test(f.url) || (!f.url && /^(runMicrotasks|processTicksAndRejections)$/.test(f.functionName))],
  ['JSON/strings (native)', (f) => !f.url && /^(stringify|parse|toString|from|slice|endsWith|concat)$/.test(f.functionName)],
  ['(program): native, not attributed', (f) => f.functionName === '(program)'],
  ['other node internals', (f) => /^node:/.test(f.url)],
  ['other', () => true],
];

for (const file of process.argv.slice(2)) {
  const p = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  // The first delta runs from the profiler's start call: not a sample of the workload.
  for (let i = 1; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  const groups = new Map();
  const fns = new Map();
  let busy = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const f = byId.get(id).callFrame;
    if (f.functionName === '(idle)') { idle += us; continue; }
    busy += us;
    const g = GROUPS.find(([, m]) => m(f))[0];
    groups.set(g, (groups.get(g) ?? 0) + us);
    const k = `${f.functionName || '(anon)'} ${f.url.replace(/^.*\/(node_modules|dist)\//, '')}:${f.lineNumber}`;
    fns.set(k, (fns.get(k) ?? 0) + us);
  }
  const total = busy + idle;
  console.log(`\n${file}: ${(total / 1e6).toFixed(1)} s profiled, busy ${(100 * busy / total).toFixed(0)} %`);
  console.log('| group | share of busy CPU |\n|---|---:|');
  for (const [g, us] of [...groups].sort((a, b) => b[1] - a[1])) console.log(`| ${g} | ${(100 * us / busy).toFixed(1)} % |`);
  if (process.env.TOP) {
    console.log('\ntop functions (self):');
    for (const [k, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP))) console.log(`${(100 * us / busy).toFixed(1).padStart(5)} %  ${k}`);
  }
}
