// Upstream change → runUpdated latency with polling: 20 Quay builds (fake; each ends at a known
// instant, t0 + 6 phases) watched over graphql-ws through a real gateway with the upstream
// cache on (cacheTtlMs 5 000); latency = arrival of the DONE event − the upstream's end.
// Run: npm run build:server && node bench/live-latency.mjs [--runs 20] [--poll 1000]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { parseConfig } from '../dist/src/config/index.js';
import { startServer } from '../dist/src/server/index.js';
import { toGlobalId } from '../dist/src/ids.js';
import { startFakeQuay, QUAY_DEMO_TOKEN } from '../dist/test/fakes/quay.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' }, poll: { type: 'string', default: '1000' } } });
const RUNS = Number(values.runs);
const POLL = Number(values.poll);
const PHASE = 300;
const quay = await startFakeQuay({ phaseMs: PHASE });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-live-'));
const config = parseConfig({
  server: { port: 0, playground: false }, database: { url: `sqlite:${dir}/db.sqlite` }, log: { level: 'silent' }, demo: { seed: false },
  auth: { anonymous: 'viewer' }, limits: { mutationsPerMinute: 0, wsConnectsPerMinute: 0 }, live: { pollMs: POLL },
  providers: [{ id: 'quay', kind: 'QUAY', baseUrl: quay.url, cacheTtlMs: 5000, options: { token: QUAY_DEMO_TOKEN, repositories: ['demo/web'] } }],
});
const server = await startServer(config, { logger: pino({ level: 'silent' }) });
const client = createClient({ url: server.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
const query = 'subscription($runId: ID!) { runUpdated(runId: $runId) { state } }';

const lat = [];
await Promise.all(Array.from({ length: RUNS }, async (_, i) => {
  // Staggered starts, so ends fall at every phase of the poll interval.
  const b = quay.state.addBuild('demo/web', { tags: [`l${i}`], t0: Date.now() + 500 + i * 97 });
  const runId = toGlobalId('quay', 'BuildRun', `demo/web/${b.uuid}`);
  const ended = b.t0 + 6 * PHASE;
  await new Promise((resolve, reject) => {
    client.subscribe({ query, variables: { runId } }, {
      next: (v) => { if (v.data?.runUpdated.state === 'DONE') lat.push(Date.now() - ended); },
      error: reject, complete: resolve,
    });
  });
}));
lat.sort((a, b) => a - b);
const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
console.log(`${lat.length} runs, pollMs ${POLL}, cacheTtlMs 5000: end → DONE event p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${lat.at(-1)} ms (target p99 ≤ pollMs + 300 = ${POLL + 300})`);
await client.dispose();
await server.close();
await quay.close();
fs.rmSync(dir, { recursive: true, force: true });
