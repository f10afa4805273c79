import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { parseConfig } from '../../src/config/index.js';
import { OperationLimits } from '../../src/limits/operation-limits.js';
import { buildSchema } from 'graphql';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { createKey, post, startJwks, strictGateway, wsConnect, wsOperation } from './helpers.js';

/** Opens a websocket with these handshake headers: 'open', or the HTTP status the handshake was refused with. */
function handshake(url: string, headers: Record<string, string>): Promise<'open' | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers });
    ws.on('open', () => { ws.close(); resolve('open'); });
    ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); res.resume(); });
    ws.on('error', () => undefined);
  });
}

/** POSTs a GraphQL query with exactly these headers (fetch does not let a caller set Host). */
function rawPost(url: string, headers: Record<string, string>, query: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ query }));
  });
}

/** Resolves with the close code once the socket closes. */
const closeOf = (socket: WebSocket) => new Promise<number>((resolve) => {
  if (socket.readyState === WebSocket.CLOSED) resolve(-1);
  socket.on('close', (code) => resolve(code));
});

describe('cross-site websocket hijacking: the Origin allow-list (embedded default)', () => {
  let gw: TestGateway;
  beforeAll(async () => { gw = await startGateway({ config: { auth: { anonymous: undefined }, server: { allowedHosts: ['buildgate.example'], ws: { allowedOrigins: ['https://ci.example'] } } } }); });
  afterAll(async () => { await gw?.close(); });

  it('a page of another site gets HTTP 403 before the upgrade; own, loopback, listed origins and non-browser clients pass', async () => {
    const port = new URL(gw.url).port;
    for (const origin of ['http://evil.example', `http://evil.example:${port}`, 'null', 'https://ci.example.evil', 'file://', 'chrome-extension://abc']) {
      expect([origin, await handshake(gw.url, { origin })]).toEqual([origin, 403]);
    }
    for (const origin of [`http://127.0.0.1:${port}`, 'http://localhost:3000', 'http://[::1]:8080', 'https://ci.example']) {
      expect([origin, await handshake(gw.url, { origin })]).toEqual([origin, 'open']);
    }
    expect(await handshake(gw.url, {})).toBe('open');
    // The gateway's own origin, as a browser behind a proxy sends it (Host and Origin agree).
    expect(await handshake(gw.url, { origin: 'https://buildgate.example', host: 'buildgate.example' })).toBe('open');
    // A refused page read nothing: HTTP reads from it are refused by the browser (no CORS), the socket by the server.
    expect((await post(gw.url, { query: '{ builds { totalCount } }' })).status).toBe(200);
  });
});

describe('DNS rebinding: a gateway bound to loopback answers only loopback Host names (and server.allowedHosts)', () => {
  let gw: TestGateway;
  beforeAll(async () => { gw = await startGateway({ config: { auth: { anonymous: undefined } } }); });
  afterAll(async () => { await gw?.close(); });

  it('a page whose name was re-pointed at 127.0.0.1 is same-origin to the browser, yet gets 403 on HTTP and on the websocket', async () => {
    const port = new URL(gw.url).port;
    const evil = { host: `evil.example:${port}`, origin: `http://evil.example:${port}` };
    // Same-origin from the browser's view: Host and Origin agree, so only the Host name can tell.
    const res = await rawPost(gw.url, evil, '{ builds { totalCount } }');
    expect(res.status).toBe(403);
    expect((JSON.parse(res.body) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('HOST_NOT_ALLOWED');
    expect(await handshake(gw.url, evil)).toBe(403);
    // Every route, not only /graphql.
    expect((await rawPost(gw.url.replace(/\/graphql$/, '/healthz'), { host: evil.host }, '')).status).toBe(403);
    // Loopback names pass, with and without a port.
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', '[::1]:80', '127.1.2.3']) {
      expect([host, (await rawPost(gw.url, { host }, '{ __typename }')).status]).toEqual([host, 200]);
    }
    expect(await handshake(gw.url, { host: `localhost:${port}`, origin: `http://localhost:${port}` })).toBe('open');
  });
});

describe('websocket message sizes and open operations', () => {
  let gw: TestGateway;
  let auth: Record<string, string>;
  beforeAll(async () => {
    gw = await strictGateway({ limits: { wsOperationsPerSocket: 3, wsOperationsPerCredential: 5 } });
    auth = (await createKey(gw, 'viewer')).auth;
  });
  afterAll(async () => { await gw?.close(); });

  it('before connection_init is authenticated a message may have 64 KiB: a larger one closes the socket with 1009', async () => {
    const ws = new WebSocket(gw.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    await new Promise((r) => ws.once('open', r));
    const closed = closeOf(ws);
    ws.send(JSON.stringify({ type: 'connection_init', payload: { ...auth, padding: 'x'.repeat(100 * 1024) } }));
    expect(await closed).toBe(1009);
    // Just under the bound: an ordinary connection_init with a long JWT-sized credential is fine.
    const ok = await wsConnect(gw.url, { ...auth, padding: 'x'.repeat(60 * 1024) });
    expect(ok.outcome).toBe('ack');
    ok.socket.close();
  });

  it('after it, messages up to 1 MiB are read (a 600 KB operation runs), larger ones close with 1009', async () => {
    const c = await wsConnect(gw.url, auth);
    expect(c.outcome).toBe('ack');
    const big = await wsOperation(c.socket, { query: 'query($f: BuildFilterInput) { builds(filter: $f) { totalCount } }', variables: { f: { nameContains: 'x'.repeat(600_000) } } });
    expect(big.errors).toBeUndefined();
    expect(big.data.builds.totalCount).toBe(0);
    const closed = closeOf(c.socket);
    c.socket.send(JSON.stringify({ id: '9', type: 'subscribe', payload: { query: '{ __typename }', variables: { pad: 'x'.repeat(1100 * 1024) } } }));
    expect(await closed).toBe(1009);
  });

  it('at most 3 operations open on one socket and 5 per credential (RATE_LIMITED); a completed one frees its place', async () => {
    const sub = { query: 'subscription { buildsChanged { kind } }' };
    const a = await wsConnect(gw.url, auth);
    const subscribe = (socket: WebSocket, id: string) => socket.send(JSON.stringify({ id, type: 'subscribe', payload: sub }));
    for (const id of ['1', '2', '3']) subscribe(a.socket, id);
    await new Promise((r) => setTimeout(r, 200));
    const fourth = await wsOperation(a.socket, sub, '4', 2000);
    expect(fourth.errors?.[0].extensions.code).toBe('RATE_LIMITED');
    expect(fourth.errors?.[0].message).toMatch(/3 operations/);
    a.socket.send(JSON.stringify({ id: '1', type: 'complete' }));
    await new Promise((r) => setTimeout(r, 200));
    subscribe(a.socket, '5'); // takes the freed place: 3 open on a
    const b = await wsConnect(gw.url, auth);
    subscribe(b.socket, '1');
    subscribe(b.socket, '2'); // 5 open for this key
    await new Promise((r) => setTimeout(r, 200));
    const sixth = await wsOperation(b.socket, sub, '3', 2000);
    expect(sixth.errors?.[0].extensions.code).toBe('RATE_LIMITED');
    expect(sixth.errors?.[0].message).toMatch(/5 operations/);
    // Another credential has its own count.
    const other = await wsConnect(gw.url, (await createKey(gw, 'viewer')).auth);
    expect(await wsOperation(other.socket, { query: '{ builds { totalCount } }' })).toMatchObject({ data: { builds: { totalCount: 0 } } });
    // Closing a socket gives its places back.
    const closedA = closeOf(a.socket);
    a.socket.close();
    await closedA;
    await new Promise((r) => setTimeout(r, 200));
    expect(await wsOperation(b.socket, { query: '{ builds { totalCount } }' }, '7')).toMatchObject({ data: { builds: { totalCount: 0 } } });
    b.socket.close(); other.socket.close();
  });
});

describe('the graphql-ws document cache is bounded in bytes', () => {
  const schema = buildSchema('type Query { node(id: ID!): String }');
  it('distinct large documents never hold more than documentCacheBytes; a document over 1/16 of it is not kept', () => {
    const limits = new OperationLimits(parseConfig({ server: { ws: { documentCacheBytes: 4 * 1024 * 1024 } }, limits: { maxTokens: 2000 } }));
    for (let i = 0; i < 200; i++) {
      const r = limits.check(schema, `{ node(id: "${String(i).padStart(20_000, 'x')}") }`);
      expect('document' in r).toBe(true);
      expect(limits.cachedDocumentBytes).toBeLessThanOrEqual(4 * 1024 * 1024);
    }
    expect(limits.cachedDocumentBytes).toBeGreaterThan(2 * 1024 * 1024);
    const before = limits.cachedDocumentBytes;
    limits.check(schema, `{ node(id: "${'y'.repeat(300_000)}") }`);
    expect(limits.cachedDocumentBytes).toBe(before);
    // Small documents (subscriptions many clients share) are kept: the same object comes back.
    const q = '{ node(id: "1") }';
    const first = limits.check(schema, q) as { document: unknown };
    expect((limits.check(schema, q) as { document: unknown }).document).toBe(first.document);
  });
});

describe('reconnects: the default connect budget', () => {
  let gw: TestGateway;
  beforeAll(async () => { gw = await startGateway({ config: { auth: { anonymous: undefined }, limits: { wsConnectsPerMinute: undefined } } }); });
  afterAll(async () => { await gw?.close(); });

  it('a page of 50 live views connects, loses its sockets and reconnects at once, twice: all accepted (with a key and anonymously)', async () => {
    const { ApiKeys } = await import('../../src/auth/api-keys.js');
    const key = (await new ApiKeys(gw.server.store).create({ role: 'viewer' })).key;
    for (const params of [{ authorization: `Bearer ${key}` }, {}]) {
      for (let round = 0; round < 3; round++) {
        const all = await Promise.all(Array.from({ length: 50 }, () => wsConnect(gw.url, params)));
        expect(all.map((c) => c.outcome).filter((o) => o !== 'ack')).toEqual([]);
        await Promise.all(all.map((c) => { const done = closeOf(c.socket); c.socket.close(); return done; }));
      }
    }
  });
});

describe.each(['sqlite', 'postgres'] as const)('credentials checked again on open sockets (%s)', (database) => {
  let gw: TestGateway;
  let jwks: Awaited<ReturnType<typeof startJwks>>;
  const ISS = 'https://idp.test/';
  const AUD = 'buildgate';
  beforeAll(async () => {
    jwks = await startJwks();
    gw = await strictGateway({ server: { ws: { credentialRecheckMs: 300 } }, auth: { jwt: { jwksUrl: jwks.url, issuer: ISS, audience: AUD } } }, database);
  });
  afterAll(async () => { await gw?.close(); await jwks?.close(); });

  const watch = async (authorization: string) => {
    const c = await wsConnect(gw.url, { authorization });
    expect(c.outcome).toBe('ack');
    c.socket.send(JSON.stringify({ id: 's', type: 'subscribe', payload: { query: 'subscription { buildsChanged { kind } }' } }));
    const closed = closeOf(c.socket);
    await new Promise((r) => setTimeout(r, 200)); // the subscription is open: only the socket's own re-check can end it
    return { socket: c.socket, closed };
  };

  it('revokeApiKey closes the key\'s open sockets at once with 4403 (a live subscription included)', async () => {
    const admin = await createKey(gw, 'admin');
    const k = await createKey(gw, 'viewer');
    const w = await watch(k.auth.authorization!);
    const other = await watch((await createKey(gw, 'viewer')).auth.authorization!);
    const t0 = Date.now();
    const r = await post(gw.url, { query: 'mutation($id: ID!) { revokeApiKey(input: { apiKeyId: $id }) { apiKey { id } } }', variables: { id: k.id } }, admin.auth);
    expect(r.json.errors).toBeUndefined();
    expect(await w.closed).toBe(4403);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(other.socket.readyState).toBe(WebSocket.OPEN);
    other.socket.close();
  });

  it('a key revoked by another process (the CLI, another replica) closes its sockets within credentialRecheckMs', async () => {
    const k = await createKey(gw, 'operator');
    const w = await watch(k.auth.authorization!);
    await (gw.server.store.db as any).updateTable('api_keys').set({ revoked_at: Date.now() }).where('id', '=', k.id).execute();
    const t0 = Date.now();
    expect(await w.closed).toBe(4403);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('a JWT that expires closes its sockets with 4403 (expiry as HTTP counts it: exp + 30 s of clock tolerance)', async () => {
    const exp = Math.floor(Date.now() / 1000) - 28; // expired 28 s ago: accepted for about 2 s more
    const token = await new SignJWT({ roles: ['viewer'] }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject('bob')
      .setIssuer(ISS).setAudience(AUD).setIssuedAt(exp - 60).setExpirationTime(exp).sign(jwks.privateKey);
    const w = await watch(`Bearer ${token}`);
    expect(await w.closed).toBe(4403);
    expect((await post(gw.url, { query: '{ builds { totalCount } }' }, { authorization: `Bearer ${token}` })).status).toBe(401);
  }, 15_000);
});
