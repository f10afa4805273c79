// Attack classes of issue 11 against the compiled gateway in its own process (the CLI, as
// `npx buildgate serve` runs it: embedded default, anonymous viewer on loopback), with the
// gateway's RSS sampled from /proc every 20 ms: before, peak and after each class.
// Run: npm run build:server && node bench/attack.mjs [--cli path/to/dist/src/cli.js] [--scale 1]
// (--cli: another build, e.g. an older commit's, for before/after figures; --scale shrinks
// the tries and sizes, 0.25 for a quick look.)
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const { values } = parseArgs({ options: { cli: { type: 'string', default: path.resolve('dist/src/cli.js') }, scale: { type: 'string', default: '1' } } });
const SCALE = Number(values.scale);
const n = (x) => Math.max(1, Math.round(x * SCALE));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-attack-'));
const env = { ...process.env, NODE_OPTIONS: '--max-old-space-size=4096', BUILDGATE_DATABASE__URL: `sqlite:${dir}/db.sqlite`, BUILDGATE_LOG__LEVEL: 'error', BUILDGATE_LIMITS__WS_CONNECTS_PER_MINUTE: '0', BUILDGATE_LIMITS__MUTATIONS_PER_MINUTE: '0', BUILDGATE_ENGINE__WORK_DIR: `${dir}/ws` };
const cliKey = (role) => execFileSync(process.execPath, [values.cli, 'keys', 'create', '--role', role], { env, cwd: dir, encoding: 'utf8' }).trim().split('\n').pop();

// Start once to migrate and seed, then make keys in the same store.
let proc; let url; let out = '';
async function serve() {
  out = '';
  proc = spawn(process.execPath, [values.cli, 'serve', '--port', '0'], { env: { ...env, BUILDGATE_LOG__LEVEL: 'info' }, cwd: dir });
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  url = await new Promise((resolve, reject) => {
    const t = setInterval(() => { const m = /"url":"(http:[^"]+)"/.exec(out); if (m) { clearInterval(t); resolve(m[1]); } }, 20);
    proc.once('exit', (c) => { clearInterval(t); reject(new Error(`gateway exited ${c}: ${out.slice(-2000)}`)); });
  });
}
await serve();
const admin = cliKey('admin');

const rssMb = () => { try { return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${proc.pid}/status`, 'utf8'))[1]) / 1024; } catch { return NaN; } };
const alive = () => proc.exitCode === null && proc.signalCode === null;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rows = [];
async function attack(name, tries, fn) {
  if (!alive()) await serve();
  await sleep(500);
  const before = rssMb();
  let peak = before;
  const sampler = setInterval(() => { const r = rssMb(); if (r > peak) peak = r; }, 20);
  let outcome;
  try { outcome = await fn(); } catch (e) { outcome = `bench error: ${e.message}`; }
  await sleep(1500);
  clearInterval(sampler);
  const after = alive() ? rssMb() : NaN;
  if (!alive()) outcome += `; gateway DIED (${/heap out of memory/i.test(out) ? 'JavaScript heap out of memory' : `exit ${proc.exitCode ?? proc.signalCode}`})`;
  rows.push({ name, tries, outcome, before, peak, after });
  console.error(`${name}: ${outcome} (RSS ${before.toFixed(0)} / ${peak.toFixed(0)} / ${after.toFixed(0)} MB)`);
}

const wsUrl = () => url.replace(/^http/, 'ws');
/** A socket; resolves on open (or with the refusal: an HTTP status or a close code). */
function open(headers = {}) {
  return new Promise((resolve) => {
    const ws = new WebSocket(wsUrl(), 'graphql-transport-ws', { headers, maxPayload: 0 });
    ws.on('open', () => resolve({ ws }));
    ws.on('unexpected-response', (_q, res) => { res.resume(); resolve({ refused: res.statusCode }); });
    ws.on('error', (e) => resolve({ refused: e.message }));
  });
}
/** connection_init, then resolves 'ack' or the close code. */
function init(ws, payload = {}) {
  return new Promise((resolve) => {
    ws.on('message', (d) => { if (JSON.parse(String(d)).type === 'connection_ack') resolve('ack'); });
    ws.on('close', (c) => resolve(c));
    ws.send(JSON.stringify({ type: 'connection_init', payload }));
  });
}
let seq = 0;
/** One operation on a socket: its first result or error payload, or the close code. */
function op(ws, payload) {
  const id = String(++seq);
  return new Promise((resolve) => {
    const done = (v) => { ws.off('message', onMsg); ws.off('close', onClose); resolve(v); };
    const onMsg = (d) => { const m = JSON.parse(String(d)); if (m.id === id && (m.type === 'next' || m.type === 'error')) done(m.payload); };
    const onClose = (c) => done({ closed: c });
    ws.on('message', onMsg);
    ws.on('close', onClose);
    ws.send(JSON.stringify({ id, type: 'subscribe', payload }));
  });
}
const count = (list) => Object.entries(list.reduce((m, k) => ({ ...m, [k]: (m[k] ?? 0) + 1 }), {})).map(([k, v]) => `${v}× ${k}`).join(', ');
const errorCode = (r) => r?.closed ? `closed ${r.closed}` : r?.errors?.[0]?.extensions?.code ?? (Array.isArray(r) ? r[0]?.extensions?.code ?? 'error' : 'executed');

// 1. Variable-driven cost: the nested page query with n = 100 as a variable, HTTP and ws, 4 at once.
const NESTED = 'query($n: Int) { builds(first: $n) { edges { node { runs(first: $n) { edges { node { build { runs(first: $n) { edges { node { id state } } } } } } } } } } }';
await attack('variable-driven cost (n = 100)', n(40), async () => {
  const outcomes = [];
  const { ws } = await open();
  await init(ws);
  for (let round = 0; round < n(10); round++) {
    await Promise.all([0, 1].map(async () => {
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: NESTED, variables: { n: 100 } }) });
      outcomes.push(`HTTP ${r.status} ${errorCode(await r.json())}`);
    }).concat([0, 1].map(async () => outcomes.push(`ws ${errorCode(await op(ws, { query: NESTED, variables: { n: 100 } }))}`))));
  }
  ws.close();
  return count(outcomes);
});

// 2. Distinct large documents over one socket: each a node(id:) with a unique 900 KB id (under the 1 MiB message bound).
await attack('distinct 900 KB documents over ws', n(600), async () => {
  const { ws } = await open();
  await init(ws);
  const outcomes = [];
  const pad = 'x'.repeat(900_000);
  for (let i = 0; i < n(600); i++) {
    const r = await op(ws, { query: `{ node(id: "${i}${pad}") { id } }` });
    outcomes.push(errorCode(r));
    if (r?.closed) break;
  }
  ws.close();
  return count(outcomes);
});

/**
 * Writes one binary frame straight to the TCP socket with an all-zero mask key: the bytes go
 * out as they are (ws.send would mask 50 MB in JavaScript first, and the client, not the
 * server, would be what is slow).
 */
function sendRawFrame(ws, payload) {
  const header = Buffer.alloc(14);
  header[0] = 0x82; // FIN, binary
  header[1] = 0x80 | 127; // masked, 64-bit length
  header.writeBigUInt64BE(BigInt(payload.length), 2); // mask key: the 4 zero bytes after it
  ws._socket.write(header);
  ws._socket.write(payload);
}

// 3. Huge frames before connection_init: 12 sockets at once, one 50 MB frame each.
await attack('50 MB frames before connection_init, 12 at once', 12, async () => {
  const frame = Buffer.alloc(n(50) * 1024 * 1024, 0x61);
  const codes = await Promise.all(Array.from({ length: 12 }, async () => {
    const { ws, refused } = await open();
    if (!ws) return `refused ${refused}`;
    ws.on('error', () => undefined);
    const t0 = Date.now();
    sendRawFrame(ws, frame);
    // The server's close frame arrives long before the socket ends (the server no longer reads
    // what follows, so it never sees the client's close frame and waits for its timeout).
    while (ws.readyState === WebSocket.OPEN && Date.now() - t0 < 10_000) await sleep(20);
    const outcome = ws.readyState === WebSocket.OPEN ? 'no answer in 10 s' : `server closed ${ws._closeCode} within ${Math.ceil((Date.now() - t0) / 100) * 100} ms`;
    ws.terminate();
    return outcome;
  }));
  return count(codes);
});

// 4. Cross-origin handshakes: a page of another site opening the socket, then reading builds with their scripts.
await attack('cross-origin handshakes (Origin: http://evil.example)', n(200), async () => {
  const outcomes = [];
  for (let i = 0; i < n(200); i++) {
    const { ws, refused } = await open({ origin: 'http://evil.example' });
    if (!ws) { outcomes.push(`HTTP ${refused}`); continue; }
    const acked = await init(ws);
    const r = acked === 'ack' ? await op(ws, { query: '{ builds(first: 5) { totalCount } }' }) : { closed: acked };
    outcomes.push(r?.data ? 'read builds' : errorCode(r));
    ws.close();
  }
  return count(outcomes);
});

// 5. Revocation on open sockets: 50 sockets of one key, each with a live subscription; the key is revoked over GraphQL.
await attack('revocation on 50 open sockets', 50, async () => {
  const key = cliKey('viewer');
  const id = key.split('_')[1];
  const socks = await Promise.all(Array.from({ length: 50 }, async () => {
    const { ws } = await open();
    await init(ws, { authorization: `Bearer ${key}` });
    ws.send(JSON.stringify({ id: 'live', type: 'subscribe', payload: { query: 'subscription { buildsChanged { kind } }' } }));
    const closed = new Promise((resolve) => ws.on('close', (c) => resolve(c)));
    return { ws, closed };
  }));
  await sleep(300);
  const t0 = Date.now();
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` }, body: JSON.stringify({ query: `mutation { revokeApiKey(input: { apiKeyId: "${id}" }) { apiKey { id } } }` }) });
  if ((await r.json()).errors) throw new Error('revoke failed');
  const codes = await Promise.all(socks.map(async ({ ws, closed }) => {
    const c = await Promise.race([closed, sleep(3000).then(() => null)]);
    if (c !== null) return `closed ${c} after ≤ ${Date.now() - t0} ms`.replace(/\d+ ms/, (m) => `${Math.ceil(Number.parseInt(m) / 100) * 100} ms`);
    const after = await op(ws, { query: '{ builds(first: 1) { totalCount } }' });
    ws.close();
    return `open 3 s later; a query on it: ${errorCode(after)}`;
  }));
  return count(codes);
});

proc.kill('SIGTERM');
await new Promise((r) => proc.once('exit', r));
fs.rmSync(dir, { recursive: true, force: true });
const f = (x) => (Number.isNaN(x) ? '—' : x.toFixed(0));
console.log(`| attack class | tries | outcome | gateway RSS before / peak / after (MB) |\n|---|---|---|---|`);
for (const r of rows) console.log(`| ${r.name} | ${r.tries} | ${r.outcome} | ${f(r.before)} / ${f(r.peak)} / ${f(r.after)} |`);
