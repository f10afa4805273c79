// Gateway overhead vs calling the upstream directly: the same data (a Quay repository's
// latest builds) fetched straight from the fake Quay over REST, and through buildgate's
// GraphQL (cache off, so every query makes the upstream call). Reports p50/p99 latency and
// requests/s at concurrency 1, 16, 64, and the ratios.
// Run: npm run build:server && node bench/overhead.mjs [--seconds 4]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { parseConfig } from '../dist/src/config/index.js';
import { startServer } from '../dist/src/server/index.js';
import { toGlobalId } from '../dist/src/ids.js';
import { startFakeQuay, QUAY_DEMO_TOKEN } from '../dist/test/fakes/quay.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '4' } } });
const SECONDS = Number(values.seconds);
const quay = await startFakeQuay({ phaseMs: 60_000 });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-overhead-'));
const config = parseConfig({
  server: { port: 0, playground: false }, database: { url: `sqlite:${dir}/db.sqlite` }, log: { level: 'silent' }, demo: { seed: false },
  auth: { anonymous: 'viewer' }, limits: { mutationsPerMinute: 0, wsConnectsPerMinute: 0 },
  providers: [{ id: 'quay', kind: 'QUAY', baseUrl: quay.url, cacheTtlMs: 0, options: { token: QUAY_DEMO_TOKEN, repositories: ['demo/api'] } }],
});
const server = await startServer(config, { logger: pino({ level: 'silent' }) });
const buildId = toGlobalId('quay', 'Build', 'demo/api');

const direct = async () => {
  const r = await fetch(`${quay.url}/api/v1/repository/demo/api/build/?limit=5`, { headers: { authorization: `Bearer ${QUAY_DEMO_TOKEN}` } });
  const b = await r.json();
  if (!Array.isArray(b.builds)) throw new Error('bad direct answer');
};
const query = `query($id: ID!) { build(id: $id) { runs(first: 5) { edges { node { key state rawState startedAt tagName } } } } }`;
const viaGateway = async () => {
  const r = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables: { id: buildId } }) });
  const b = await r.json();
  if (b.errors || !b.data.build.runs.edges.length) throw new Error(JSON.stringify(b.errors ?? b));
};

async function load(fn, concurrency) {
  const lat = [];
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      const t = performance.now();
      await fn();
      lat.push(performance.now() - t);
    }
  }));
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  return { n: lat.length, rps: Math.round(lat.length / SECONDS), p50: q(0.5), p99: q(0.99) };
}

await load(viaGateway, 4); // warm up JIT and keep-alive
await load(direct, 4);
const rows = [];
for (const c of [1, 16, 64]) {
  const d = await load(direct, c);
  const g = await load(viaGateway, c);
  rows.push({ concurrency: c, direct: d, gateway: g });
  console.log(JSON.stringify({ concurrency: c, directRps: d.rps, gatewayRps: g.rps, directP50: +d.p50.toFixed(2), gatewayP50: +g.p50.toFixed(2), directP99: +d.p99.toFixed(2), gatewayP99: +g.p99.toFixed(2), p50Ratio: +(g.p50 / d.p50).toFixed(2), p99Ratio: +(g.p99 / d.p99).toFixed(2), rpsRatio: +(g.rps / d.rps).toFixed(2) }));
}
await server.close();
await quay.close();
fs.rmSync(dir, { recursive: true, force: true });
