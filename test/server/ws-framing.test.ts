import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildSchema, parse } from 'graphql';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { sharedSerialization, sharedSubscribe } from '../../src/live/shared-execution.js';
import { sendMessage } from '../../src/server/ws-transport.js';

const schema = buildSchema('type Query { x: String } type Subscription { tick: String }');

// Real websockets: the server side sends as buildgate's transport sends, the client a plain
// ws client that sees whole messages (the shared bytes go out as a second fragment).
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
