import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildSchema, parse } from 'graphql';
import net, { type AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { sharedSerialization, sharedSubscribe } from '../../src/live/shared-execution.js';
import { sendMessage } from '../../src/server/ws-transport.js';
import { readWireFrames } from '../support/ws-wire.js';

const schema = buildSchema('type Query { x: String } type Subscription { tick: String }');

// Real websockets: the server side sends as buildgate's transport sends, the client a plain
// ws client that sees whole messages (a shared result goes out as one frame: see 'one frame per message').
let wss: WebSocketServer;
const serverSockets: WebSocket[] = [];
beforeAll(async () => {
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  wss.on('connection', (ws) => { serverSockets.push(ws); });
  await new Promise((r) => wss.once('listening', r));
});
afterAll(async () => {
  for (const ws of wss.clients) ws.terminate();
  await new Promise((r) => wss.close(r));
});

async function socket() {
  const received: string[] = [];
  const waiters: Array<() => void> = [];
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  client.on('message', (d, isBinary) => { expect(isBinary).toBe(false); received.push(String(d)); waiters.shift()?.(); });
  const before = serverSockets.length;
  await new Promise((r) => client.once('open', r));
  while (serverSockets.length === before) await new Promise((r) => setTimeout(r, 5));
  const s = serverSockets[serverSockets.length - 1]!;
  const next = () => new Promise<string>((r) => { const n = received.length; waiters.push(() => r(received[n]!)); });
  return { s, next, client };
}
const message = (payload: unknown) => JSON.stringify({ id: '1', type: 'next', payload }, sharedSerialization.jsonMessageReplacer);

describe('shared serialisation of subscription results', () => {
  it('sends a shared result as its JSON to every socket, and leaves other messages (even ones quoting the marker) alone', async () => {
    const event = { tick: 'hello' };
    async function* source() { yield event; }
    const rootValue = { tick: () => source() };
    const sub = sharedSubscribe(() => 'viewer');
    const a = (await sub({ schema, document: parse('subscription { tick }'), rootValue })) as AsyncGenerator<any>;
    const b = (await sub({ schema, document: parse('subscription { tick }'), rootValue })) as AsyncGenerator<any>;
    const ra = (await a.next()).value;
    const rb = (await b.next()).value;
    expect(ra).toBe(rb); // one execution for both
    const x = await socket();
    const y = await socket();
    const gotX = x.next();
    const gotY = y.next();
    await sendMessage(x.s, message(sharedSerialization.onNext(null, '1', null, null, ra) ?? ra));
    await sendMessage(y.s, message(sharedSerialization.onNext(null, '1', null, null, rb) ?? rb));
    for (const out of [await gotX, await gotY]) expect(JSON.parse(out)).toEqual({ id: '1', type: 'next', payload: { data: { tick: 'hello' } } });
    // A payload of its own whose text is the marker itself goes out unchanged.
    const own = { data: { tick: '__buildgate_shared_payload__' } };
    const gotOwn = x.next();
    await sendMessage(x.s, message(own));
    expect(JSON.parse(await gotOwn)).toEqual({ id: '1', type: 'next', payload: own });
    x.client.close();
    y.client.close();
  });
});

/** A client on a bare TCP socket that reads the server's frames as they are on the wire. */
async function rawFrames() {
  const port = (wss.address() as AddressInfo).port;
  const before = serverSockets.length;
  const tcp = net.connect(port, '127.0.0.1');
  tcp.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  const frames: Array<{ fin: boolean; opcode: number; payload: string }> = [];
  readWireFrames(tcp, (f) => frames.push({ ...f, payload: f.payload.toString() }));
  while (serverSockets.length === before) await new Promise((r) => setTimeout(r, 5));
  return { s: serverSockets[serverSockets.length - 1]!, frames, close: () => tcp.destroy() };
}

describe('one frame per message', () => {
  it('a shared result goes out as one final text frame holding the whole message, of any length', async () => {
    const raw = await rawFrames();
    const sub = sharedSubscribe(() => 'viewer');
    // Lengths on both sides of the 7-bit and 16-bit length encodings.
    for (const size of [10, 200, 70_000]) {
      const event = { tick: 'x'.repeat(size) };
      async function* source() { yield event; }
      const it = (await sub({ schema, document: parse('subscription { tick }'), rootValue: { tick: () => source() } })) as AsyncGenerator<any>;
      const r = (await it.next()).value;
      const n = raw.frames.length;
      await sendMessage(raw.s, message(sharedSerialization.onNext(null, '1', null, null, r) ?? r));
      while (raw.frames.length === n) await new Promise((res) => setTimeout(res, 5));
      const f = raw.frames[n]!;
      expect({ fin: f.fin, opcode: f.opcode }).toEqual({ fin: true, opcode: 1 });
      expect(JSON.parse(f.payload)).toEqual({ id: '1', type: 'next', payload: { data: { tick: event.tick } } });
    }
    raw.close();
  });
});

describe('shared results through the gateway\'s websocket transport', () => {
  it('every message two subscribers of the same feed receive is one valid graphql-ws message', async () => {
    const { startGateway } = await import('../support/gateway.js');
    const { validateMessage } = await import('graphql-ws');
    const gw = await startGateway();
    try {
      const url = gw.url.replace(/^http/, 'ws');
      const subscribers = await Promise.all([0, 1].map(async () => {
        const client = new WebSocket(url, 'graphql-transport-ws');
        const raw: Array<{ text: string; binary: boolean }> = [];
        client.on('message', (d, binary) => raw.push({ text: String(d), binary }));
        client.on('close', (c, why) => raw.push({ text: `closed ${c} ${why}`, binary: false }));
        client.on('unexpected-response', (_q, res) => raw.push({ text: `refused ${res.statusCode}`, binary: false }));
        await new Promise((r) => client.once('open', r));
        client.send(JSON.stringify({ type: 'connection_init' }));
        while (raw.length === 0) await new Promise((r) => setTimeout(r, 10)); // the ack
        client.send(JSON.stringify({ id: 'feed', type: 'subscribe', payload: { query: 'subscription { buildsChanged { kind build { name } } }' } }));
        return { client, raw };
      }));
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 0; i < 3; i++) {
        const r = await gw.gql('mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id } } }', { i: { name: `framed-${i}`, steps: [{ stepOrder: 1, stepType: 'SHELL', shell: { shellType: 'SCRIPT', command: 'true' } }] } });
        expect(r.errors).toBeUndefined();
      }
      const deadline = Date.now() + 5000;
      while (subscribers.some((s) => s.raw.filter((m) => m.text.includes('"next"')).length < 3) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const s of subscribers) {
        const messages = s.raw.map((m) => { expect(m.binary).toBe(false); return validateMessage(JSON.parse(m.text)); });
        expect(messages.map((m) => m.type)).toEqual(['connection_ack', 'next', 'next', 'next']);
        expect(messages.slice(1).map((m) => (m as unknown as { payload: { data: { buildsChanged: { build: { name: string } } } } }).payload.data.buildsChanged.build.name)).toEqual(['framed-0', 'framed-1', 'framed-2']);
        s.client.close();
      }
      // Both got the same bytes of payload: one execution, one serialisation.
      expect(subscribers[0]!.raw.slice(1).map((m) => m.text)).toEqual(subscribers[1]!.raw.slice(1).map((m) => m.text));
    } finally {
      await gw.close();
    }
  });
});
