// One client process of bench/fanout.mjs: COUNT graphql-ws subscribers (one socket each) on one run's log.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const { URL: url, RUN_ID: runId, COUNT } = process.env;
const QUERY = 'subscription($runId: ID!, $afterSeq: Float) { runLog(runId: $runId, afterSeq: $afterSeq) { lines { seq text } lastSeq fellBehind } }';
const hist = new Map(); // latency ms -> lines
const subs = [];
let ready = 0;
for (let i = 0; i < Number(COUNT); i++) {
  const s = { lines: 0, last: 0, gaps: 0, dups: 0, fellBehind: false, completed: false, resumeAfter: null };
  subs.push(s);
  const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, onNonLazyError: () => undefined, on: { connected: () => { ready++; } } });
  s.done = new Promise((resolve) => {
    client.subscribe({ query: QUERY, variables: { runId } }, {
      next: ({ data }) => {
        if (!data) return;
        const now = Date.now();
        const b = data.runLog;
        if (b.fellBehind) { s.fellBehind = true; s.resumeAfter = b.lastSeq; }
        for (const l of b.lines) {
          if (l.seq <= s.last) s.dups++; else if (l.seq !== s.last + 1) s.gaps += l.seq - s.last - 1;
          s.last = Math.max(s.last, l.seq);
          s.lines++;
          const t = Number(l.text.slice(0, l.text.indexOf(' ')));
          if (t > 0) { const ms = now - t; hist.set(ms, (hist.get(ms) ?? 0) + 1); }
        }
      },
      error: (e) => { s.error = String(e?.message ?? e); resolve(); },
      complete: () => { s.completed = true; resolve(); client.dispose(); },
    });
  });
}
const t = setInterval(() => process.send?.({ ready }), 200);
await Promise.all(subs.map((s) => s.done));
clearInterval(t);
process.send?.({ done: true, hist: [...hist], subs: subs.map(({ done: _d, ...r }) => r) });
setTimeout(() => process.exit(0), 100);
