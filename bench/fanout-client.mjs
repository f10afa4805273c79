// One client process of bench/fanout.mjs: COUNT subscribers (one websocket each) on one run's
// log, speaking graphql-transport-ws over `ws` directly.
//
// The clients share this machine's 2 cores with the gateway, so they must not cost more than
// the gateway does: every FULL_EVERY-th subscriber parses each message whole and checks every
// line (seq exactly once, in order; latency of each line); the others check each batch from its
// bytes without building objects (its first line follows the previous batch's last; its last
// line's seq is the batch's lastSeq; the latency counted is that of the batch's *oldest* line
// for all of its lines, an upper bound).
import WebSocket from 'ws';

const { URL: url, RUN_ID: runId, COUNT, FULL_EVERY = '100', OFFSET = '0' } = process.env;
const QUERY = 'subscription($runId: ID!, $afterSeq: SafeInt) { runLog(runId: $runId, afterSeq: $afterSeq) { lines { seq text } lastSeq fellBehind } }';
const fullEvery = Number(FULL_EVERY);
const hist = new Map(); // latency ms -> lines (all subscribers; oldest-line bound for the light ones)
const fullHist = new Map(); // latency ms -> lines, exact per line (full subscribers only)
const bySecond = new Map(); // emission second (epoch) -> latency ms -> lines (full subscribers only)
const add = (h, ms, n) => h.set(ms, (h.get(ms) ?? 0) + n);
const SEQ = Buffer.from('"seq":');
const TEXT = Buffer.from('"text":"');
const LAST = Buffer.from('"lastSeq":');
const BEHIND = Buffer.from('"fellBehind":true');
const NEXT = Buffer.from('"type":"next"');
/** The non-negative integer written at buf[i...]. */
function intAt(buf, i) {
  let n = 0;
  for (let c = buf[i]; c >= 48 && c <= 57; c = buf[++i]) n = n * 10 + c - 48;
  return n;
}

const subs = [];
let ready = 0;
for (let i = 0; i < Number(COUNT); i++) {
  const full = (Number(OFFSET) + i) % fullEvery === 0;
  const s = { full, lines: 0, last: 0, gaps: 0, dups: 0, fellBehind: false, completed: false, resumeAfter: null, error: undefined };
  subs.push(s);
  s.done = new Promise((resolve) => {
    const ws = new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate: false, skipUTF8Validation: true });
    let acked = false;
    const end = (err) => { if (err !== undefined && !s.completed) s.error ??= err; resolve(); ws.close(); };
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: {} })));
    ws.on('error', (e) => end(String(e.message)));
    ws.on('close', (code) => end(s.completed ? undefined : `closed ${code}`));
    ws.on('message', (buf) => {
      const now = Date.now();
      if (!acked || buf.length < 200 || buf.indexOf(NEXT) < 0 || full) {
        const m = JSON.parse(buf.toString());
        if (m.type === 'connection_ack') {
          acked = true;
          ready++;
          ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: QUERY, variables: { runId } } }));
        } else if (m.type === 'complete') { s.completed = true; end(); }
        else if (m.type === 'error' || m.payload?.errors) end(JSON.stringify(m.payload));
        else if (m.type === 'next') {
          const b = m.payload.data.runLog;
          if (b.fellBehind) { s.fellBehind = true; s.resumeAfter = b.lastSeq; }
          for (const l of b.lines) {
            if (l.seq <= s.last) s.dups++; else if (l.seq !== s.last + 1) s.gaps += l.seq - s.last - 1;
            s.last = Math.max(s.last, l.seq);
            s.lines++;
            const t = Number(l.text.slice(0, l.text.indexOf(' ')));
            if (!(t > 0)) continue; // the step's own lines carry no stamp
            add(hist, now - t, 1);
            add(fullHist, now - t, 1);
            const sec = Math.floor(t / 1000);
            if (!bySecond.has(sec)) bySecond.set(sec, new Map());
            add(bySecond.get(sec), now - t, 1);
          }
        }
        return;
      }
      // lastSeq and fellBehind close the message: searched from its end
      const first = buf.indexOf(SEQ);
      const lastSeq = intAt(buf, buf.lastIndexOf(LAST) + LAST.length);
      if (buf.lastIndexOf(BEHIND) >= 0) { s.fellBehind = true; s.resumeAfter = lastSeq; }
      if (first < 0) return;
      const firstSeq = intAt(buf, first + SEQ.length);
      const lastLineSeq = intAt(buf, buf.lastIndexOf(SEQ) + SEQ.length);
      if (firstSeq <= s.last) s.dups += s.last - firstSeq + 1; else if (firstSeq !== s.last + 1) s.gaps += firstSeq - s.last - 1;
      if (lastLineSeq !== lastSeq) s.gaps++; // a batch that does not end where it says
      const n = lastLineSeq - Math.max(firstSeq, s.last + 1) + 1;
      s.last = Math.max(s.last, lastLineSeq);
      if (n <= 0) return;
      s.lines += n;
      const t = intAt(buf, buf.indexOf(TEXT, first) + TEXT.length);
      if (t > 0) add(hist, now - t, n);
    });
  });
}
const t = setInterval(() => process.send?.({ ready }), 200);
await Promise.all(subs.map((x) => x.done));
clearInterval(t);
// Exit once the (large) report is handed to the parent, not on a timer: a busy parent reads it late.
process.send({ done: true, hist: [...hist], fullHist: [...fullHist], bySecond: [...bySecond].map(([sec, h]) => [sec, [...h]]), subs: subs.map(({ done: _d, ...r }) => r) }, () => process.exit(0));
