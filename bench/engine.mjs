// Native engine benchmarks on the real path: GraphQL runBuild over HTTP → engine → SHELL
// step → log writer → store. Run: npm run bench:engine [-- --lines 1000000 --runs 200 --db sqlite|postgres]
// --agents: the gateway queues runs (engine.runOn: agents, BullMQ on Redis) and a build agent
// (started here, same machine) executes them: the same figures through the queue.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import pg from 'pg';
import { parseConfig } from '../dist/src/config/index.js';
import { startServer } from '../dist/src/server/index.js';
import { startAgent } from '../dist/src/engine/agents.js';

const { values } = parseArgs({ options: { lines: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '200' }, db: { type: 'string', default: 'sqlite' }, agents: { type: 'boolean', default: false } } });
const REDIS_URL = process.env.BUILDGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const LINES = Number(values.lines);
const RUNS = Number(values.runs);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-bench-'));
let pgSchema;
let dbUrl = `sqlite:${dir}/bench.db`;
const PG_URL = process.env.BUILDGATE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
if (values.db === 'postgres') {
  pgSchema = `bg_bench_${process.pid}`;
  const c = new pg.Client({ connectionString: PG_URL }); await c.connect(); await c.query(`create schema ${pgSchema}`); await c.end();
  dbUrl = PG_URL;
}
const agentsMode = values.agents ? { redis: { url: REDIS_URL } } : {};
const config = parseConfig({ ...agentsMode, server: { port: 0, playground: false }, database: { url: dbUrl }, log: { level: 'silent' }, demo: { seed: false }, engine: { workDir: `${dir}/ws`, maxConcurrentRuns: 1, runOn: values.agents ? 'agents' : 'process' },
  // The bench is its own admin (the embedded default makes anonymous callers viewers), unthrottled.
  auth: { anonymous: 'admin' }, limits: { mutationsPerMinute: 0 } });
const server = await startServer(config, { logger: pino({ level: 'silent' }), pgSchema });
const agent = values.agents ? await startAgent(parseConfig({ ...agentsMode, database: { url: dbUrl }, log: { level: 'silent' }, engine: { workDir: `${dir}/agent-ws`, maxConcurrentRuns: 1 } }), { buildServerHosts: [], pgSchema, logger: pino({ level: 'silent' }) }) : null;
const gql = async (query, variables) => {
  const r = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const b = await r.json();
  if (b.errors) throw new Error(JSON.stringify(b.errors));
  return b.data;
};
const create = (name, command) => gql(`mutation($c: String!, $n: String!) { createBuild(input: { build: {name: $n, steps: [{stepOrder: 1, stepType: SHELL, shell: {shellType: COMMAND, command: $c}}]} }) { build { id } } }`, { c: command, n: name }).then((d) => d.createBuild.build.id);
const run = (id) => gql(`mutation($id: ID!) { runBuild(input: { buildId: $id }) { run { id key } } }`, { id }).then((d) => d.runBuild.run);
const db = server.store.db;
const waitDone = async (key) => {
  for (;;) {
    const r = await db.selectFrom('build_runs').select(['state', 'begin_time', 'end_time', 'last_seq']).where('id', '=', Number(key)).executeTakeFirst();
    if (r && ['DONE', 'ERROR', 'CANCELED'].includes(r.state)) return r;
    await new Promise((res) => setTimeout(res, 20));
  }
};
const pct = (arr, p) => { const s = [...arr].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };

// 1. Log ingestion: one SHELL step printing LINES lines.
const rssBefore = process.memoryUsage().rss;
// CPU time of this process (gateway: pipe reading, log writer, SQLite): on a loaded machine
// lines per CPU-second compare where wall-clock rates swing with the neighbours' load.
const cpuBefore = process.cpuUsage();
let peakRss = rssBefore;
const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 20);
const bigId = await create('log-ingest', `seq -f 'log line number %g of the ingestion benchmark' 1 ${LINES}`);
const t0 = Date.now();
const big = await run(bigId);
const done = await waitDone(big.key);
const t1 = Date.now();
const cpu = process.cpuUsage(cpuBefore);
clearInterval(sampler);
const step = await db.selectFrom('step_runs').select(['begin_time', 'end_time', 'state']).where('run_id', '=', Number(big.key)).executeTakeFirst();
const stored = await db.selectFrom('log_lines').select((eb) => eb.fn.countAll().as('n')).where('run_id', '=', Number(big.key)).where('stream', '=', 'STDOUT').executeTakeFirst();
// Persisted = committed: measured from step start to run end (the run ends after its log writer closed).
const stepMs = Number(done.end_time) - Number(step.begin_time);
const ingest = {
  db: values.db, lines: LINES, storedStdoutLines: Number(stored.n), state: done.state,
  secondsUntilAllStored: stepMs / 1000, linesPerSecond: Math.round(Number(stored.n) / (stepMs / 1000)),
  triggerToDoneSeconds: (t1 - t0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, linesPerCpuSecond: Math.round(Number(stored.n) / ((cpu.user + cpu.system) / 1e6)), peakRssMB: Math.round(peakRss / 1048576), rssBeforeMB: Math.round(rssBefore / 1048576),
};
console.log(JSON.stringify({ bench: 'log-ingestion', runOn: values.agents ? 'agents' : 'process', ...ingest }));

// 2. Trigger → first step RUNNING latency (HTTP request sent → step begin_time stored).
const quickId = await create('latency', 'true');
const lat = [];
for (let i = 0; i < RUNS; i++) {
  const start = Date.now();
  const r = await run(quickId);
  await waitDone(r.key);
  const s = await db.selectFrom('step_runs').select('begin_time').where('run_id', '=', Number(r.key)).executeTakeFirst();
  lat.push(Number(s.begin_time) - start);
}
console.log(JSON.stringify({ bench: 'trigger-latency', runOn: values.agents ? 'agents' : 'process', db: values.db, runs: RUNS, p50ms: pct(lat, 50), p99ms: pct(lat, 99), maxMs: Math.max(...lat) }));

await agent?.close();
await server.close();
if (pgSchema) { const c = new pg.Client({ connectionString: PG_URL }); await c.connect(); await c.query(`drop schema ${pgSchema} cascade`); await c.end(); }
fs.rmSync(dir, { recursive: true, force: true });
