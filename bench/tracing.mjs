// What tracing costs per span site, off and on, against the bare call, in one run:
//   npm run build:server && node bench/tracing.mjs [--calls 1000000] [--rounds 5]
// "off" is the default (no tracing.otlpEndpoint): every helper tests one boolean and calls
// through. "on" records every span into an exporter that drops them (the SDK's own cost,
// without the network). Ratios compare the same moments: the three loops alternate per round.
import os from 'node:os';
import { traced } from '../dist/src/tracing/index.js';
import { startTracing } from '../dist/src/tracing/sdk.js';

const arg = (name, def) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : def; };
const CALLS = arg('calls', 1_000_000);
const ROUNDS = arg('rounds', 5);
const work = async () => 1;
const attrs = () => ({ 'http.request.method': 'GET', 'http.route': '/v1/build/:buildSeq' });

async function time(fn, calls) {
  const t = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await fn();
  return Number(process.hrtime.bigint() - t) / calls;
}
const bare = () => work();
const spanned = () => traced('GET /v1/build/:buildSeq', attrs, work);
const best = { bare: Infinity, off: Infinity, on: Infinity };
let tracing = null;
for (let r = 0; r < ROUNDS; r++) {
  best.bare = Math.min(best.bare, await time(bare, CALLS));
  best.off = Math.min(best.off, await time(spanned, CALLS));
  tracing = await startTracing({ serviceName: 'bench', sampleRatio: 1, exporter: { export: (_s, done) => done({ code: 0 }), shutdown: async () => {} } });
  best.on = Math.min(best.on, await time(spanned, Math.max(1, CALLS / 10)));
  await tracing.shutdown();
}
console.log(`${CALLS} calls × ${ROUNDS} rounds (best round), Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log('| span site | ns/call | × bare call |');
console.log('|---|---|---|');
for (const [k, v] of Object.entries(best)) console.log(`| ${k === 'bare' ? 'bare async call' : `traced(), tracing ${k}`} | ${v.toFixed(0)} | ${(v / best.bare).toFixed(2)}× |`);
