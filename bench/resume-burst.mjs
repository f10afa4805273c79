// Resume during a burst: SUBSCRIBERS graphql-ws clients follow a native run printing LINES lines
// as fast as it can; each leaves after a random number of lines and resubscribes with afterSeq =
// the last seq it got, RECONNECTS times, then follows to the end. Counts gaps, duplicates and
// fellBehind per subscriber, and the time until all completed, beside a reference measured in
// the same run: one subscriber following the same burst without reconnecting.
// Run: npm run build:server && node bench/resume-burst.mjs [--subscribers 50] [--reconnects 5] [--lines 200000]
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { startBenchGateway } from './gateway.mjs';

const { values } = parseArgs({ options: { subscribers: { type: 'string', default: '50' }, reconnects: { type: 'string', default: '5' }, lines: { type: 'string', default: '200000' } } });
const N = Number(values.subscribers), R = Number(values.reconnects), LINES = Number(values.lines);
const { server, gql, close } = await startBenchGateway('resume-burst');
const url = server.url.replace(/^http/, 'ws');
const QUERY = 'subscription($runId: ID!, $afterSeq: SafeInt) { runLog(runId: $runId, afterSeq: $afterSeq) { lines { seq } lastSeq fellBehind } }';
const build = (await gql('mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id } } }', { i: { name: 'burst', steps: [{ stepOrder: 1, stepType: 'SHELL', shell: { command: `seq 1 ${LINES}` } }] } })).createBuild.build.id;

/** One subscriber: `reconnects` times leave after some lines and resume; then follow to the end. */
async function subscriber(runId, reconnects) {
  const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazyCloseTimeout: 600_000 });
  const s = { gaps: 0, dups: 0, behind: 0, lines: 0, completed: false, errors: 0 };
  let after = 0;
  const follow = (stopAfter) => new Promise((resolve) => {
    let got = 0, ended = false;
    let dispose = () => undefined;
    const end = (completed) => { if (ended) return; ended = true; dispose(); resolve(completed); };
    dispose = client.subscribe({ query: QUERY, variables: { runId, afterSeq: after } }, {
      next: ({ data, errors }) => {
        if (ended) return;
        if (errors) s.errors++;
        if (!data) return;
        if (data.runLog.fellBehind) s.behind++;
        for (const l of data.runLog.lines) {
          if (l.seq <= after) s.dups++; else if (l.seq !== after + 1) s.gaps += l.seq - after - 1;
          after = Math.max(after, l.seq);
          s.lines++;
          got++;
        }
        if (stopAfter !== null && got >= stopAfter) end(false);
      },
      error: () => { s.errors++; end(false); },
      complete: () => end(true),
    });
  });
  for (let i = 0; i < reconnects; i++) if (await follow(1000 + Math.floor(Math.random() * (LINES / (reconnects + 2))))) { s.completed = true; break; }
  if (!s.completed) s.completed = await follow(null);
  s.lastSeq = after;
  await client.dispose();
  return s;
}

async function burst(subscribers, reconnects) {
  const runId = (await gql('mutation($id: ID!) { runBuild(input: { buildId: $id }) { run { id } } }', { id: build })).runBuild.run.id;
  const t0 = Date.now();
  const results = await Promise.all(Array.from({ length: subscribers }, () => subscriber(runId, reconnects)));
  const seconds = (Date.now() - t0) / 1000;
  const stored = (await gql('query($id: ID!) { run(id: $id) { state log(tail: true, first: 1) { lastSeq } } }', { id: runId })).run;
  return {
    seconds, storedLines: stored.log.lastSeq, runState: stored.state,
    completed: results.filter((r) => r.completed && r.lastSeq === stored.log.lastSeq).length,
    gaps: results.reduce((a, r) => a + r.gaps, 0), duplicates: results.reduce((a, r) => a + r.dups, 0),
    fellBehind: results.reduce((a, r) => a + r.behind, 0), errors: results.reduce((a, r) => a + r.errors, 0),
  };
}

const reference = await burst(1, 0);
const measured = await burst(N, R);
console.log(JSON.stringify({ subscribers: N, reconnects: R, lines: LINES, loadavg: os.loadavg()[0], reference, measured, timeRatio: measured.seconds / reference.seconds }, null, 2));
await close();
process.exit(0);
