// Live fan-out: N graphql-ws subscribers (in client processes, one socket each, 127.0.0.1) on
// one native run printing RATE lines/s for WARMUP + SECONDS; each line of the last SECONDS carries
// its emission time (the warm-up lines carry 0: delivered and checked, not in the latency figures).
// Run: npm run build:server && node bench/fanout.mjs [--subscribers 1000 --rate 10000 --seconds 5 --procs 4]
// --server bare: instead of buildgate, a bare ws server that sends each batch as one ready-made
// frame to every socket (no GraphQL, no store): the ceiling of this machine for the same load.
// --profile FILE: a CPU profile of this process (gateway or bare server) over the streaming only,
// from GO for the emission time + 1 s (summarise it with bench/profile-groups.mjs).
// --via-redis: the run executes on this gateway; the subscribers connect to a second replica (its
// own process, same store and Redis), so every line reaches them through Redis pub/sub.
import { fork } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBenchGateway } from './gateway.mjs';

const { values } = parseArgs({ options: {
  subscribers: { type: 'string', default: '1000' }, rate: { type: 'string', default: '10000' },
  seconds: { type: 'string', default: '5' }, warmup: { type: 'string', default: '2' }, procs: { type: 'string', default: '4' },
  server: { type: 'string', default: 'gateway' }, 'via-redis': { type: 'boolean', default: false }, 'flush-ms': { type: 'string', default: '10' }, 'full-every': { type: 'string', default: '100' },
  profile: { type: 'string' },
} });
const N = Number(values.subscribers), RATE = Number(values.rate), SECONDS = Number(values.seconds), WARMUP = Number(values.warmup), PROCS = Number(values.procs);
const BARE = values.server === 'bare';
const REDIS_URL = process.env.BUILDGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const VIA_REDIS = values['via-redis'];
const { server, gql, close, dir } = BARE ? await startBareServer() : await startBenchGateway('fanout', VIA_REDIS ? { redisUrl: REDIS_URL } : {});
// The replica the subscribers use with --via-redis, and its answers to 'stats'.
let replica = null;
let replicaUrl = null;
const replicaStats = () => new Promise((resolve) => { replica.once('message', resolve); replica.send('stats'); });
if (VIA_REDIS) {
  replica = fork(new URL('./replica.mjs', import.meta.url), { env: { ...process.env, DATABASE_URL: server.services.config.database.url, REDIS_URL } });
  replicaUrl = await new Promise((resolve) => replica.once('message', (m) => resolve(m.url)));
}
// Emitter: lines stamped with their emission time (ms).
// Every 10 ms it prints the lines due by then (RATE/s from the start), so timer drift does not lower the rate.
const script = `const t0=Date.now(),warm=t0+${WARMUP * 1000},end=warm+${SECONDS * 1000};let n=0;const t=setInterval(()=>{const now=Date.now(),due=Math.floor((Math.min(now,end)-t0)*${RATE}/1000),st=now<warm?0:now;let s='';while(n<due)s+=st+' line '+(n++)+'\\n';process.stdout.write(s);if(now>=end)clearInterval(t)},10)`;
// The emitter waits for GO: every subscriber is connected and subscribed before the first line.
const go = path.join(dir, 'GO');
const command = `while [ ! -f ${go} ]; do sleep 0.05; done; node -e "${script.replace(/"/g, '\\"')}"`;
const build = BARE ? null : await gql('mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id } } }', { i: { name: 'fanout', steps: [{ stepOrder: 1, stepType: 'SHELL', shell: { command } }] } });
globalThis.gc?.();
const rssBase = process.memoryUsage().rss;
const runId = BARE ? 'bare' : (await gql('mutation($id: ID!) { runBuild(input: { buildId: $id }) { run { id } } }', { id: build.createBuild.build.id })).runBuild.run.id;

const wsUrl = (replicaUrl ?? server.url).replace(/^http/, 'ws');
const per = Math.ceil(N / PROCS);
const kids = [];
const readyBy = new Map();
let rssPeak = 0;
let rssSubscribed = 0;
let subscribedAt = 0;
let settling = false;
// How late the gateway's event loop runs timers while it streams (it shares this process).
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
// Start anyway after 30 s: subscribers that could not connect by then count as failed.
setTimeout(() => { if (!fs.existsSync(go)) fs.writeFileSync(go, ''); }, 30000).unref();
const rssTimer = setInterval(() => {
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  if (rssSubscribed && !loopStarted) { loopStarted = true; loopDelay.enable(); }
}, 100);
let loopStarted = false;
let profiler = null;
let cpuAtGo = null;
const phase = (m) => { if (process.env.BENCH_DEBUG) console.error(`[fanout +${((Date.now() - t0) / 1000).toFixed(1)} s] ${m}`); };
const t0 = Date.now();
const results = await Promise.all(Array.from({ length: PROCS }, (_v, k) => new Promise((resolve, reject) => {
  const count = Math.min(per, N - k * per);
  const child = fork(new URL('./fanout-client.mjs', import.meta.url), { env: { ...process.env, URL: wsUrl, RUN_ID: runId, COUNT: String(count), OFFSET: String(k * per), FULL_EVERY: values['full-every'] } });
  kids.push(child);
  child.on('message', (m) => {
    if (m.ready !== undefined) {
      readyBy.set(k, m.ready);
      if ([...readyBy.values()].reduce((a, b) => a + b, 0) >= N && !subscribedAt) {
        subscribedAt = Date.now();
        // Every socket is connected: wait until the gateway holds every subscription, then,
        // with nothing flowing yet, take the memory a subscriber holds.
        let settle = setInterval(async () => {
          if (settling) return;
          settling = true;
          const held = BARE ? N : VIA_REDIS ? (await replicaStats()).stats.subscribers : server.services.live.feeds.stats().subscribers;
          settling = false;
          if (held < N || !settle) return;
          clearInterval(settle);
          settle = null;
          phase('all subscribed');
          setTimeout(async () => { globalThis.gc?.(); rssSubscribed = process.memoryUsage().rss; await startProfile(); cpuAtGo = process.cpuUsage(); fs.writeFileSync(go, ''); }, 500);
        }, 50);
      }
    }
    if (m.done) { phase(`client ${k} done`); resolve(m); }
  });
  child.on('error', reject);
  child.on('exit', (code) => { phase(`client ${k} exited ${code}`); if (code) reject(new Error(`client ${k} exited ${code}`)); });
})));
clearInterval(rssTimer);
const cpu = cpuAtGo ? process.cpuUsage(cpuAtGo) : null;
await stopProfile();
const stored = BARE ? server.stored() : (await gql('query($id: ID!) { run(id: $id) { state log(tail: true, first: 1) { lastSeq } } }', { id: runId })).run;

function percentiles(key) {
  const hist = new Map();
  for (const r of results) for (const [ms, n] of r[key]) hist.set(ms, (hist.get(ms) ?? 0) + n);
  return summarise(hist);
}
function summarise(hist) {
  const sorted = [...hist].sort((a, b) => a[0] - b[0]);
  const total = sorted.reduce((s, [, n]) => s + n, 0);
  const pct = (p) => { let acc = 0; for (const [ms, n] of sorted) { acc += n; if (acc >= total * p) return ms; } return NaN; };
  return { total, p50: pct(0.5), p99: pct(0.99), max: sorted.at(-1)?.[0] };
}
const all = percentiles('hist');
const exact = percentiles('fullHist');
// Exact latency by second of the run: the first second includes the gateway's warm-up.
const seconds = new Map();
for (const r of results) for (const [sec, h] of r.bySecond) {
  const m = seconds.get(sec) ?? new Map();
  for (const [ms, n] of h) m.set(ms, (m.get(ms) ?? 0) + n);
  seconds.set(sec, m);
}
const firstSecond = Math.min(...seconds.keys());
const bySecond = [...seconds].sort((a, b) => a[0] - b[0]).map(([sec, h]) => { const x = summarise(h); return { second: sec - firstSecond, p50: x.p50, p99: x.p99 }; });
const subs = results.flatMap((r) => r.subs);
const behind = subs.filter((s) => s.fellBehind);
// Lost: lines a subscriber neither received nor was told to resume from (fellBehind gives lastSeq).
const lost = subs.reduce((s, x) => s + x.gaps + (x.fellBehind ? 0 : Math.max(0, stored.log.lastSeq - x.last)), 0);
const out = {
  subscribers: N, clientProcesses: PROCS, linesPerSecond: RATE, warmupSeconds: WARMUP, seconds: SECONDS, storedLines: stored.log.lastSeq, runState: stored.state,
  server: BARE ? 'bare ws (reference)' : VIA_REDIS ? 'buildgate, subscribers on a second replica via Redis' : 'buildgate', delivered: subs.reduce((n, x) => n + x.lines, 0), completed: subs.filter((s) => s.completed).length, fellBehind: behind.length,
  fellBehindAtSeqMedian: behind.length ? behind.map((s) => s.resumeAfter).sort((a, b) => a - b)[Math.floor(behind.length / 2)] : null,
  errors: subs.filter((s) => s.error).length, errorSample: [...new Set(subs.filter((s) => s.error).map((s) => s.error))].slice(0, 3), gaps: subs.reduce((s, x) => s + x.gaps, 0), duplicates: subs.reduce((s, x) => s + x.dups, 0), lost,
  // every line after the warm-up, counted at its batch's oldest line's latency (an upper bound)
  latencyMs: { lines: all.total, p50: all.p50, p99: all.p99, max: all.max },
  // exact per-line latency of the fully checked subscribers (every full-every-th)
  latencyExactMs: { lines: exact.total, p50: exact.p50, p99: exact.p99, max: exact.max },
  latencyExactBySecondMs: bySecond.map((x) => `${x.second}: ${x.p50}/${x.p99}`).join(', '),
  gatewayRssMiB: { base: +(rssBase / 2 ** 20).toFixed(1), subscribed: +(rssSubscribed / 2 ** 20).toFixed(1), peak: +(rssPeak / 2 ** 20).toFixed(1) },
  // held by a subscriber (all subscribed, before the first line, after a GC when --expose-gc)
  gatewayRssPerSubscriberKiB: +((rssSubscribed - rssBase) / N / 1024).toFixed(1),
  // while streaming, including buffers and garbage not yet collected
  gatewayRssPeakPerSubscriberKiB: +((rssPeak - rssBase) / N / 1024).toFixed(1),
  // this process's CPU time (gateway or bare server, user + system) from GO to the end, per line delivered
  cpuSeconds: cpu ? +((cpu.user + cpu.system) / 1e6).toFixed(2) : null,
  cpuNsPerDelivery: null,
  eventLoopDelayMs: { p50: +(loopDelay.percentile(50) / 1e6).toFixed(1), p99: +(loopDelay.percentile(99) / 1e6).toFixed(1), max: +(loopDelay.max / 1e6).toFixed(1) },
  cpus: os.cpus().length,
};
out.cpuNsPerDelivery = cpu && out.delivered ? Math.round((cpu.user + cpu.system) * 1000 / out.delivered) : null;
if (VIA_REDIS) {
  // The replica holds the subscribers: its memory, not this process's, is what they cost
  // (the per-subscriber figures above are this process's, which runs the build).
  const r = await replicaStats();
  out.replicaRssMiB = +(r.rss / 2 ** 20).toFixed(1);
  replica.send('close');
}
console.log(JSON.stringify(out, null, 2));
for (const k of kids) k.kill();
await close();
process.exit(0);

async function startProfile() {
  if (!values.profile) return;
  const { Session } = await import('node:inspector/promises');
  profiler = new Session();
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.setSamplingInterval', { interval: 500 });
  await profiler.post('Profiler.start');
  // The window is the emission time: written then even if the run never completes (a saturated gateway).
  setTimeout(() => void stopProfile(), (WARMUP + SECONDS) * 1000 + 1000).unref();
}
async function stopProfile() {
  if (!profiler) return;
  const p = profiler;
  profiler = null;
  const { profile } = await p.post('Profiler.stop');
  fs.writeFileSync(values.profile, JSON.stringify(profile));
  p.disconnect();
}
/** The ceiling: ws only, one frame built per batch and written as is to every socket. */
async function startBareServer() {
  const { WebSocketServer } = await import('ws');
  const { createServer } = await import('node:http');
  const bdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-bare-'));
  const http = createServer();
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  const sockets = new Set();
  let seq = 0;
  wss.on('connection', (ws) => ws.on('message', (d) => {
    const m = JSON.parse(String(d));
    if (m.type === 'connection_init') ws.send('{"type":"connection_ack"}');
    if (m.type === 'subscribe') sockets.add(ws);
  }));
  await new Promise((r) => http.listen(0, '127.0.0.1', r));
  const goFile = path.join(bdir, 'GO');
  const wait = setInterval(() => {
    if (!fs.existsSync(goFile)) return;
    clearInterval(wait);
    const warm = Date.now() + WARMUP * 1000;
    const end = warm + SECONDS * 1000;
    let pending = [];
    // Lines as the engine's child prints them, sent every flush-ms like its log writer (engine.logFlushMs).
    const t0 = Date.now();
    const emitDue = () => { const now = Date.now(); const due = Math.floor((Math.min(now, end) - t0) * RATE / 1000); while (seq < due) { seq++; pending.push(`{"seq":${seq},"text":"${now < warm ? 0 : now} line ${seq}"}`); } };
    const emit = setInterval(emitDue, 10);
    const flush = setInterval(() => {
      const ended = Date.now() >= end;
      if (ended) emitDue();
      if (pending.length) {
        const frame = Buffer.from(`{"id":"1","type":"next","payload":{"data":{"runLog":{"lines":[${pending.join(',')}],"lastSeq":${seq},"fellBehind":false}}}}`);
        pending = [];
        for (const ws of sockets) ws.send(frame, { binary: false });
      }
      if (ended) {
        clearInterval(emit); clearInterval(flush);
        for (const ws of sockets) ws.send('{"id":"1","type":"complete"}');
      }
    }, Number(values['flush-ms']));
  }, 20);
  const url = `http://127.0.0.1:${http.address().port}/graphql`;
  return {
    dir: bdir, gql: null,
    server: { url, stored: () => ({ state: 'SUCCESS', log: { lastSeq: seq } }) },
    close: async () => { for (const ws of wss.clients) ws.terminate(); await new Promise((r) => http.close(r)); fs.rmSync(bdir, { recursive: true, force: true }); },
  };
}
