// Resume: CYCLES disconnect/reconnect cycles of one graphql-ws client mid-stream on a native run
// printing lines; each reconnect passes afterSeq = the last lastSeq received. Counts gaps and
// duplicates over the union. Run: npm run build:server && node bench/resume.mjs [--cycles 1000]
import { parseArgs } from 'node:util';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { startBenchGateway } from './gateway.mjs';

const { values } = parseArgs({ options: { cycles: { type: 'string', default: '1000' } } });
const CYCLES = Number(values.cycles);
const { server, gql, close } = await startBenchGateway('resume');
// ~2,000 lines/s until stopped: long enough for every cycle to land mid-stream.
const command = `node -e "let n=0;const t=setInterval(()=>{let s='';for(let i=0;i<20;i++)s+='line '+(n++)+'\\\\n';process.stdout.write(s)},10);setTimeout(()=>clearInterval(t),${Math.max(20, CYCLES / 6)}*1000)"`;
const build = await gql('mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id } } }', { i: { name: 'resume', steps: [{ stepOrder: 1, stepType: 'SHELL', shell: { command } }] } });
const runId = (await gql('mutation($id: ID!) { runBuild(input: { buildId: $id }) { run { id } } }', { id: build.createBuild.build.id })).runBuild.run.id;
const QUERY = 'subscription($runId: ID!, $afterSeq: SafeInt) { runLog(runId: $runId, afterSeq: $afterSeq) { lines { seq } lastSeq fellBehind } }';
const url = server.url.replace(/^http/, 'ws');

let afterSeq = 0, gaps = 0, dups = 0, lines = 0, completedEarly = 0, cycles = 0;
const t0 = Date.now();
const follow = (stopAfterEvents) => new Promise((resolve) => {
  const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
  let events = 0;
  let ended = false;
  // After the disconnect nothing more counts: what was in flight must come again on the next subscription.
  const end = (completed) => { if (ended) return; ended = true; client.dispose(); resolve(completed); };
  client.subscribe({ query: QUERY, variables: { runId, afterSeq } }, {
    next: ({ data }) => {
      if (ended) return;
      for (const l of data.runLog.lines) {
        if (l.seq <= afterSeq) dups++; else if (l.seq !== afterSeq + 1) gaps += l.seq - afterSeq - 1;
        afterSeq = Math.max(afterSeq, l.seq);
        lines++;
      }
      if (stopAfterEvents !== null && ++events >= stopAfterEvents) end(false); // socket closed mid-stream
    },
    error: () => end(false),
    complete: () => end(true),
  });
});
while (cycles < CYCLES) {
  cycles++;
  if (await follow(1 + Math.floor(Math.random() * 3))) { completedEarly++; break; }
}
const finalCompleted = await follow(null);
const stored = (await gql('query($id: ID!) { run(id: $id) { state log(tail: true, first: 1) { lastSeq } } }', { id: runId })).run;
console.log(JSON.stringify({
  cycles, seconds: (Date.now() - t0) / 1000, storedLines: stored.log.lastSeq, runState: stored.state, linesReceived: lines,
  gaps, duplicates: dups, missingAtEnd: stored.log.lastSeq - afterSeq, finalCompleted, runEndedBeforeAllCycles: completedEarly > 0,
}, null, 2));
await close();
process.exit(0);
