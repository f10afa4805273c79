// One server of the read-path benchmark, in a process of its own (started by read-path.mjs):
//   reference  an Apollo Server 5 serving the same shapes from memory (no buildgate code)
//   sqlite     buildgate (dist/) on a fresh SQLite file
//   postgres   buildgate (dist/) on a fresh PostgreSQL schema
//   sqlite-traced, postgres-traced  the same with OpenTelemetry tracing on, spans batched over
//              OTLP/HTTP to a sink in this process that answers 200 (what tracing costs when on)
// Each holds the same data: BUILDS builds × 3 runs × 4 step runs. Prints {"url"} on stdout
// once ready; answers the IPC message "statements" with the store's statement counter, RSS and
// the process's CPU time so far.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [kind, buildsArg] = process.argv.slice(2);
const BUILDS = Number(buildsArg ?? 100);
const RUNS = 3;
const STEPS = 4;
const T0 = 1_760_000_000_000;
const name = (i) => `build-${String(i).padStart(4, '0')}`;

async function reference() {
  const { ApolloServer } = await import('@apollo/server');
  const { startStandaloneServer } = await import('@apollo/server/standalone');
  const typeDefs = `#graphql
    enum RunState { QUEUED RUNNING DONE ERROR CANCELED }
    enum BuildSort { NAME LAST_RUN_TIME }
    enum SortOrder { ASC DESC }
    input BuildFilterInput { nameContains: String lastRunStates: [RunState!] }
    type Query { builds(providerIds: [String!], filter: BuildFilterInput, sort: BuildSort = NAME, order: SortOrder = ASC, first: Int, after: String): BuildConnection! }
    type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }
    type Provider { id: ID! providerId: String! kind: String! }
    type BuildStats { runCount: Int! runningCount: Int! doneCount: Int! errorCount: Int! tagCount: Int! averageDurationMs: Int }
    type StepRun { id: ID! title: String state: String! }
    type BuildRun { id: ID! buildNo: Int state: RunState! rawState: String! startedAt: String durationMs: Int tagName: String steps: [StepRun!]! }
    type BuildRunEdge { cursor: String! node: BuildRun! }
    type BuildRunConnection { edges: [BuildRunEdge!]! pageInfo: PageInfo! totalCount: Int }
    type Build { id: ID! key: String! name: String! provider: Provider! stats: BuildStats lastRun: BuildRun runs(first: Int, after: String): BuildRunConnection! }
    type BuildEdge { cursor: String! node: Build! }
    type BuildConnection { edges: [BuildEdge!]! pageInfo: PageInfo! totalCount: Int }
  `;
  const provider = { id: 'native', providerId: 'native', kind: 'NATIVE' };
  let runId = 0;
  let stepId = 0;
  const builds = Array.from({ length: BUILDS }, (_v, i) => {
    const runs = Array.from({ length: RUNS }, (_w, r) => ({
      id: `run-${++runId}`, buildNo: RUNS - r, state: 'DONE', rawState: 'DONE', startedAt: new Date(T0 + runId * 1000).toISOString(), durationMs: 30000, tagName: null,
      steps: Array.from({ length: STEPS }, (_x, s) => ({ id: `step-${++stepId}`, title: `step ${s + 1}`, state: 'DONE' })),
    }));
    return {
      id: `build-${i + 1}`, key: String(i + 1), name: name(i), provider, runs, lastRun: runs[0],
      stats: { runCount: RUNS, runningCount: 0, doneCount: RUNS, errorCount: 0, tagCount: 0, averageDurationMs: 30000 },
    };
  });
  const page = (items, first, after) => {
    const start = after ? Number(Buffer.from(after, 'base64url').toString()) + 1 : 0;
    const slice = items.slice(start, start + (first ?? 20));
    const edges = slice.map((node, i) => ({ cursor: Buffer.from(String(start + i)).toString('base64url'), node }));
    return { edges, totalCount: items.length, pageInfo: { hasNextPage: start + slice.length < items.length, hasPreviousPage: start > 0, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null } };
  };
  const resolvers = {
    Query: { builds: (_r, a) => page(builds, a.first, a.after) },
    Build: { runs: (b, a) => page(b.runs, a.first, a.after) },
  };
  const server = new ApolloServer({ typeDefs, resolvers });
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
  return { url, statements: () => 0 };
}

/** An OTLP/HTTP collector that takes every batch and keeps nothing. */
async function otlpSink() {
  const http = await import('node:http');
  const sink = http.createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}')); });
  await new Promise((r) => sink.listen(0, '127.0.0.1', r));
  sink.unref();
  return `http://127.0.0.1:${sink.address().port}/v1/traces`;
}

async function buildgate(database, traced = false) {
  const pino = (await import('pino')).default;
  const { parseConfig } = await import('../dist/src/config/index.js');
  const { startServer } = await import('../dist/src/server/index.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bg-read-${database}-`));
  let pgSchema;
  let url = `sqlite:${dir}/b.db`;
  if (database === 'postgres') {
    const pg = (await import('pg')).default;
    url = process.env.BUILDGATE_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    pgSchema = `bg_bench_${process.pid}`;
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`create schema ${pgSchema}`);
    await c.end();
  }
  const config = parseConfig({
    server: { port: 0, playground: false }, database: { url }, log: { level: 'silent' }, demo: { seed: false },
    engine: { workDir: `${dir}/ws` }, auth: { anonymous: 'admin' }, limits: { wsConnectsPerMinute: 0, mutationsPerMinute: 0 },
    ...(traced ? { tracing: { otlpEndpoint: await otlpSink() } } : {}),
  });
  const server = await startServer(config, { logger: pino({ level: 'silent' }), pgSchema });
  // The gateway's own stores (they hold its secrets key).
  const { builds: store, runs } = server.services.registry.get('native');
  for (let i = 0; i < BUILDS; i++) {
    const b = await store.create({
      name: name(i),
      steps: Array.from({ length: STEPS }, (_v, s) => ({ stepOrder: s + 1, useFlag: true, config: { stepType: 'SHELL', stepTitle: `step ${s + 1}`, shellType: 'COMMAND', command: 'true' } })),
    });
    for (let r = 0; r < RUNS; r++) {
      const id = await runs.createRun(b.key, {
        run_type: 'BUILD', state: 'QUEUED', description: null, callback_url: null, callback_status: null, image_url: null, image_size: null, image_digest: null,
        trigger: 'API', triggered_by: null, source_revision: null, error_message: null, begin_time: null, end_time: null, created_at: T0,
      }, b.steps, () => null);
      await runs.updateRun(id, { state: 'DONE', begin_time: T0 + id * 1000, end_time: T0 + id * 1000 + 30_000 });
      await runs.updateStepRunsInState(id, 'WAIT', { state: 'DONE' });
    }
  }
  const cleanup = async () => {
    await server.close();
    if (pgSchema) {
      const pg = (await import('pg')).default;
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`drop schema if exists ${pgSchema} cascade`);
      await c.end();
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { url: server.url, statements: () => server.store.statements?.count ?? null, cleanup };
}

const s = kind === 'reference' ? await reference() : await buildgate(kind.replace(/-traced$/, ''), kind.endsWith('-traced'));
// CPU profile of the timed load only (start-up and seeding left out): {profile: 'start'}, then
// {profile: 'stop', file} writes the .cpuprofile there.
let inspector = null;
process.on('message', async (m) => {
  if (m === 'statements') {
    const cpu = process.cpuUsage();
    process.send({ statements: s.statements(), rss: process.memoryUsage().rss, cpuMicros: cpu.user + cpu.system });
  }
  if (m?.profile === 'start') {
    const { Session } = await import('node:inspector/promises');
    inspector = new Session();
    inspector.connect();
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.setSamplingInterval', { interval: 250 });
    await inspector.post('Profiler.start');
    process.send({ profiling: true });
  }
  if (m?.profile === 'stop') {
    const { profile } = await inspector.post('Profiler.stop');
    fs.writeFileSync(m.file, JSON.stringify(profile));
    inspector.disconnect();
    inspector = null;
    process.send({ profiled: m.file });
  }
  if (m === 'stop') {
    await s.cleanup?.();
    process.exit(0);
  }
});
process.stdout.write(`${JSON.stringify({ url: s.url })}\n`);
