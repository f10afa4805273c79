// The dashboard mix (issue 17): RUNS concurrent native runs each printing RATE lines/s for WARMUP +
// SECONDS; LOGS runLog subscribers spread over them by Zipf (s = 1: the most watched run gets
// ~LOGS / H(RUNS) subscribers, the least ~1), plus STATES runUpdated / stepUpdated subscribers (half
// each, Zipf too) and LISTS buildRunsUpdated(buildId) subscribers over the BUILDS builds the runs
// belong to. One websocket per subscription, in PROCS client processes (bench/dashboard-client.mjs).
// Run: npm run build:server && node --expose-gc bench/dashboard.mjs
//   [--runs 200 --rate 100 --logs 2000 --states 200 --lists 100 --builds 20 --warmup 2 --seconds 8 --procs 2]
// Prints: exact per-line latency of every runLog line after the warm-up (p50/p99/max), lost lines
// (neither received nor given a resume point), gaps, duplicates, fellBehind, state events, and
// the gateway RSS held per subscription (all subscribed, after a GC, before the first line).
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startBenchGateway } from './gateway.mjs';

const { values } = parseArgs({ options: {
  runs: { type: 'string', default: '200' }, rate: { type: 'string', default: '100' }, logs: { type: 'string', default: '2000' },
  states: { type: 'string', default: '200' }, lists: { type: 'string', default: '100' }, builds: { type: 'string', default: '20' },
  warmup: { type: 'string', default: '2' }, seconds: { type: 'string', default: '8' }, procs: { type: 'string', default: '2' },
} });
const [RUNS, RATE, LOGS, STATES, LISTS, BUILDS, WARMUP, SECONDS, PROCS] = ['runs', 'rate', 'logs', 'states', 'lists', 'builds', 'warmup', 'seconds', 'procs'].map((k) => Number(values[k]));
const loadBefore = os.loadavg()[0].toFixed(2);
const t0 = Date.now();
const { server, gql, close, dir } = await startBenchGateway('dashboard', { engine: { maxConcurrentRuns: RUNS + 10 } });

// The step: waits for GO, then every 10 ms prints the lines due by then, stamped with their
// emission time in ms (0 during the warm-up). perl: 200 node processes would not fit in memory.
const go = path.join(dir, 'GO');
const emitter = path.join(dir, 'emit.pl');
fs.writeFileSync(emitter, `use Time::HiRes qw(time sleep); $| = 1;
my ($go, $warm, $secs, $rate) = @ARGV;
sleep(0.05) until -e $go;
my $t0 = time; my $w = $t0 + $warm; my $end = $w + $secs; my $n = 0;
while (1) {
  my $now = time; my $due = int(((($now < $end) ? $now : $end) - $t0) * $rate);
  my $st = $now < $w ? 0 : int($now * 1000); my $s = '';
  while ($n < $due) { $n++; $s .= "$st line $n\\n"; }
  print $s if length $s;
  last if $now >= $end;
  sleep(0.01);
}
`);
const buildIds = [];
for (let b = 0; b < BUILDS; b++) {
  const r = await gql('mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id } } }', { i: { name: `dash-${b}`, steps: [{ stepOrder: 1, stepType: 'SHELL', shell: { command: `perl ${emitter} ${go} ${WARMUP} ${SECONDS} ${RATE}` } }] } });
  buildIds.push(r.createBuild.build.id);
}
const runIds = [];
for (let i = 0; i < RUNS; i++) runIds.push((await gql('mutation($id: ID!) { runBuild(input: { buildId: $id }) { run { id } } }', { id: buildIds[i % BUILDS] })).runBuild.run.id);

/** count items over `of` by Zipf (s = 1), deterministically: item i takes the rank at quantile (i + 0.5) / count. */
function zipf(count, of) {
  const h = [];
  let acc = 0;
  for (let k = 1; k <= of; k++) { acc += 1 / k; h.push(acc); }
  return Array.from({ length: count }, (_v, i) => {
    const q = ((i + 0.5) / count) * acc;
    let lo = 0;
    while (h[lo] < q) lo++;
    return lo;
  });
}
const subs = [
  ...zipf(LOGS, RUNS).map((r) => ({ kind: 'log', id: runIds[r] })),
  ...zipf(STATES, RUNS).map((r, i) => ({ kind: i % 2 ? 'step' : 'run', id: runIds[r] })),
  ...Array.from({ length: LISTS }, (_v, i) => ({ kind: 'buildRuns', id: buildIds[i % BUILDS] })),
];
// Interleave kinds over the client processes.
const parts = Array.from({ length: PROCS }, () => []);
subs.forEach((s, i) => parts[i % PROCS].push(s));

globalThis.gc?.();
const rssBase = process.memoryUsage().rss;
let rssSubscribed = 0;
let rssPeak = 0;
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
const acked = new Map();
let going = false;
const wsUrl = server.url.replace(/^http/, 'ws');
// Subscriptions that hold a run's feed on the gateway (buildRunsUpdated does not).
const feedSubs = LOGS + STATES;
setTimeout(() => { if (!fs.existsSync(go)) fs.writeFileSync(go, ''); }, 60_000).unref();
const rssTimer = setInterval(() => { if (rssSubscribed) rssPeak = Math.max(rssPeak, process.memoryUsage().rss); }, 100);
const results = await Promise.all(parts.map((list) => new Promise((resolve, reject) => {
  const child = fork(new URL('./dashboard-client.mjs', import.meta.url), { env: { ...process.env, URL: wsUrl, SUBS: JSON.stringify(list) } });
  child.on('message', (m) => {
    if (m.acked !== undefined) {
      acked.set(child.pid, m.acked + m.failed);
      if (!going && [...acked.values()].reduce((a, b) => a + b, 0) >= subs.length) {
        going = true;
        const allAcked = Date.now();
        // Every socket acknowledged (or failed): go once the gateway holds the subscriptions, at most 10 s later.
        const settle = setInterval(() => {
          if (server.services.live.feeds.stats().subscribers < feedSubs && Date.now() - allAcked < 10_000) return;
          clearInterval(settle);
          setTimeout(() => { globalThis.gc?.(); rssSubscribed = process.memoryUsage().rss; loopDelay.enable(); fs.writeFileSync(go, ''); }, 500);
        }, 50);
      }
    }
    if (m.done) resolve(m);
  });
  child.on('error', reject);
  child.on('exit', (code) => { if (code) reject(new Error(`client exited ${code}`)); });
})));
clearInterval(rssTimer);
loopDelay.disable();

const ends = new Map();
for (const id of runIds) ends.set(id, (await gql('query($id: ID!) { run(id: $id) { state log(tail: true, first: 1) { lastSeq } } }', { id })).run);
const hist = new Map();
for (const r of results) for (const [ms, n] of r.hist) hist.set(ms, (hist.get(ms) ?? 0) + n);
const sorted = [...hist].sort((a, b) => a[0] - b[0]);
const total = sorted.reduce((s, [, n]) => s + n, 0);
const pct = (p) => { let acc = 0; for (const [ms, n] of sorted) { acc += n; if (acc >= total * p) return ms; } return null; };
const all = results.flatMap((r) => r.subs);
const logs = all.filter((s) => s.kind === 'log');
const states = all.filter((s) => s.kind === 'run' || s.kind === 'step');
const lists = all.filter((s) => s.kind === 'buildRuns');
const watchers = zipf(LOGS, RUNS).reduce((m, r) => m.set(r, (m.get(r) ?? 0) + 1), new Map());
console.log(JSON.stringify({
  runs: RUNS, linesPerSecondPerRun: RATE, warmupSeconds: WARMUP, seconds: SECONDS, clientProcesses: PROCS, cpus: os.cpus().length, loadAverageBefore: Number(loadBefore),
  subscriptions: { runLog: LOGS, runUpdatedAndStepUpdated: STATES, buildRunsUpdated: LISTS, mostWatchedRun: Math.max(...watchers.values()), runsWatched: watchers.size },
  runStates: [...new Set([...ends.values()].map((e) => e.state))],
  storedLines: [...ends.values()].reduce((s, e) => s + e.log.lastSeq, 0),
  delivered: logs.reduce((s, x) => s + x.lines, 0),
  latencyExactMs: { lines: total, p50: pct(0.5), p99: pct(0.99), max: sorted.at(-1)?.[0] ?? null },
  lost: logs.reduce((s, x) => s + x.gaps + (x.fellBehind ? 0 : Math.max(0, ends.get(x.id).log.lastSeq - x.last)), 0),
  gaps: logs.reduce((s, x) => s + x.gaps, 0), duplicates: logs.reduce((s, x) => s + x.dups, 0), fellBehind: logs.filter((x) => x.fellBehind).length,
  completed: { runLog: logs.filter((x) => x.completed).length, states: states.filter((x) => x.completed).length },
  stateEvents: states.reduce((s, x) => s + x.events, 0), listEvents: lists.reduce((s, x) => s + x.events, 0),
  errors: all.filter((s) => s.error).length, errorSample: [...new Set(all.filter((s) => s.error).map((s) => s.error))].slice(0, 3),
  gatewayRssMiB: { base: +(rssBase / 2 ** 20).toFixed(1), subscribed: +(rssSubscribed / 2 ** 20).toFixed(1), peak: +(rssPeak / 2 ** 20).toFixed(1) },
  gatewayRssPerSubscriptionKiB: +((rssSubscribed - rssBase) / subs.length / 1024).toFixed(1),
  eventLoopDelayMs: { p50: +(loopDelay.percentile(50) / 1e6).toFixed(1), p99: +(loopDelay.percentile(99) / 1e6).toFixed(1), max: +(loopDelay.max / 1e6).toFixed(1) },
  wallSeconds: Math.round((Date.now() - t0) / 1000),
}, null, 2));
await close();
process.exit(0);
