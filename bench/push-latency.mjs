// End of an upstream run → runUpdated DONE, with push (webhooks) and with polling only, in one run.
// Two gateways watch the very same runs of a fake Quay and a fake Cocktail over graphql-ws:
// "push" has a webhook secret per provider (Quay notifications registered to it through Quay's
// notification API; Cocktail runs started through it, so Cocktail calls its signed callback URL);
// "poll" has none (the reference). Both: live.pollMs 1 000 (default), upstream cache 5 000 ms.
// Latency = arrival of the DONE event − the upstream's end (the fakes' known instants).
// Run: npm run build:server && node bench/push-latency.mjs [--runs 20] [--poll 1000]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { parseConfig } from '../dist/src/config/index.js';
import { startServer } from '../dist/src/server/index.js';
import { fromGlobalId, toGlobalId } from '../dist/src/ids.js';
import { startFakeQuay, QUAY_BUILD_EVENTS } from '../dist/test/fakes/quay.js';
import { startFakeCocktail } from '../dist/test/fakes/cocktail.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' }, poll: { type: 'string', default: '1000' } } });
const RUNS = Number(values.runs);
const POLL = Number(values.poll);
const PHASE = 300;
const QUAY_SECRET = 'bench-quay-webhook-secret';
const COCKTAIL_SECRET = 'bench-cocktail-webhook-secret';

const quay = await startFakeQuay({ phaseMs: PHASE, seed: false });
quay.state.repos.set('demo/web', { description: 'bench', isPublic: true });
const cocktail = await startFakeCocktail({ stepMs: PHASE });
const dirs = [];

async function gateway(push) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-push-'));
  dirs.push(dir);
  const webhook = (secret) => (push ? { webhook: { secret, perMinute: 100_000 } } : {});
  const config = parseConfig({
    server: { port: 0, playground: false }, database: { url: `sqlite:${dir}/db.sqlite` }, log: { level: 'silent' }, demo: { seed: false },
    auth: { anonymous: 'admin' }, limits: { mutationsPerMinute: 0, wsConnectsPerMinute: 0 }, live: { pollMs: POLL },
    providers: [
      { id: 'quay', kind: 'QUAY', baseUrl: quay.url, cacheTtlMs: 5000, options: { token: quay.token, repositories: ['demo/web'] }, ...webhook(QUAY_SECRET) },
      { id: 'cocktail', kind: 'COCKTAIL', baseUrl: cocktail.url, cacheTtlMs: 5000, options: { token: cocktail.token }, ...webhook(COCKTAIL_SECRET) },
    ],
  });
  const server = await startServer(config, { logger: pino({ level: 'silent' }) });
  const client = createClient({ url: server.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
  return { server, client };
}

const pushGw = await gateway(true);
const pollGw = await gateway(false);
for (const event of QUAY_BUILD_EVENTS) {
  const res = await fetch(`${quay.url}/api/v1/repository/demo/web/notification/`, {
    method: 'POST', headers: { authorization: `Bearer ${quay.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ event, method: 'webhook', config: { url: `${pushGw.server.url.replace(/\/graphql$/, '')}/hooks/quay?token=${QUAY_SECRET}` }, eventConfig: {} }),
  });
  if (res.status !== 201) throw new Error(`registering the Quay notification: HTTP ${res.status}`);
}

const query = 'subscription($runId: ID!) { runUpdated(runId: $runId) { state } }';
/** Resolves with the arrival time of the first DONE event of the run on that gateway. */
const doneAt = (gw, runId) => new Promise((resolve, reject) => {
  let at = null;
  let last = null;
  gw.client.subscribe({ query, variables: { runId } }, {
    next: (v) => { last = v.data?.runUpdated.state ?? JSON.stringify(v.errors); if (at === null && last === 'DONE') at = Date.now(); },
    error: reject, complete: () => (at === null ? reject(new Error(`${runId}: completed without DONE (last: ${last})`)) : resolve(at)),
  });
});

const lat = { quay: { push: [], poll: [] }, cocktail: { push: [], poll: [] } };
const load = [];
const sampleLoad = setInterval(() => load.push(os.loadavg()[0]), 1000);

// Quay: builds ending at known instants, starts staggered by 97 ms so ends fall at every point of the poll interval.
await Promise.all(Array.from({ length: RUNS }, async (_, i) => {
  const b = quay.state.addBuild('demo/web', { tags: [`p${i}`], t0: Date.now() + 800 + i * 97 });
  const runId = toGlobalId('quay', 'BuildRun', `demo/web/${b.uuid}`);
  const ended = b.t0 + 6 * PHASE;
  const [p, q] = await Promise.all([doneAt(pushGw, runId), doneAt(pollGw, runId)]);
  lat.quay.push.push(p - ended);
  lat.quay.poll.push(q - ended);
}));

// Cocktail: runs started through the push gateway (so Cocktail holds its callback URL), 97 ms apart.
const buildId = toGlobalId('cocktail', 'Build', '1');
const mutation = 'mutation($i: RunBuildInput!) { runBuild(input: $i) { errors { message } run { id } } }';
const started = [];
for (let i = 0; i < RUNS; i++) {
  const res = await fetch(pushGw.server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: mutation, variables: { i: { buildId } } }) });
  const body = await res.json();
  if (!body.data?.runBuild?.run) throw new Error(`runBuild: ${JSON.stringify(body.errors ?? body.data?.runBuild?.errors)}`);
  const runId = body.data.runBuild.run.id;
  const runSeq = Number(fromGlobalId(runId, 'BuildRun').key.split(':')[1]);
  const run = cocktail.state.runs.get(runSeq);
  if (!run) throw new Error(`run ${runId} (${runSeq}) not in the fake`);
  started.push(Promise.all([doneAt(pushGw, runId), doneAt(pollGw, runId)]).then(([p, q]) => {
    const ended = cocktail.state.endAt(run);
    lat.cocktail.push.push(p - ended);
    lat.cocktail.poll.push(q - ended);
  }));
  await new Promise((r) => setTimeout(r, 97));
}
await Promise.all(started);
clearInterval(sampleLoad);

const q = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
console.log(`runs per provider ${RUNS}, live.pollMs ${POLL}, cacheTtlMs 5000, phase/step ${PHASE} ms; load average (1 min) ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)} on ${os.cpus().length} CPUs`);
console.log('provider   mode   p50 ms   p99 ms   max ms   p50 ratio to polling');
for (const [name, m] of Object.entries(lat)) {
  for (const mode of ['push', 'poll']) {
    const xs = m[mode];
    const ratio = (q(xs, 0.5) / q(m.poll, 0.5)).toFixed(2);
    console.log(`${name.padEnd(10)} ${mode.padEnd(5)} ${String(q(xs, 0.5)).padStart(7)} ${String(q(xs, 0.99)).padStart(8)} ${String(Math.max(...xs)).padStart(8)}   ${ratio}`);
  }
}
const hooks = quay.state.sent.filter((s) => s.status !== 202).length + cocktail.state.callbacks.filter((c) => c.status !== 202).length;
if (hooks) console.log(`webhooks not accepted: ${hooks}`);

for (const gw of [pushGw, pollGw]) { await gw.client.dispose(); await gw.server.close(); }
await quay.close();
await cocktail.close();
for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
