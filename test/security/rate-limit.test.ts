import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createClient } from 'graphql-ws';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import type { TestGateway } from '../support/gateway.js';
import { createKey, post, strictGateway, wsConnect } from './helpers.js';

const REDIS_URL = process.env.BUILDGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const MUTATION = { query: 'mutation { deleteBuild(input: { buildId: "YmcxfG5hdGl2ZXxCdWlsZHw5OTk5" }) { deletedBuildId errors { code } } }' }; // a build that does not exist

describe.each(['memory', 'redis'] as const)('rate limits per credential (%s)', (backend) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await strictGateway({ limits: { mutationsPerMinute: 3, wsConnectsPerMinute: 2 }, ...(backend === 'redis' ? { redis: { url: REDIS_URL } } : {}) });
  });
  afterAll(async () => { await gw?.close(); });

  it('mutations: the budget passes, then 429 RATE_LIMITED with Retry-After; another key has its own budget; reads are not limited', async () => {
    const a = await createKey(gw, 'admin');
    for (let i = 0; i < 3; i++) {
      const r = await post(gw.url, MUTATION, a.auth);
      expect([i, r.status, r.json.data.deleteBuild.errors[0].code]).toEqual([i, 200, 'NOT_FOUND']);
    }
    const limited = await post(gw.url, MUTATION, a.auth);
    expect(limited.status).toBe(429);
    const retry = Number(limited.headers.get('retry-after'));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    expect(limited.json.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSec: retry });
    expect(limited.json.errors[0].extensions.http).toBeUndefined();
    expect((await post(gw.url, { query: '{ builds { totalCount } }' }, a.auth)).status).toBe(200);
    const b = await createKey(gw, 'admin');
    expect((await post(gw.url, MUTATION, b.auth)).status).toBe(200);
    // Two aliased mutations in one request count twice.
    const c = await createKey(gw, 'admin');
    const two = await post(gw.url, { query: 'mutation { x: deleteBuild(input: { buildId: "YmcxfG5hdGl2ZXxCdWlsZHw5OTk5" }) { deletedBuildId } y: deleteBuild(input: { buildId: "YmcxfG5hdGl2ZXxCdWlsZHw5OTk5" }) { deletedBuildId } }' }, c.auth);
    expect(two.status).toBe(200);
    expect((await post(gw.url, MUTATION, c.auth)).status).toBe(200);
    expect((await post(gw.url, MUTATION, c.auth)).status).toBe(429);
    if (backend === 'redis') {
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`buildgate:rl:mutation*${a.id}*`);
      await redis.quit();
      expect(keys.length).toBe(1);
    }
  });

  it('graphql-ws: connects beyond the budget close with 4429; mutations over ws share the HTTP budget', async () => {
    const k = await createKey(gw, 'admin');
    const params = { authorization: k.auth.authorization };
    const first = await wsConnect(gw.url, params);
    const second = await wsConnect(gw.url, params);
    const third = await wsConnect(gw.url, params);
    expect([first.outcome, second.outcome, third.outcome]).toEqual(['ack', 'ack', 4429]);
    expect(third.reason).toMatch(/retry after \d+ s/);
    first.socket.close(); second.socket.close();

    const m = await createKey(gw, 'admin');
    for (let i = 0; i < 3; i++) await post(gw.url, MUTATION, m.auth);
    const client = createClient({ url: gw.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: m.auth.authorization }, retryAttempts: 0 });
    const r = await new Promise<any>((resolve) => client.subscribe(MUTATION, { next: resolve, error: resolve, complete: () => undefined }));
    expect(r[0].extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(r[0].extensions.retryAfterSec).toBeGreaterThanOrEqual(1);
    await client.dispose();
  });
});

describe('anonymous callers are limited per IP address', () => {
  let gw: TestGateway;
  beforeAll(async () => { gw = await strictGateway({ auth: { anonymous: 'admin' }, limits: { mutationsPerMinute: 2 } }); });
  afterAll(async () => { await gw?.close(); });

  it('the third anonymous mutation from 127.0.0.1 is refused, a key still works', async () => {
    expect((await post(gw.url, MUTATION)).status).toBe(200);
    expect((await post(gw.url, MUTATION)).status).toBe(200);
    expect((await post(gw.url, MUTATION)).status).toBe(429);
    expect((await post(gw.url, MUTATION, (await createKey(gw, 'admin')).auth)).status).toBe(200);
  });
});
