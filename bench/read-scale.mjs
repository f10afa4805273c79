// Read path at scale: BuildsList over a large native store (SQLite), one client.
//
//   npm run build:server && node bench/read-scale.mjs [--builds 10000] [--runs 1000000] [--requests 200] [--keep FILE]
//
// Seeds a fresh SQLite store (migrated by the gateway's own code, then filled in one
// transaction with prepared inserts: builds with 2 steps each, runs spread over the builds
// in time order, one image tag per 10 runs), starts the compiled gateway on it in a child
// process, sends `schema/operations/01-builds-list.graphql` (`first: 50`) one request after
// the other and prints p50 / p99, the gateway's RSS, and EXPLAIN QUERY PLAN of every
// statement the request ran (captured from the gateway's own prepared reads).
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const BUILDS_LIST = fs.readFileSync(path.join(here, '../schema/operations/01-builds-list.graphql'), 'utf8');
const T0 = 1_760_000_000_000;

if (process.argv[2] === '--serve') {
  // The gateway, in a process of its own (its RSS is what is reported).
  const file = process.argv[3];
  const pino = (await import('pino')).default;
  const { parseConfig } = await import('../dist/src/config/index.js');
  const { startServer } = await import('../dist/src/server/index.js');
  const config = parseConfig({
    server: { port: 0, playground: false }, database: { url: `sqlite:${file}` }, log: { level: 'silent' }, demo: { seed: false },
    engine: { workDir: `${path.dirname(file)}/ws` }, auth: { anonymous: 'admin' },
  });
  const server = await startServer(config, { logger: pino({ level: 'silent' }) });
  // Every statement text the store prepares, with the parameters it last ran with.
  const seen = new Map();
  const sqlite = server.store.sqlite;
  const prepare = sqlite.prepare.bind(sqlite);
  sqlite.prepare = (source) => {
    const stmt = prepare(source);
    if (!/^\s*select/i.test(source) || !stmt.reader) return stmt;
    const all = stmt.all.bind(stmt);
    stmt.all = (...params) => {
      const t = performance.now();
      const rows = all(...params);
      const s = seen.get(source) ?? { ms: 0, n: 0 };
      seen.set(source, { params, ms: s.ms + performance.now() - t, n: s.n + 1 });
      return rows;
    };
    return stmt;
  };
  process.on('message', (m) => {
    if (m === 'rss') process.send({ rss: process.memoryUsage().rss });
    if (m === 'reset') { seen.clear(); process.send({ ok: true }); }
    if (m === 'plans') {
      const plans = [...seen].map(([source, { params, ms, n }]) => ({
        source: source.replace(/\s+/g, ' ').trim(), ms: ms / n,
        plan: prepare(`explain query plan ${source}`).all(...params).map((r) => `${'  '.repeat(Math.max(0, depth(r)))}${r.detail}`),
      }));
      process.send({ plans });
    }
    if (m === 'stop') server.close().then(() => process.exit(0));
  });
  const parents = new Map();
  function depth(r) {
    const d = r.parent === 0 ? 0 : (parents.get(r.parent) ?? 0) + 1;
    parents.set(r.id, d);
    return d;
  }
  process.send({ url: server.url });
} else {
  const BUILDS = Number(arg('builds', 10_000));
  const RUNS = Number(arg('runs', 1_000_000));
  const REQUESTS = Number(arg('requests', 200));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-scale-'));
  const file = arg('keep', null) ?? path.join(dir, 'scale.db');

  if (!fs.existsSync(file) || fs.statSync(file).size === 0) {
    const { openMigratedStore } = await import('../dist/src/store/open.js');
    const store = await openMigratedStore(`sqlite:${file}`);
    await store.close();
    const SQLite = (await import('better-sqlite3')).default;
    const db = new SQLite(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    const t = performance.now();
    const build = db.prepare(`insert into builds (id, name, description, autotag_use, build_server_tls_verify, secrets, next_build_no, created_at, updated_at)
      values (?, ?, null, 0, 1, '{}', ?, ?, ?)`);
    const step = db.prepare(`insert into build_steps (build_id, step_order, step_type, use_flag, config, secrets) values (?, ?, 'SHELL', 1, ?, '{"fields":{},"headers":{}}')`);
    const run = db.prepare(`insert into build_runs (id, build_id, build_no, run_type, state, trigger, begin_time, end_time, created_at, image_size, last_seq)
      values (?, ?, ?, 'BUILD', ?, 'API', ?, ?, ?, ?, 0)`);
    const tag = db.prepare('insert into image_tags (build_id, run_id, tag, image_name, size, begin_time, end_time) values (?, ?, ?, ?, ?, ?, ?)');
    const states = ['DONE', 'DONE', 'DONE', 'DONE', 'DONE', 'DONE', 'DONE', 'ERROR', 'ERROR', 'CANCELED'];
    db.transaction(() => {
      const perBuild = Math.ceil(RUNS / BUILDS);
      for (let b = 1; b <= BUILDS; b++) {
        build.run(b, `build-${String((b * 7919) % BUILDS).padStart(5, '0')}-${b}`, perBuild + 1, T0, T0);
        for (let s = 1; s <= 2; s++) step.run(b, s, JSON.stringify({ stepType: 'SHELL', stepTitle: `step ${s}`, shellType: 'COMMAND', command: 'true' }));
      }
      const buildNo = new Int32Array(BUILDS + 1);
      for (let r = 1; r <= RUNS; r++) {
        // Runs spread over the builds in time order, as they arrive: a build's runs are not contiguous.
        const b = ((r * 7919) % BUILDS) + 1;
        const no = ++buildNo[b];
        const begin = T0 + r * 1000;
        // All ended: a RUNNING run of no live process is ended ERROR by the gateway at start.
        run.run(r, b, no, states[(r * 31) % states.length], begin, begin + 30_000, begin, 1_000_000 + (r % 1000));
        if (r % 10 === 0) tag.run(b, r, `v${no}`, `img/${b}`, 1_000_000 + (r % 1000), begin, begin + 30_000);
      }
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.exec('analyze');
    db.close();
    console.error(`seeded ${BUILDS} builds, ${RUNS} runs, ${RUNS / 10} image tags in ${((performance.now() - t) / 1000).toFixed(1)} s (${(fs.statSync(file).size / 1e6).toFixed(0)} MB)`);
  }

  const child = fork(fileURLToPath(import.meta.url), ['--serve', file], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ask = (m) => new Promise((resolve) => { child.once('message', resolve); child.send(m); });
  const { url } = await new Promise((resolve) => child.once('message', resolve));
  const post = async (body) => {
    const t = performance.now();
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const json = await res.json();
    if (json.errors) throw new Error(JSON.stringify(json.errors).slice(0, 400));
    return { ms: performance.now() - t, json };
  };
  const rows = [];
  for (const [name, variables] of [
    ['BuildsList first: 50 (NAME ASC)', { first: 50 }],
    ['BuildsList first: 50, LAST_RUN_TIME DESC', { first: 50, sort: 'LAST_RUN_TIME', order: 'DESC' }],
    ['BuildsList first: 50, lastRunStates: [ERROR]', { first: 50, filter: { lastRunStates: ['ERROR'] } }],
  ]) {
    const body = { query: BUILDS_LIST, variables };
    for (let i = 0; i < 5; i++) await post(body); // warm-up: statements prepared, pages in the OS cache
    await ask('reset');
    const ms = [];
    let last;
    for (let i = 0; i < REQUESTS; i++) { last = await post(body); ms.push(last.ms); }
    ms.sort((a, b) => a - b);
    const q = (p) => ms[Math.min(ms.length - 1, Math.floor(ms.length * p))];
    const { plans } = await ask('plans');
    const { rss } = await ask('rss');
    rows.push({ name, p50: q(0.5), p99: q(0.99), rss, edges: last.json.data.builds.edges.length, total: last.json.data.builds.totalCount, plans });
    console.error(`${name}: p50 ${q(0.5).toFixed(1)} ms, p99 ${q(0.99).toFixed(1)} ms, RSS ${(rss / 1e6).toFixed(0)} MB`);
  }
  child.send('stop');
  await new Promise((r) => child.once('exit', r));
  if (!arg('keep', null)) fs.rmSync(dir, { recursive: true, force: true });

  console.log(`\n${BUILDS} builds, ${RUNS} runs (SQLite), one client, ${REQUESTS} sequential requests per row after 5 warm-up; load average (1 min) at the end: ${os.loadavg()[0].toFixed(1)}.\n`);
  console.log('| query | rows / totalCount | p50 ms | p99 ms | gateway RSS MB |\n|---|---|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.name} | ${r.edges} / ${r.total} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${(r.rss / 1e6).toFixed(0)} |`);
  for (const r of rows) {
    console.log(`\n**${r.name}** — query plans:\n`);
    for (const p of r.plans) console.log(`\`${p.source.slice(0, 160)}${p.source.length > 160 ? '…' : ''}\` — ${p.ms.toFixed(2)} ms per execution\n\n\`\`\`\n${p.plan.join('\n')}\n\`\`\`\n`);
  }
}
