import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from 'graphql-ws';
import { toGlobalId } from '../../src/ids.js';
import { CocktailCallbacks } from '../../src/providers/cocktail/push.js';
import { createLogger } from '../../src/server/logger.js';
import { startFakeCocktail } from '../fakes/cocktail.js';
import { QUAY_BUILD_EVENTS, startFakeQuay } from '../fakes/quay.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

/**
 * Push where the upstream offers it (issue 13 #5): Quay repository notifications and
 * Cocktail run callbacks, over real HTTP from the fakes, wake the run's poller at once. The
 * poll interval here is a minute, so an end seen within a second can only have come by push.
 * Every refused webhook leaves everything as it was: no upstream call, no poller woken.
 */
const QUAY_SECRET = 'quay-hook-secret-0123456789';
const COCKTAIL_SECRET = 'cocktail-hook-secret-9876543210';
const POLL = 60_000;

type Quay = Awaited<ReturnType<typeof startFakeQuay>>;
type Cocktail = Awaited<ReturnType<typeof startFakeCocktail>>;

/** Resolves with the time of the first runUpdated event in `state`; rejects after `ms`. */
function firstState(client: Client, runId: string, state: string, ms: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { dispose(); reject(new Error(`no ${state} event within ${ms} ms`)); }, ms);
    const dispose = client.subscribe<{ runUpdated: { state: string } }>({ query: 'subscription($runId: ID!) { runUpdated(runId: $runId) { state } }', variables: { runId } }, {
      next: (v) => { if (v.data?.runUpdated.state === state) { clearTimeout(timer); dispose(); resolve(Date.now()); } },
      error: (e) => { clearTimeout(timer); reject(e instanceof Error ? e : new Error(JSON.stringify(e))); },
      complete: () => undefined,
    });
  });
}

/** A receiver of users' callbacks. */
async function receiver() {
  const got: Array<{ body: any; at: number }> = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => { raw += c; });
    req.on('end', () => { got.push({ body: JSON.parse(raw), at: Date.now() }); res.writeHead(200).end('ok'); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/done?note=1`, got, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const hook = (gw: TestGateway, path: string) => gw.url.replace(/\/graphql$/, `/hooks/${path}`);
const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('push: Quay notifications and Cocktail callbacks', () => {
  let quay: Quay;
  let cocktail: Cocktail;
  let gw: TestGateway;
  let rx: Awaited<ReturnType<typeof receiver>>;

  beforeAll(async () => {
    quay = await startFakeQuay({ phaseMs: 150 });
    cocktail = await startFakeCocktail({ stepMs: 150 });
    rx = await receiver();
    gw = await startGateway({
      config: {
        live: { pollMs: POLL, pollIdleMs: POLL },
        engine: { allowPrivateHosts: ['127.0.0.0/8'] },
        providers: [
          { id: 'quay-p', kind: 'QUAY', baseUrl: quay.url, cacheTtlMs: 5000, options: { token: quay.token, repositories: ['demo/web'] }, webhook: { secret: QUAY_SECRET, perMinute: 50 } },
          { id: 'cocktail-p', kind: 'COCKTAIL', baseUrl: cocktail.url, cacheTtlMs: 5000, options: { token: cocktail.token }, webhook: { secret: COCKTAIL_SECRET } },
          // No webhook secret: polled only, its hook path does not exist.
          { id: 'quay-polled', kind: 'QUAY', baseUrl: quay.url, options: { token: quay.token, repositories: ['demo/web'] } },
        ],
      },
    });
    // What docs/providers/quay.md tells the operator: one webhook notification per build event.
    for (const event of QUAY_BUILD_EVENTS) {
      const res = await fetch(`${quay.url}/api/v1/repository/demo/web/notification/`, {
        method: 'POST', headers: { authorization: `Bearer ${quay.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ event, method: 'webhook', config: { url: `${hook(gw, 'quay-p')}?token=${QUAY_SECRET}` }, eventConfig: {}, title: `buildgate ${event}` }),
      });
      expect(res.status).toBe(201);
    }
  }, 30_000);
  afterAll(async () => { await gw?.close(); await quay?.close(); await cocktail?.close(); await rx?.close(); });

  it('a Quay build end reaches runUpdated at once by notification, not at the next poll', async () => {
    const b = quay.state.addBuild('demo/web', { tags: ['pushed'], t0: Date.now() + 400 });
    const runId = toGlobalId('quay-p', 'BuildRun', `demo/web/${b.uuid}`);
    const doneAt = await firstState(gw.ws(), runId, 'DONE', 10_000);
    const ended = b.t0 + 6 * quay.state.phaseMs;
    expect(doneAt - ended).toBeLessThan(1500);
    const mine = quay.state.sent.filter((s) => s.buildId === b.uuid);
    expect(mine.map((s) => s.event)).toEqual(['build_queued', 'build_start', 'build_success']);
    expect(mine.every((s) => s.status === 202)).toBe(true);
    // A query right after agrees (the notification dropped the cached QUEUED answer).
    const q = (await gw.gql('query($id: ID!) { run(id: $id) { state } }', { id: runId })) as any;
    expect(q.data.run.state).toBe('DONE');
  }, 20_000);

  it('a Cocktail run gets buildgate\'s signed callback; its end arrives at once and the user\'s callback is forwarded', async () => {
    const buildId = toGlobalId('cocktail-p', 'Build', '1');
    const res = (await gw.gql('mutation($i: RunBuildInput!) { runBuild(input: $i) { errors { message } run { id callbackUrl } } }', { i: { buildId, callbackUrl: rx.url } })) as any;
    expect(res.errors).toBeUndefined();
    expect(res.data.runBuild.errors).toEqual([]);
    const started = { data: { runBuild: res.data.runBuild.run } };
    // Shown as the user gave it; Cocktail holds buildgate's URL, signed, without the secret.
    expect(started.data.runBuild.callbackUrl).toBe(rx.url);
    const runSeq = Math.max(...cocktail.state.runs.keys());
    const registered = cocktail.state.runs.get(runSeq)!.callbackUrl!;
    expect(registered.startsWith(hook(gw, 'cocktail-p/builds/1?'))).toBe(true);
    expect(new URL(registered).searchParams.get('forward')).toBe(rx.url);
    expect(registered).not.toContain(COCKTAIL_SECRET);
    const doneAt = await firstState(gw.ws(), started.data.runBuild.id, 'DONE', 10_000);
    const ended = cocktail.state.endAt(cocktail.state.runs.get(runSeq)!);
    expect(doneAt - ended).toBeLessThan(1500);
    expect(cocktail.state.callbacks.filter((c) => c.buildRunSeq === runSeq).map((c) => c.status)).toEqual([202]);
    await waitFor(() => rx.got.length === 1);
    expect(rx.got[0]!.body).toMatchObject({ buildSeq: 1, buildRunSeq: runSeq, runState: 'DONE' });
    // A replayed callback wakes a poller again but forwards nothing twice.
    expect((await post(registered, {})).status).toBe(202);
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.got).toHaveLength(1);
    const run = (await gw.gql('query($id: ID!) { run(id: $id) { callbackUrl } }', { id: started.data.runBuild.id })) as any;
    expect(run.data.run.callbackUrl).toBe(rx.url);
  }, 20_000);

  it('a canceled Cocktail run whose cancel is still pending when Cocktail calls back has the user\'s callback forwarded once it is CANCELED', async () => {
    const buildId = toGlobalId('cocktail-p', 'Build', '1');
    const res = (await gw.gql('mutation($i: RunBuildInput!) { runBuild(input: $i) { run { id } } }', { i: { buildId, callbackUrl: rx.url } })) as any;
    const runId = res.data.runBuild.run.id as string;
    const runSeq = Math.max(...cocktail.state.runs.keys());
    await waitFor(() => cocktail.state.view(cocktail.state.runs.get(runSeq)!).possibleActions.includes('CANCEL'));
    const canceled = (await gw.gql('mutation($i: CancelRunInput!) { cancelRun(input: $i) { errors { message } } }', { i: { runId } })) as any;
    expect(canceled.data.cancelRun.errors).toEqual([]);
    // Cocktail's CANCEL run finishes 2.5 s after the canceled run ends (and calls back): the run is CANCELED only then.
    const cancelRun = [...cocktail.state.runs.values()].find((r) => r.runType === 'CANCEL' && r.refBuildRunSeq === runSeq)!;
    cancelRun.t0 += 2500;
    const before = rx.got.length;
    await waitFor(() => cocktail.state.callbacks.some((c) => c.buildRunSeq === runSeq), 5000);
    await waitFor(() => rx.got.length > before, 12_000);
    expect(rx.got.at(-1)!.body).toMatchObject({ buildRunSeq: runSeq, runState: 'CANCELED' });
    expect(rx.got.at(-1)!.at - cocktail.state.endAt(cocktail.state.runs.get(runSeq)!)).toBeGreaterThan(2000);
  }, 30_000);

  it('refused webhooks answer 404 / 401 / 400 / 413 / 405 and touch nothing', async () => {
    const b = quay.state.addBuild('demo/web', { tags: ['watched'], t0: Date.now() + 60_000 }); // queued for a minute
    const runId = toGlobalId('quay-p', 'BuildRun', `demo/web/${b.uuid}`);
    const poller = () => gw.server.services.live.feeds.poller('quay-p', `demo/web/${b.uuid}`);
    // The run stays watched (its poller running, next read in a minute) while refused webhooks come in.
    const dispose = gw.ws().subscribe({ query: 'subscription($runId: ID!) { runUpdated(runId: $runId) { state } }', variables: { runId } }, { next: () => undefined, error: () => undefined, complete: () => undefined });
    await waitFor(() => (poller()?.ticks ?? 0) > 0);
    await new Promise((r) => setTimeout(r, 300));
    const ticks = poller()!.ticks;
    const calls = quay.fake.requests.length + cocktail.fake.requests.length;
    const note = quay.state.eventData(b, 'build_start');
    const cases: Array<[string, Promise<Response>, number, string]> = [
      ['unknown provider', post(hook(gw, 'nope'), note), 404, 'NOT_FOUND'],
      ['provider without webhooks', post(`${hook(gw, 'quay-polled')}?token=${QUAY_SECRET}`, note), 404, 'NOT_FOUND'],
      ['no secret', post(hook(gw, 'quay-p'), note), 401, 'UNAUTHENTICATED'],
      ['wrong secret', post(`${hook(gw, 'quay-p')}?token=${QUAY_SECRET}x`, note), 401, 'UNAUTHENTICATED'],
      ['another provider\'s secret', post(hook(gw, 'quay-p'), note, { authorization: `Bearer ${COCKTAIL_SECRET}` }), 401, 'UNAUTHENTICATED'],
      ['not JSON', post(`${hook(gw, 'quay-p')}?token=${QUAY_SECRET}`, '{"repository": '), 400, 'BAD_USER_INPUT'],
      ['not a build notification', post(`${hook(gw, 'quay-p')}?token=${QUAY_SECRET}`, { repository: 'demo/web' }), 400, 'BAD_USER_INPUT'],
      ['unknown event', post(`${hook(gw, 'quay-p')}?token=${QUAY_SECRET}&event=repo_delete`, note), 400, 'BAD_USER_INPUT'],
      ['repository not configured', post(`${hook(gw, 'quay-p')}?token=${QUAY_SECRET}`, { ...note, repository: 'demo/other' }), 404, 'NOT_FOUND'],
      ['too large', post(`${hook(gw, 'quay-p')}?token=${QUAY_SECRET}`, { ...note, pad: 'x'.repeat(70_000) }), 413, 'BAD_REQUEST'],
      ['GET', fetch(`${hook(gw, 'quay-p')}?token=${QUAY_SECRET}`), 405, 'METHOD_NOT_ALLOWED'],
      ['Cocktail: no signature', post(hook(gw, 'cocktail-p/builds/1'), {}), 401, 'UNAUTHENTICATED'],
      ['Cocktail: the secret instead of a signature', post(`${hook(gw, 'cocktail-p/builds/1')}?sig=${COCKTAIL_SECRET}`, {}), 401, 'UNAUTHENTICATED'],
    ];
    for (const [name, res, status, code] of cases) {
      const r = await res;
      expect([name, r.status]).toEqual([name, status]);
      const body = (await r.json()) as any;
      expect([name, body.errors[0].extensions.code]).toEqual([name, code]);
    }
    // A signature made for build 1 does not open build 2, nor another forward target.
    const registered = new CocktailCallbacks('cocktail-p', COCKTAIL_SECRET, gw.url.replace(/\/graphql$/, '')).urlFor(1, rx.url);
    const u = new URL(registered);
    const other = new URL(registered.replace('/builds/1?', '/builds/2?'));
    expect((await post(other.toString(), {})).status).toBe(401);
    u.searchParams.set('forward', 'http://127.0.0.1:9/evil');
    expect((await post(u.toString(), {})).status).toBe(401);
    expect((await post(`${registered}&x=1`.replace('sig=', 'sig=A'), {})).status).toBe(401);
    await new Promise((r) => setTimeout(r, 300));
    expect(quay.fake.requests.length + cocktail.fake.requests.length).toBe(calls);
    expect(poller()!.ticks).toBe(ticks);
    // The right secret in a header is accepted, and wakes the poller.
    expect((await post(hook(gw, 'quay-p'), note, { authorization: `Bearer ${QUAY_SECRET}` })).status).toBe(202);
    await waitFor(() => poller()!.ticks > ticks);
    dispose();
  }, 30_000);

  it('webhooks past the per-minute budget get 429', async () => {
    const note = quay.state.eventData(quay.state.builds[0]!, 'build_success');
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) statuses.push((await post(`${hook(gw, 'quay-p')}?token=${QUAY_SECRET}`, note)).status);
    expect(statuses).toContain(429);
    expect(statuses.indexOf(429)).toBeLessThanOrEqual(50);
  }, 30_000);
});

it('webhook secrets in a logged provider config show as ***', () => {
  let out = '';
  const logger = createLogger('info', new Writable({ write(c, _e, cb) { out += String(c); cb(); } }));
  logger.info({ instance: { id: 'q', webhook: { secret: QUAY_SECRET } } }, 'provider');
  logger.info({ webhook: { secret: QUAY_SECRET } }, 'provider');
  expect(out).toContain('***');
  expect(out).not.toContain(QUAY_SECRET);
});

async function waitFor(ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('push across replicas', () => {
  const REDIS_URL = process.env.BUILDGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  let quay: Quay;
  let a: TestGateway;
  let b: TestGateway;
  beforeAll(async () => {
    quay = await startFakeQuay({ phaseMs: 150, seed: false });
    quay.state.repos.set('demo/web', { description: 'replicated', isPublic: true });
    const config = {
      redis: { url: REDIS_URL },
      live: { pollMs: POLL, pollIdleMs: POLL },
      providers: [{ id: 'quay-r', kind: 'QUAY' as const, baseUrl: quay.url, options: { token: quay.token, repositories: ['demo/web'] }, webhook: { secret: QUAY_SECRET } }],
    };
    a = await startGateway({ database: 'postgres', config });
    b = await startGateway({ pgSchema: a.pgSchema, config });
    for (const event of QUAY_BUILD_EVENTS) {
      await fetch(`${quay.url}/api/v1/repository/demo/web/notification/`, {
        method: 'POST', headers: { authorization: `Bearer ${quay.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ event, method: 'webhook', config: { url: `${hook(a, 'quay-r')}?token=${QUAY_SECRET}` }, eventConfig: {} }),
      });
    }
  }, 30_000);
  afterAll(async () => { await b?.close(); await a?.close(); await quay?.close(); });

  it('a notification received by replica A wakes the poller of a subscriber on replica B', async () => {
    const build = quay.state.addBuild('demo/web', { tags: ['replicated'], t0: Date.now() + 400 });
    const runId = toGlobalId('quay-r', 'BuildRun', `demo/web/${build.uuid}`);
    const doneAt = await firstState(b.ws(), runId, 'DONE', 10_000);
    expect(doneAt - (build.t0 + 6 * quay.state.phaseMs)).toBeLessThan(1500);
    expect(quay.state.sent.filter((s) => s.buildId === build.uuid).every((s) => s.url.startsWith(hook(a, 'quay-r')) && s.status === 202)).toBe(true);
  }, 20_000);
});
