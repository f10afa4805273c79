import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { CallbackDelivery } from '../../src/engine/callback.js';
import { Engine } from '../../src/engine/engine.js';
import { stepExecutors } from '../../src/engine/steps/index.js';
import type { NativeProvider } from '../../src/providers/native/index.js';
import type { ConfigInput } from '../../src/config/index.js';
import { waitFor as until } from '../security/helpers.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

/**
 * Run callbacks: called for every terminal state however the run got there, delivered only
 * by a 2xx, retried with exponential backoff with each attempt visible in callbackStatus,
 * never holding up a shutdown, and resumed by the next start when one was still pending.
 */

const CREATE = `mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id } } }`;
const RUN = `mutation($id: ID!, $cb: String) { runBuild(input: { buildId: $id, callbackUrl: $cb }) { run { id key state } } }`;
const CANCEL = `mutation($id: ID!) { cancelRun(input: { runId: $id }) { run { id state } } }`;
const STATE = `query($id: ID!) { run(id: $id) { state details } }`;
const logger = pino({ level: 'silent' });

interface Hit { at: number; path: string; body: any }
/** A callback receiver; `answer` decides each response's status (and a redirect target for 3xx). */
async function receiver(answer: (n: number, path: string) => number = () => 200) {
  const hits: Hit[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      hits.push({ at: Date.now(), path: req.url ?? '', body: body ? JSON.parse(body) : null });
      const status = answer(hits.length, req.url ?? '');
      res.writeHead(status, status >= 300 && status < 400 ? { location: '/inner' } : {});
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: (p = '/hook') => `http://127.0.0.1:${(server.address() as AddressInfo).port}${p}`,
    hits,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const engineConfig = (callback: object): ConfigInput => ({ engine: { allowPrivateHosts: ['127.0.0.1'], maxConcurrentRuns: 1, callback } as never });

describe('CallbackDelivery', () => {
  const settings = { attempts: 3, initialDelayMs: 20, maxDelayMs: 1000, timeoutMs: 5000 };
  const deliver = async (url: string) => {
    const statuses: string[] = [];
    await new CallbackDelivery(settings, ['127.0.0.1'], logger, async (_id, s) => { statuses.push(s); }).deliver(1, url, { x: 1 });
    return statuses;
  };

  it('only a 2xx is delivered: a 302 is final and not followed, a 404 is final, a 503 is retried until the attempts run out', async () => {
    const r = await receiver((_n, p) => (p === '/redirect' ? 302 : p === '/missing' ? 404 : p === '/busy' ? 503 : 204));
    try {
      expect((await deliver(r.url('/redirect'))).at(-1)).toBe('FAILED after 1 attempt(s): HTTP 302 (redirects are not followed)');
      expect(r.hits.filter((h) => h.path === '/inner')).toHaveLength(0);
      expect((await deliver(r.url('/missing'))).at(-1)).toBe('FAILED after 1 attempt(s): HTTP 404');
      const busy = await deliver(r.url('/busy'));
      expect(busy.at(-1)).toBe('FAILED after 3 attempt(s): HTTP 503');
      expect(busy.filter((s) => /^PENDING: attempt \d of 3 failed \(HTTP 503\); next attempt at \d{4}-/.test(s))).toHaveLength(2);
      expect((await deliver(r.url('/ok'))).at(-1)).toBe('DELIVERED 204 after 1 attempt(s)');
    } finally {
      await r.close();
    }
  });
});

describe('run callbacks through the engine', () => {
  let gw: TestGateway;
  let r: Awaited<ReturnType<typeof receiver>>;
  let failing = true;
  let shellBuild: string;
  let longBuild: string;
  const others: TestGateway[] = [];

  beforeAll(async () => {
    r = await receiver((_n, p) => (p === '/flaky' && failing ? 503 : 200));
    gw = await startGateway({ database: 'postgres', config: engineConfig({ attempts: 4, initialDelayMs: 500, maxDelayMs: 5000 }) });
    const create = async (name: string, command: string) => ((await gw.gql(CREATE, { i: { name, steps: [{ stepOrder: 1, stepType: 'SHELL', shell: { shellType: 'COMMAND', command } }] } })).data as any).createBuild.build.id as string;
    shellBuild = await create('quick', 'echo hi');
    longBuild = await create('long', 'sleep 30 & wait');
  });
  afterAll(async () => {
    for (const o of others) await o.close();
    await gw?.close();
    await r?.close();
  });

  const run = async (g: TestGateway, build: string, cb: string) => ((await g.gql(RUN, { id: build, cb })).data as any).runBuild.run as { id: string; key: string; state: string };
  const status = async (g: TestGateway, id: string) => ((await g.gql(STATE, { id })).data as any).run.details.callbackStatus as string | null;
  const hitsFor = (key: string) => r.hits.filter((h) => h.body?.buildRunSeq === Number(key));

  it('retries with exponential backoff, each attempt visible in callbackStatus, until a 2xx', async () => {
    failing = true;
    const ran = await run(gw, shellBuild, r.url('/flaky'));
    const seen = new Set<string>();
    await until(async () => {
      const s = await status(gw, ran.id);
      if (s) seen.add(s.replace(/next attempt at .*/, 'next attempt at …'));
      if (hitsFor(ran.key).length === 2) failing = false;
      return s?.startsWith('DELIVERED') ? s : null;
    });
    expect(await status(gw, ran.id)).toBe('DELIVERED 200 after 3 attempt(s)');
    expect([...seen]).toEqual(expect.arrayContaining([
      'PENDING: attempt 1 of 4 failed (HTTP 503); next attempt at …',
      'PENDING: attempt 2 of 4 failed (HTTP 503); next attempt at …',
    ]));
    const at = hitsFor(ran.key).map((h) => h.at);
    expect(at).toHaveLength(3);
    // 500 ms, then 1000 ms: doubling
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(480);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(980);
    expect(hitsFor(ran.key)[2]!.body).toMatchObject({ runState: 'DONE', buildName: 'quick' });
  });

  it('a run canceled while queued and one canceled while running both call back', async () => {
    const running = await run(gw, longBuild, r.url('/cancel'));
    const queued = await run(gw, longBuild, r.url('/cancel'));
    expect(queued.state).toBe('QUEUED');
    await until(async () => ((await gw.gql(STATE, { id: running.id })).data as any).run.state === 'RUNNING');
    await gw.gql(CANCEL, { id: queued.id });
    await gw.gql(CANCEL, { id: running.id });
    for (const x of [queued, running]) {
      await until(async () => hitsFor(x.key).length > 0);
      expect(hitsFor(x.key)[0]!.body).toMatchObject({ runState: 'CANCELED' });
      expect(await until(async () => (await status(gw, x.id))?.startsWith('DELIVERED') && status(gw, x.id))).toMatch(/^DELIVERED 200 after \d attempt\(s\)$/);
    }
  });

  /** A run the store shows RUNNING although no process runs it: what a crash or a dead agent leaves. */
  async function orphan(): Promise<{ id: string; key: string }> {
    const ran = await run(gw, shellBuild, r.url('/orphan'));
    await until(async () => hitsFor(ran.key).length === 1);
    await until(async () => (await status(gw, ran.id))?.startsWith('DELIVERED'));
    r.hits.splice(0, r.hits.length, ...r.hits.filter((h) => h.body?.buildRunSeq !== Number(ran.key)));
    await (gw.server.store.db as any).updateTable('build_runs').set({ state: 'RUNNING', end_time: null, callback_status: null })
      .where('id', '=', Number(ran.key)).execute();
    return ran;
  }

  it('a run ended by crash recovery at start calls back', async () => {
    const ran = await orphan();
    others.push(await startGateway({ pgSchema: gw.pgSchema, config: engineConfig({ attempts: 2, initialDelayMs: 100 }) }));
    await until(async () => hitsFor(ran.key).length === 1);
    expect(await until(async () => (await status(gw, ran.id))?.startsWith('DELIVERED') && status(gw, ran.id))).toBe('DELIVERED 200 after 1 attempt(s)');
    expect(hitsFor(ran.key)).toHaveLength(1); // once: the callback recovery starts is not resumed as well
    expect(hitsFor(ran.key)[0]!.body).toMatchObject({ runState: 'ERROR', errorMessage: expect.stringMatching(/stopped while this run was running/) });
  });

  it('a run whose build agent died calls back when the next agent ends it', async () => {
    const ran = await orphan();
    const store = gw.server.store;
    // a second engine on the same store and key, as an agent has
    const builds = (gw.server.services.registry.get('native') as NativeProvider).builds;
    const agent = new Engine(store, builds, gw.server.services.config.engine, gw.server.services.live, logger, stepExecutors);
    await agent.runQueued(Number(ran.key));
    await until(async () => hitsFor(ran.key).length === 1);
    expect(hitsFor(ran.key)[0]!.body).toMatchObject({ runState: 'ERROR', errorMessage: expect.stringMatching(/build agent running it stopped/) });
    await agent.shutdown();
  });

  it('shutdown does not wait for a retry; the pending callback is resumed by the next start', async () => {
    failing = true;
    const slow = await startGateway({ pgSchema: gw.pgSchema, config: engineConfig({ attempts: 5, initialDelayMs: 60_000 }) });
    const ran = await run(slow, shellBuild, r.url('/flaky'));
    await until(async () => (await status(slow, ran.id))?.startsWith('PENDING: attempt 1 of 5 failed (HTTP 503)'));
    const t0 = Date.now();
    await slow.close();
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(await status(gw, ran.id)).toMatch(/^PENDING: attempt 1 of 5 failed/);
    failing = false;
    others.push(await startGateway({ pgSchema: gw.pgSchema, config: engineConfig({ attempts: 5, initialDelayMs: 100 }) }));
    expect(await until(async () => (await status(gw, ran.id))?.startsWith('DELIVERED') && status(gw, ran.id))).toBe('DELIVERED 200 after 1 attempt(s)');
    expect(hitsFor(ran.key)).toHaveLength(2);
  });
});
