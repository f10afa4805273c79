import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { readWireFrames, type WireFrame } from '../support/ws-wire.js';
import { createShellBuild, range, startRun, storedEnd } from './follow.js';

/** A graphql-ws client on a bare TCP socket: every frame as it is on the wire, each checked whole. */
async function rawClient(url: string) {
  const u = new URL(url);
  const tcp = net.connect(Number(u.port), u.hostname);
  tcp.write(`GET /graphql HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n`);
  const frames: WireFrame[] = [];
  const send = (obj: unknown) => {
    const data = Buffer.from(JSON.stringify(obj));
    const mask = Buffer.from([1, 2, 3, 4]);
    const masked = Buffer.from(data.map((b, i) => b ^ mask[i % 4]!));
    const len = data.length < 126 ? Buffer.from([0x80 | data.length]) : Buffer.from([0x80 | 126, data.length >> 8, data.length & 0xff]);
    tcp.write(Buffer.concat([Buffer.from([0x81]), len, mask, masked]));
  };
  readWireFrames(tcp, (f) => {
    frames.push(f);
    if (f.opcode === 9) tcp.write(Buffer.from([0x8a, 0x80, 0, 0, 0, 0])); // pong
  });
  await new Promise((r) => tcp.once('connect', r));
  return { frames, send, close: () => tcp.destroy() };
}

describe('live batches on the wire', () => {
  let gw: TestGateway;
  beforeAll(async () => { gw = await startGateway(); });
  afterAll(async () => { await gw?.close(); });

  it('every frame of a burst is one whole graphql-ws message, and the lines arrive once each, in order', async () => {
    const runId = await startRun(gw, await createShellBuild(gw, 'burst', 'sleep 1; seq 1 30000'));
    const clients = await Promise.all(range(3).map(() => rawClient(gw.url)));
    for (const c of clients) {
      c.send({ type: 'connection_init' });
      while (!c.frames.some((f) => f.payload.includes('connection_ack'))) await new Promise((r) => setTimeout(r, 10));
      c.send({ id: 'x', type: 'subscribe', payload: { query: 'subscription($id: ID!) { runLog(runId: $id) { lines { seq } lastSeq } }', variables: { id: runId } } });
    }
    const deadline = Date.now() + 60_000;
    const complete = (c: { frames: Array<{ payload: Buffer }> }) => c.frames.some((f) => f.payload.includes('"type":"complete"'));
    while (!clients.every(complete) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const end = await storedEnd(gw, runId);
    for (const c of clients) {
      const text = c.frames.filter((f) => f.opcode !== 9);
      expect(text.every((f) => f.fin && f.opcode === 1)).toBe(true);
      const messages = text.map((f) => JSON.parse(f.payload.toString()) as { id?: string; type: string; payload?: { data: { runLog: { lines: Array<{ seq: number }> } } } });
      expect(messages.at(-1)).toEqual({ id: 'x', type: 'complete' });
      const seqs = messages.filter((m) => m.type === 'next').flatMap((m) => m.payload!.data.runLog.lines.map((l) => l.seq));
      expect(seqs).toEqual(range(end.lastSeq));
      c.close();
    }
  }, 90_000);

  it('a subscription completed and opened again under the same id on the same socket gets no batch of the old one', async () => {
    const runId = await startRun(gw, await createShellBuild(gw, 'again', 'sleep 1; for i in $(seq 1 40); do seq 1 250; sleep 0.05; done'));
    const c = await rawClient(gw.url);
    c.send({ type: 'connection_init' });
    while (!c.frames.some((f) => f.payload.includes('connection_ack'))) await new Promise((r) => setTimeout(r, 10));
    const query = 'subscription($id: ID!, $after: SafeInt) { runLog(runId: $id, afterSeq: $after) { lines { seq } lastSeq } }';
    type Msg = { id?: string; type: string; payload?: { data: { runLog: { lines: Array<{ seq: number }>; lastSeq: number } } } };
    const messages = () => c.frames.filter((f) => f.opcode === 1).map((f) => JSON.parse(f.payload.toString()) as Msg);
    const seqs = () => messages().filter((m) => m.type === 'next').flatMap((m) => m.payload!.data.runLog.lines.map((l) => l.seq));
    c.send({ id: 'x', type: 'subscribe', payload: { query, variables: { id: runId } } });
    const deadline = Date.now() + 60_000;
    while (seqs().length < 2000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    // Complete and, in the same write, subscribe again under the same id from the last line seen.
    const seen = seqs().length;
    const after = seqs().at(-1)!;
    c.send({ id: 'x', type: 'complete' });
    c.send({ id: 'x', type: 'subscribe', payload: { query, variables: { id: runId, after } } });
    while (!messages().some((m) => m.type === 'complete') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const end = await storedEnd(gw, runId);
    // Batches the old subscription sent before the server took the complete may arrive before
    // the new one's first line (after + 1, its last occurrence); none after it: from there on
    // each line once, in order.
    const all = seqs();
    const firstNew = all.lastIndexOf(after + 1);
    expect(firstNew).toBeGreaterThanOrEqual(seen);
    expect(all.slice(firstNew)).toEqual(range(end.lastSeq, after + 1));
    expect(all.slice(0, firstNew)).toEqual(range(all[firstNew - 1]!));
    c.close();
  }, 90_000);
});
