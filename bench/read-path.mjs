// Read path: buildgate (SQLite, PostgreSQL) against an Apollo Server 5 serving the same shapes
// from memory, all in one run. Each server runs in a process of its own; this process is the
// load generator (keep-alive connections, closed loop). Needs `npm run build:server` first.
//
//   node bench/read-path.mjs [--seconds 8] [--warmup 2] [--connections 8] [--builds 100] [--only sqlite,postgres,reference]
//
// Prints one table row per (query, server): req/s, p50, p99, ratios to the reference, store
// statements per request (the store's counter, read before and after over IPC).
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const SECONDS = Number(arg('seconds', 8));
// The load on a shared machine swings: each row's SECONDS are spread over ROUNDS turns that
// alternate between the servers, so every ratio compares the same moments.
const ROUNDS = Number(arg('rounds', 4));
const WARMUP = Number(arg('warmup', 2));
const CONNECTIONS = Number(arg('connections', 8));
const BUILDS = Number(arg('builds', 100));
const ONLY = arg('only', 'reference,sqlite,postgres').split(',');
const QUERY = arg('query', null); // only the queries whose name contains this
const PROFILE = arg('profile', null); // directory: each server writes a V8 CPU profile of each query's timed turns there

const BUILDS_LIST = fs.readFileSync(path.join(here, '../schema/operations/01-builds-list.graphql'), 'utf8');
const QUERIES = [
  { name: '600 objects (50 builds × 3 runs × 4 steps)', body: { query: '{ builds(first: 50) { edges { node { id name runs(first: 3) { edges { node { id state steps { title state } } } } } } } }' } },
  { name: '600 objects, first: 10', body: { query: '{ builds(first: 10) { edges { node { id name runs(first: 3) { edges { node { id state steps { title state } } } } } } } }' } },
  { name: '600 objects, first: 100', body: { query: '{ builds(first: 100) { edges { node { id name runs(first: 3) { edges { node { id state steps { title state } } } } } } } }' } },
  { name: 'BuildsList first: 50', body: { query: BUILDS_LIST, variables: { first: 50 } } },
  { name: '{ __typename }', body: { query: '{ __typename }' } },
];

function start(kind) {
  const child = fork(path.join(here, 'read-path-server.mjs'), [kind, String(BUILDS)], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{"url"'));
      if (line) resolve({ kind, child, url: JSON.parse(line).url });
    });
    child.on('exit', (code) => reject(new Error(`${kind} server exited (${code})`)));
  });
}

const ask = (server, message = 'statements') => new Promise((resolve) => {
  server.child.once('message', resolve);
  server.child.send(message);
});
const slug = (s) => s.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase();
if (PROFILE) fs.mkdirSync(PROFILE, { recursive: true });

/** Closed-loop load: CONNECTIONS requests in flight, each sent when the previous answer is in. */
async function load(url, body, seconds) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const payload = JSON.stringify(body);
  const u = new URL(url);
  const latencies = [];
  let errors = 0;
  let checked = false;
  const until = performance.now() + seconds * 1000;
  const one = () => new Promise((resolve) => {
    const t = performance.now();
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        latencies.push(performance.now() - t);
        if (res.statusCode !== 200) errors++;
        else if (!checked) {
          checked = true;
          const b = JSON.parse(Buffer.concat(chunks).toString());
          if (b.errors) { errors++; console.error(JSON.stringify(b.errors).slice(0, 500)); }
        }
        resolve();
      });
    });
    req.on('error', () => { errors++; resolve(); });
    req.end(payload);
  });
  const loop = async () => { while (performance.now() < until) await one(); };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, loop));
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  return { latencies, elapsed, errors };
}

function summary(turns) {
  const latencies = turns.flatMap((t) => t.latencies).sort((a, b) => a - b);
  const elapsed = turns.reduce((a, t) => a + t.elapsed, 0);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
  return { requests: latencies.length, rps: latencies.length / elapsed, p50: q(0.5), p99: q(0.99), errors: turns.reduce((a, t) => a + t.errors, 0) };
}

const servers = [];
for (const kind of ONLY) servers.push(await start(kind));
const results = [];
for (const q of QUERIES.filter((x) => !QUERY || x.name.includes(QUERY))) {
  const turns = new Map(servers.map((sv) => [sv.kind, []]));
  const statements = new Map(servers.map((sv) => [sv.kind, 0]));
  const cpu = new Map(servers.map((sv) => [sv.kind, 0]));
  for (const sv of servers) await load(sv.url, q.body, WARMUP);
  if (PROFILE) for (const sv of servers) await ask(sv, { profile: 'start' });
  for (let round = 0; round < ROUNDS; round++) {
    for (const sv of servers) {
      const before = await ask(sv);
      turns.get(sv.kind).push(await load(sv.url, q.body, SECONDS / ROUNDS));
      const after = await ask(sv);
      statements.set(sv.kind, statements.get(sv.kind) + (after.statements ?? 0) - (before.statements ?? 0));
      cpu.set(sv.kind, cpu.get(sv.kind) + after.cpuMicros - before.cpuMicros);
    }
  }
  if (PROFILE) for (const sv of servers) await ask(sv, { profile: 'stop', file: path.join(PROFILE, `${sv.kind}-${slug(q.name)}.cpuprofile`) });
  for (const sv of servers) {
    const r = summary(turns.get(sv.kind));
    const st = sv.kind === 'reference' ? null : statements.get(sv.kind) / r.requests;
    const { rss } = await ask(sv);
    // CPU time the server spent per answer: what the load of other processes moves least.
    const cpuMs = cpu.get(sv.kind) / r.requests / 1000;
    results.push({ kind: sv.kind, query: q.name, ...r, statements: st, rss, cpuMs });
    console.error(`${sv.kind.padEnd(9)} ${q.name.padEnd(44)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50.toFixed(1)} ms  p99 ${r.p99.toFixed(1)} ms  CPU ${cpuMs.toFixed(3)} ms/req  ${st === null ? '' : `${st.toFixed(2)} statements/req`}  errors ${r.errors}`);
  }
}
for (const sv of servers) {
  sv.child.send('stop');
  await new Promise((r) => sv.child.once('exit', r));
}

console.log(`\n${CONNECTIONS} connections, ${SECONDS} s per row (${ROUNDS} turns alternating between the servers) after ${WARMUP} s warm-up, ${BUILDS} builds × 3 runs × 4 steps; load average (1 min) at the end: ${os.loadavg()[0].toFixed(1)}.\n`);
console.log('| query | server | req/s | × reference | p50 ms | p99 ms | p99 × reference | CPU ms/request | reference CPU ÷ server CPU | statements/request | RSS MB |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  const ref = results.find((x) => x.kind === 'reference' && x.query === r.query);
  const ratio = (a, b) => (b ? `${(a / b).toFixed(2)}×` : '—');
  console.log(`| ${r.query} | ${r.kind} | ${r.rps.toFixed(0)} | ${r.kind === 'reference' ? '1.00×' : ratio(r.rps, ref?.rps)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.kind === 'reference' ? '1.00×' : ratio(r.p99, ref?.p99)} | ${r.cpuMs.toFixed(3)} | ${r.kind === 'reference' ? '1.00×' : ratio(ref?.cpuMs, r.cpuMs)} | ${r.statements === null ? '—' : r.statements.toFixed(2)} | ${(r.rss / 1e6).toFixed(0)} |`);
}
