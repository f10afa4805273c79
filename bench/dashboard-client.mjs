// One client process of bench/dashboard.mjs: one websocket per subscription in SUBS (JSON list of
// {kind: 'log' | 'run' | 'step' | 'buildRuns', id}), graphql-transport-ws over `ws` directly.
// Every runLog message is parsed whole: each line checked (seq exactly once, in order) and timed
// (receive − the emission time the step wrote at the start of the line; 0 = warm-up, not timed).
import WebSocket from 'ws';

const { URL: url, SUBS } = process.env;
const QUERIES = {
  log: 'subscription($id: ID!) { runLog(runId: $id) { lines { seq text } lastSeq fellBehind } }',
  run: 'subscription($id: ID!) { runUpdated(runId: $id) { id state } }',
  step: 'subscription($id: ID!) { stepUpdated(runId: $id) { id state } }',
  buildRuns: 'subscription($id: ID!) { buildRunsUpdated(buildId: $id) { id state } }',
};
const hist = new Map();
const subs = JSON.parse(SUBS).map((x) => ({ ...x, last: 0, lines: 0, gaps: 0, dups: 0, events: 0, fellBehind: false, completed: false, error: undefined }));
let acked = 0;
const sockets = [];
let failed = 0;
// Sockets open 50 at a time, 50 ms apart: thousands of handshakes at once overflow the listen backlog (ECONNRESET).
const done = subs.map((s, i) => new Promise((resolve) => setTimeout(resolve, Math.floor(i / 50) * 50)).then(() => new Promise((resolve) => {
  const ws = new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate: false });
  sockets.push(ws);
  const end = (err) => { if (err !== undefined && !s.completed && s.error === undefined) { s.error = err; failed++; } resolve(); ws.close(); };
  ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: {} })));
  ws.on('error', (e) => end(String(e.message)));
  ws.on('close', (code) => end(s.completed || s.stopped ? undefined : `closed ${code}`));
  ws.on('message', (buf) => {
    const now = Date.now();
    const m = JSON.parse(buf.toString());
    if (m.type === 'connection_ack') {
      acked++;
      ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: QUERIES[s.kind], variables: { id: s.id } } }));
    } else if (m.type === 'complete') { s.completed = true; end(); }
    else if (m.type === 'error' || m.payload?.errors) end(JSON.stringify(m.payload));
    else if (m.type === 'next') {
      s.events++;
      if (s.kind !== 'log') return;
      const b = m.payload.data.runLog;
      if (b.fellBehind) s.fellBehind = true;
      for (const l of b.lines) {
        if (l.seq <= s.last) s.dups++; else if (l.seq !== s.last + 1) s.gaps += l.seq - s.last - 1;
        s.last = Math.max(s.last, l.seq);
        s.lines++;
        const t = Number(l.text.slice(0, l.text.indexOf(' ')));
        if (t > 0) hist.set(now - t, (hist.get(now - t) ?? 0) + 1);
      }
    }
  });
  s.stop = () => { s.stopped = true; ws.close(); };
})));
const t = setInterval(() => process.send?.({ acked, failed }), 200);
// buildRunsUpdated never completes: stopped once every other subscription of this process has.
await Promise.all(done.filter((_d, i) => subs[i].kind !== 'buildRuns'));
clearInterval(t);
for (const s of subs) if (s.kind === 'buildRuns') s.stop();
await Promise.all(done);
process.send({ done: true, hist: [...hist], subs: subs.map(({ stop: _s, ...r }) => r) }, () => process.exit(0));
