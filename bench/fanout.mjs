// Live fan-out: N graphql-ws subscribers (in client processes, one socket each, 127.0.0.1) on
// one native run printing RATE lines/s for SECONDS; each line carries its emission time.
// Run: npm run build:server && node bench/fanout.mjs [--subscribers 1000 --rate 10000 --seconds 5 --procs 4]
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBenchGateway } from './gateway.mjs';

const { values } = parseArgs({ options: {
  subscribers: { type: 'string', default: '1000' }, rate: { type: 'string', default: '10000' },
  seconds: { type: 'string', default: '5' }, procs: { type: 'string', default: '4' },
} });
const N = Number(values.subscribers), RATE = Number(values.rate), SECONDS = Number(values.seconds), PROCS = Number(values.procs);
const { server, gql, close, dir } = await startBenchGateway('fanout');
// Emitter: every 10 ms, RATE/100 lines stamped with the emission time (ms).
const script = `const per=${Math.max(1, Math.round(RATE / 100))},end=Date.now()+${SECONDS * 1000};let n=0;const t=setInterval(()=>{const now=Date.now();let s='';for(let i=0;i<per;i++)s+=now+' line '+(n++)+'\\n';process.stdout.write(s);if(now>=end)clearInterval(t)},10)`;
// The emitter waits for GO: every subscriber is connected and subscribed before the first line.
const go = path.join(dir, 'GO');
const command = `while [ ! -f ${go} ]; do sleep 0.05; done; node -e "${script.replace(/"/g, '\\"')}"`;
const build = await gql('mutation($i: BuildInput!) { createBuild(input: $i) { id } }', { i: { name: 'fanout', steps: [{ stepOrder: 1, stepType: 'SHELL', shell: { command } }] } });
const rssBase = process.memoryUsage().rss;
const runId = (await gql('mutation($id: ID!) { runBuild(buildId: $id) { id } }', { id: build.createBuild.id })).runBuild.id;

const wsUrl = server.url.replace(/^http/, 'ws');
const per = Math.ceil(N / PROCS);
const kids = [];
const readyBy = new Map();
let rssPeak = 0;
// Start anyway after 30 s: subscribers that could not connect by then count as failed.
setTimeout(() => { if (!fs.existsSync(go)) fs.writeFileSync(go, ''); }, 30000).unref();
const rssTimer = setInterval(() => { rssPeak = Math.max(rssPeak, process.memoryUsage().rss); }, 100);
const results = await Promise.all(Array.from({ length: PROCS }, (_v, k) => new Promise((resolve, reject) => {
  const count = Math.min(per, N - k * per);
  const child = fork(new URL('./fanout-client.mjs', import.meta.url), { env: { ...process.env, URL: wsUrl, RUN_ID: runId, COUNT: String(count) } });
  kids.push(child);
  child.on('message', (m) => {
    if (m.ready !== undefined) {
      readyBy.set(k, m.ready);
      if ([...readyBy.values()].reduce((a, b) => a + b, 0) >= N && !fs.existsSync(go)) setTimeout(() => fs.writeFileSync(go, ''), 1000);
    }
    if (m.done) resolve(m);
  });
  child.on('error', reject);
  child.on('exit', (code) => { if (code) reject(new Error(`client ${k} exited ${code}`)); });
})));
clearInterval(rssTimer);
const stored = (await gql('query($id: ID!) { run(id: $id) { state log(tail: true, first: 1) { lastSeq } } }', { id: runId })).run;

const hist = new Map();
for (const r of results) for (const [ms, n] of r.hist) hist.set(ms, (hist.get(ms) ?? 0) + n);
const sorted = [...hist].sort((a, b) => a[0] - b[0]);
const total = sorted.reduce((s, [, n]) => s + n, 0);
const pct = (p) => { let acc = 0; for (const [ms, n] of sorted) { acc += n; if (acc >= total * p) return ms; } return NaN; };
const subs = results.flatMap((r) => r.subs);
const behind = subs.filter((s) => s.fellBehind);
// Lost: lines a subscriber neither received nor was told to resume from (fellBehind gives lastSeq).
const lost = subs.reduce((s, x) => s + x.gaps + (x.fellBehind ? 0 : Math.max(0, stored.log.lastSeq - x.last)), 0);
const out = {
  subscribers: N, clientProcesses: PROCS, linesPerSecond: RATE, seconds: SECONDS, storedLines: stored.log.lastSeq, runState: stored.state,
  delivered: total, completed: subs.filter((s) => s.completed).length, fellBehind: behind.length,
  fellBehindAtSeqMedian: behind.length ? behind.map((s) => s.resumeAfter).sort((a, b) => a - b)[Math.floor(behind.length / 2)] : null,
  errors: subs.filter((s) => s.error).length, gaps: subs.reduce((s, x) => s + x.gaps, 0), duplicates: subs.reduce((s, x) => s + x.dups, 0), lost,
  latencyMs: { p50: pct(0.5), p99: pct(0.99), max: sorted.at(-1)?.[0] },
  gatewayRssMiB: { base: +(rssBase / 2 ** 20).toFixed(1), peak: +(rssPeak / 2 ** 20).toFixed(1) },
  gatewayRssPerSubscriberKiB: +((rssPeak - rssBase) / N / 1024).toFixed(1),
  cpus: os.cpus().length,
};
console.log(JSON.stringify(out, null, 2));
for (const k of kids) k.kill();
await close();
process.exit(0);
