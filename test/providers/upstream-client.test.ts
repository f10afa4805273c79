import { Writable } from 'node:stream';
import Keyv from 'keyv';
import { pino } from 'pino';
import { z } from 'zod';
import { ErrorCode, UpstreamError } from '../../src/errors.js';
import { UpstreamClient, type UpstreamClientOptions } from '../../src/providers/upstream/client.js';
import { FakeServer, json, text } from '../fakes/common.js';

const TOKEN = 'tok-SECRET-0123456789abcdef';

/** Captures log lines so a test can check that no secret reached them. */
function captureLogger() {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

let fake: FakeServer;
let srv: { url: string; close: () => Promise<void> };
const clients: UpstreamClient[] = [];
let logs: ReturnType<typeof captureLogger>;

function client(over: Partial<UpstreamClientOptions> = {}): UpstreamClient {
  const c = new UpstreamClient({
    providerId: 'test-up', baseUrl: srv.url, headers: { authorization: `Bearer ${TOKEN}` },
    timeoutMs: 1000, retries: 2, cacheTtlMs: 5000, cache: new Keyv(), logger: logs.logger, backoffMs: 20,
    ...over,
  });
  clients.push(c);
  return c;
}

async function failure(p: Promise<unknown>): Promise<UpstreamError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(UpstreamError);
    return err as UpstreamError;
  }
  throw new Error('expected the call to fail');
}

function expectNoSecret(err: UpstreamError) {
  expect(err.message).not.toContain(TOKEN);
  expect(JSON.stringify(err.extensions)).not.toContain(TOKEN);
  expect(logs.lines.join('\n')).not.toContain(TOKEN);
}

beforeEach(async () => {
  logs = captureLogger();
  fake = new FakeServer('generic');
  let n = 0;
  fake.auth((r) => r.headers.authorization === `Bearer ${TOKEN}`, json({ error_message: `bad token` }, 401));
  fake.get('/items/:id', (r) => ({ id: r.params.id, n: ++n, q: r.query }));
  fake.post('/items', (r) => json({ created: r.body }, 201));
  fake.put('/items/:id', () => ({ ok: true }));
  fake.delete('/items/:id', () => json('Okay', 201));
  fake.get('/echo-token', () => json({ error_message: `token ${TOKEN} is expired` }, 400));
  fake.get('/plain', () => text('hello\nworld'));
  srv = await fake.start();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await srv.close();
});

test('GET sends auth header and query, returns JSON', async () => {
  const c = client();
  const body = await c.get<{ id: string; q: Record<string, string> }>('/items/a%20b', { searchParams: { x: 1, y: undefined } });
  expect(body.id).toBe('a b');
  expect(body.q).toEqual({ x: '1' });
  expect(fake.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  expect(c.stats.calls).toBe(1);
  expect(await c.get('/plain', { responseType: 'text' })).toBe('hello\nworld');
  expect(c.health().status).toBe('UP');
});

test('cache: repeated GET within TTL makes no upstream call; invalidate and TTL refresh it', async () => {
  const c = client({ cacheTtlMs: 300 });
  const a = await c.get<{ n: number }>('/items/1');
  const b = await c.get<{ n: number }>('/items/1');
  expect(b.n).toBe(a.n);
  expect(c.stats.calls).toBe(1);
  await c.put('/items/1', { json: {} });
  await c.invalidate('/items/1');
  expect((await c.get<{ n: number }>('/items/1')).n).toBe(a.n + 1);
  expect(c.stats.calls).toBe(3);
  await new Promise((r) => setTimeout(r, 350));
  await c.get('/items/1');
  expect(c.stats.calls).toBe(4);
  await c.get('/items/1', { cache: false });
  expect(c.stats.calls).toBe(5);
});

test('concurrent identical GETs share one upstream call', async () => {
  const c = client({ cacheTtlMs: 0 });
  const all = await Promise.all([1, 2, 3, 4].map(() => c.get<{ n: number }>('/items/z')));
  expect(new Set(all.map((x) => x.n)).size).toBe(1);
  expect(fake.count('GET', '/items/z')).toBe(1);
});

test('500 is UPSTREAM_UNAVAILABLE; GET retried, POST not', async () => {
  const c = client();
  fake.fault({ status: 500, times: 10 });
  const e = await failure(c.get('/items/1'));
  expect(e.code).toBe(ErrorCode.UPSTREAM_UNAVAILABLE);
  expect(e.extensions.status).toBe(500);
  expect(e.extensions.providerId).toBe('test-up');
  expect(fake.count('GET', '/items/1')).toBe(3);
  const p = await failure(c.post('/items', { json: { a: 1 } }));
  expect(p.code).toBe(ErrorCode.UPSTREAM_UNAVAILABLE);
  expect(fake.count('POST', '/items')).toBe(1);
});

test('GET recovers when a retry succeeds', async () => {
  const c = client();
  fake.fault({ status: 503, times: 1 });
  expect((await c.get<{ id: string }>('/items/9')).id).toBe('9');
  expect(c.stats.calls).toBe(2);
});

test('404, 401, 403 and 400 map to their codes without retry', async () => {
  const c = client();
  expect((await failure(c.get('/nope'))).code).toBe(ErrorCode.UPSTREAM_NOT_FOUND);
  fake.fault({ status: 403, body: { error_message: 'insufficient_scope' } });
  const f = await failure(c.get('/items/1'));
  expect(f.code).toBe(ErrorCode.UPSTREAM_AUTH);
  expect(f.message).toContain('insufficient_scope');
  const bad = client({ headers: { authorization: 'Bearer wrong-token-xyz' } });
  expect((await failure(bad.get('/items/1'))).code).toBe(ErrorCode.UPSTREAM_AUTH);
  fake.fault({ status: 400, body: { error_message: 'file_id or archive_url required' } });
  const r = await failure(c.get('/items/1'));
  expect(r.code).toBe(ErrorCode.UPSTREAM_REJECTED);
  expect(r.extensions.upstream).toEqual({ error_message: 'file_id or archive_url required' });
  expect(fake.count('GET', '/items/1')).toBe(3);
});

test('describeError shapes the message', async () => {
  const c = client({ describeError: (s, b) => `custom ${s} ${(b as { error_message?: string }).error_message}` });
  fake.fault({ status: 400, body: { error_message: 'nope' } });
  expect((await failure(c.get('/items/1'))).message).toContain('custom 400 nope');
});

test('429 honours Retry-After for GET, and gives retryAfterSec when too long', async () => {
  const c = client();
  fake.fault({ status: 429, retryAfterSec: 1 });
  const t0 = Date.now();
  await c.get('/items/1');
  expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
  fake.fault({ status: 429, retryAfterSec: 120 });
  const e = await failure(c.get('/items/2'));
  expect(e.code).toBe(ErrorCode.UPSTREAM_RATE_LIMITED);
  expect(e.extensions.retryAfterSec).toBe(120);
  expect(fake.count('GET', '/items/2')).toBe(1);
});

test('timeout, reset, refused, malformed JSON', async () => {
  const c = client({ timeoutMs: 200, retries: 0 });
  fake.fault({ kind: 'timeout' });
  expect((await failure(c.get('/items/1'))).code).toBe(ErrorCode.UPSTREAM_TIMEOUT);
  fake.fault({ kind: 'reset' });
  expect((await failure(c.get('/items/2'))).code).toBe(ErrorCode.UPSTREAM_UNAVAILABLE);
  fake.fault({ kind: 'malformed' });
  const m = await failure(c.get('/items/3'));
  expect(m.code).toBe(ErrorCode.UPSTREAM_BAD_RESPONSE);
  expect(m.message).toContain('malformed JSON');
  const dead = new FakeServer();
  const d = await dead.start();
  await d.close();
  const gone = client({ baseUrl: d.url, retries: 0 });
  const g = await failure(gone.get('/x'));
  expect(g.code).toBe(ErrorCode.UPSTREAM_UNAVAILABLE);
  expect(g.message).toContain('ECONNREFUSED');
});

test('schema check names the wrong-typed field', async () => {
  const c = client();
  const schema = z.object({ id: z.string(), n: z.number() });
  fake.fault({ kind: 'wrongType', mutate: (b) => ({ ...b, n: 'seven' }) });
  const e = await failure(c.get('/items/1', { schema }));
  expect(e.code).toBe(ErrorCode.UPSTREAM_BAD_RESPONSE);
  expect(e.message).toContain('n:');
  expect((await c.get<{ n: number }>('/items/2', { schema })).n).toBeGreaterThan(0);
});

test('secrets never appear in errors or logs', async () => {
  const c = client({ secrets: ['extra-secret-value'] });
  const e = await failure(c.get('/echo-token'));
  expect(JSON.stringify(e.extensions.upstream)).toContain('***');
  expectNoSecret(e);
  fake.fault({ status: 500, body: { message: `boom extra-secret-value ${TOKEN}` }, times: 5 });
  const f = await failure(c.get('/items/1'));
  expectNoSecret(f);
  expect(f.message).not.toContain('extra-secret-value');
});

test('a foreign URL (from an upstream answer) is refused on private addresses unless allowed; auth headers never go there', async () => {
  const other = new FakeServer('other');
  other.get('/archive', () => ({ ok: 1 }));
  const o = await other.start();
  try {
    // SSRF guard: the fake's 127.0.0.1 is private, so by default nothing is sent.
    const refused = await failure(client().get(`${o.url}/archive`));
    expect(refused.code).toBe(ErrorCode.UPSTREAM_REJECTED);
    expect(refused.message).toMatch(/refused to fetch/);
    expect(other.requests).toHaveLength(0);
    const c = client({ allowPrivateHosts: ['127.0.0.1'] });
    await c.get(`${o.url}/archive`);
    expect(other.requests[0]!.headers.authorization).toBeUndefined();
  } finally {
    await o.close();
  }
});

test('circuit opens after repeated failures, fails fast, then closes', async () => {
  const c = client({ retries: 0, breaker: { volumeThreshold: 3, errorThresholdPercentage: 50, resetTimeoutMs: 400 } });
  fake.fault({ status: 502, times: Infinity });
  for (let i = 0; i < 3; i++) await failure(c.get(`/items/${i}`, { cache: false }));
  expect(c.health().circuitState).toBe('OPEN');
  expect(c.health().status).toBe('DOWN');
  const before = fake.requests.length;
  const e = await failure(c.get('/items/1'));
  expect(e.code).toBe(ErrorCode.UPSTREAM_UNAVAILABLE);
  expect(e.message).toContain('circuit open');
  expect(fake.requests.length).toBe(before);
  fake.clearFaults();
  await new Promise((r) => setTimeout(r, 450));
  await c.get('/items/1');
  expect(c.health()).toMatchObject({ circuitState: 'CLOSED', status: 'UP' });
});

test('404s do not open the circuit', async () => {
  const c = client({ retries: 0, breaker: { volumeThreshold: 2 } });
  for (let i = 0; i < 5; i++) await failure(c.get('/missing'));
  expect(c.health().circuitState).toBe('CLOSED');
});

test('a mutation during an in-flight GET keeps the stale answer out of the cache', async () => {
  const slow = new FakeServer('slow');
  let v = 0;
  slow.get('/v', async () => { const mine = ++v; await new Promise((r) => setTimeout(r, 150)); return { v: mine }; });
  const s = await slow.start();
  try {
    const sc = client({ baseUrl: s.url });
    const pending = sc.get<{ v: number }>('/v');
    await new Promise((r) => setTimeout(r, 30));
    await sc.invalidate('/v');
    expect((await pending).v).toBe(1);
    expect((await sc.get<{ v: number }>('/v')).v).toBe(2);
  } finally {
    await s.close();
  }
});
