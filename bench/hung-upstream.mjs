// A hung upstream behind the gateway: the four fake upstreams, one of them (Zadig) stops
// answering. Measures BuildsList (all providers) time: healthy (reference), each query while
// the hung provider's breaker is closed (each costs at most its read deadline), once open
// (fails fast), and the time from the upstream answering again to its rows being back.
// Run: npm run build:server && node bench/hung-upstream.mjs [--deadline 5000] [--reset 30000]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { parseConfig } from '../dist/src/config/index.js';
import { startServer } from '../dist/src/server/index.js';
import { startDemoUpstreams } from '../dist/src/demo/upstreams.js';

const { values } = parseArgs({ options: { deadline: { type: 'string', default: '5000' }, reset: { type: 'string', default: '30000' } } });
const DEADLINE = Number(values.deadline);
const RESET = Number(values.reset);
const demo = await startDemoUpstreams({ pace: 'test' });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-hung-'));
// Defaults otherwise: timeoutMs 10 000, retries 2, breaker volumeThreshold 5, window sized to the deadline.
const providers = demo.instances.map((i) => ({ ...i, cacheTtlMs: 0, timeoutMs: 10_000, retries: 2, deadlineMs: DEADLINE, breaker: { resetTimeoutMs: RESET } }));
const config = parseConfig({
  server: { port: 0, playground: false }, database: { url: `sqlite:${dir}/db.sqlite` }, log: { level: 'silent' }, demo: { seed: false },
  auth: { anonymous: 'viewer' }, limits: { mutationsPerMinute: 0, wsConnectsPerMinute: 0 }, providers,
});
const server = await startServer(config, { logger: pino({ level: 'silent' }) });
const LIST = fs.readFileSync(new URL('../schema/operations/01-builds-list.graphql', import.meta.url), 'utf8');

async function list(providers = null) {
  const t = performance.now();
  const r = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: LIST, variables: { first: 50, providerIds: providers } }) });
  const b = await r.json();
  const ms = performance.now() - t;
  const zadigRows = (b.data?.builds?.edges ?? []).filter((e) => e.node.provider.providerId === 'zadig-demo').length;
  const otherRows = (b.data?.builds?.edges ?? []).length - zadigRows;
  const code = (b.errors ?? []).find((e) => e.extensions?.providerId === 'zadig-demo')?.extensions?.code ?? null;
  return { ms, zadigRows, otherRows, code };
}
const circuit = async () => {
  const r = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ providers { providerId health { circuitState } } }' }) });
  return (await r.json()).data.providers.find((p) => p.providerId === 'zadig-demo').health.circuitState;
};
const fmt = (x) => x.toFixed(1);

for (let i = 0; i < 5; i++) await list(); // warm up
const healthy = [];
for (let i = 0; i < 20; i++) healthy.push((await list()).ms);
healthy.sort((a, b) => a - b);
console.log(`healthy BuildsList: p50 ${fmt(healthy[10])} ms, max ${fmt(healthy.at(-1))} ms`);
const healthyZ = [];
for (let i = 0; i < 20; i++) healthyZ.push((await list(['zadig-demo'])).ms);
healthyZ.sort((a, b) => a - b);
console.log(`healthy BuildsList of zadig-demo alone: p50 ${fmt(healthyZ[10])} ms`);

demo.fakes.zadig.fake.fault({ kind: 'timeout', times: Infinity });
const hungStart = performance.now();
const closed = [];
for (let i = 0; i < 20 && (await circuit()) !== 'OPEN'; i++) {
  const r = await list();
  closed.push(r);
  console.log(`hung, breaker closed: query ${i + 1}: ${fmt(r.ms)} ms, zadig ${r.code}, other rows ${r.otherRows}`);
}
console.log(`breaker open after ${closed.length} queries, ${fmt(performance.now() - hungStart)} ms`);
const open = [];
for (let i = 0; i < 20; i++) open.push(await list());
const openMs = open.map((r) => r.ms).sort((a, b) => a - b);
const openZ = [];
for (let i = 0; i < 20; i++) openZ.push((await list(['zadig-demo'])).ms);
openZ.sort((a, b) => a - b);
console.log(`hung, breaker open, zadig-demo alone: p50 ${fmt(openZ[10])} ms, max ${fmt(openZ.at(-1))} ms`);
console.log(`hung, breaker open: p50 ${fmt(openMs[10])} ms, max ${fmt(openMs.at(-1))} ms, zadig ${open[0].code}, other rows ${open[0].otherRows}`);

demo.fakes.zadig.fake.clearFaults();
const back = performance.now();
let recovered = null;
while (performance.now() - back < RESET + 3 * DEADLINE + 5000) {
  const r = await list();
  if (r.zadigRows > 0) { recovered = performance.now() - back; break; }
  await new Promise((res) => setTimeout(res, 100));
}
console.log(`upstream answering again → its rows back: ${recovered === null ? 'not within the wait' : `${fmt(recovered)} ms`} (resetTimeoutMs ${RESET}); circuit ${await circuit()}`);
await server.close();
await demo.stop();
fs.rmSync(dir, { recursive: true, force: true });
