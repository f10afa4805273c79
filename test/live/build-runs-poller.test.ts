import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { print } from 'graphql';
import Keyv from 'keyv';
import { pino } from 'pino';
import { toGlobalId } from '../../src/ids.js';
import { createQuayProvider } from '../../src/providers/quay/index.js';
import { BuildRunsUpdatedDocument, type BuildRunsUpdatedSubscription } from '../generated/graphql.js';
import { startFakeQuay } from '../fakes/quay.js';
import { collect, startGateway, type TestGateway } from '../support/gateway.js';
import { waitUntil } from './follow.js';

/** A fake Quay and a gateway with one provider instance on it, run lists polled every 100 ms. */
async function quayGateway(id: string, repositories: string[]): Promise<{ gw: TestGateway; up: Awaited<ReturnType<typeof startFakeQuay>> }> {
  const up = await startFakeQuay({ phaseMs: 300 });
  const quay = createQuayProvider({
    id, kind: 'QUAY', baseUrl: up.url, cacheTtlMs: 0, timeoutMs: 2000, retries: 0, options: { token: up.token, repositories },
  }, { cache: new Keyv(), logger: pino({ level: 'silent' }) });
  return { gw: await startGateway({ extraProviders: [quay], config: { live: { listPollMs: 100 } } }), up };
}

describe('buildRunsUpdated on an upstream build: its run list is polled once while watched', () => {
  let gw: TestGateway;
  let up: Awaited<ReturnType<typeof startFakeQuay>>;
  beforeAll(async () => { ({ gw, up } = await quayGateway('quay-list', ['demo/web'])); });
  afterAll(async () => { await gw?.close(); await up?.close(); });

  it('shows a new upstream run and its state changes to two subscribers, with one list read per tick, and stops when they leave', async () => {
    const buildId = toGlobalId('quay-list', 'Build', 'demo/web');
    const live = gw.server.services.live;
    const a = collect<BuildRunsUpdatedSubscription>(gw.ws(), print(BuildRunsUpdatedDocument), { buildId }, 1000, 20000);
    const b = collect<BuildRunsUpdatedSubscription>(gw.ws(), print(BuildRunsUpdatedDocument), { buildId }, 1000, 20000);
    await Promise.all([a.ready, b.ready]);
    await waitUntil(async () => live.buildPollers.stats(), (s) => s.pollers === 1 && s.ticks >= 2, 5000);
    expect(live.buildPollers.stats().pollers).toBe(1);

    const listPath = /^\/api\/v1\/repository\/demo\/web\/build\/$/;
    const calls0 = up.fake.count('GET', listPath);
    const ticks0 = live.buildPollers.stats().ticks;
    const started = up.state.addBuild('demo/web', { tags: ['list'] });
    // The fake walks the build through its phases to complete: wait until both subscribers saw the end.
    const doneOn = (s: typeof a, id: string) => s.received.some((e) => e.data?.buildRunsUpdated.id === id && e.data.buildRunsUpdated.state === 'DONE');
    const startedId = toGlobalId('quay-list', 'BuildRun', `demo/web/${started.uuid}`);
    await waitUntil(async () => [a, b].every((s) => doneOn(s, startedId)), (ok) => ok, 15000);
    const calls = up.fake.count('GET', listPath) - calls0;
    const ticks = live.buildPollers.stats().ticks - ticks0;
    expect(Math.abs(calls - ticks)).toBeLessThanOrEqual(1); // one read per tick, not one per subscriber
    await gw.close(); // ends both subscriptions
    for (const s of [a, b]) {
      const runId = toGlobalId('quay-list', 'BuildRun', `demo/web/${started.uuid}`);
      const events = (await s.events).map((e) => e.data!.buildRunsUpdated).filter((r) => r.id === runId);
      expect(events[0]).toBeDefined();
      expect(events.at(-1)!.state).toBe('DONE');
      expect(new Set(events.map((e) => e.state)).size).toBeGreaterThanOrEqual(2);
    }
  });
});

describe('buildRunsUpdated on a whole upstream provider: the latest run of each build is polled while watched', () => {
  let gw: TestGateway;
  let up: Awaited<ReturnType<typeof startFakeQuay>>;
  beforeAll(async () => { ({ gw, up } = await quayGateway('quay-prov', ['demo/web', 'demo/api'])); });
  afterAll(async () => { await gw?.close(); await up?.close(); });

  it('shows new runs of any of its builds and their state changes, with one poller for all subscribers', async () => {
    const live = gw.server.services.live;
    const a = collect<BuildRunsUpdatedSubscription>(gw.ws(), print(BuildRunsUpdatedDocument), { providerId: 'quay-prov' }, 1000, 20000);
    const b = collect<BuildRunsUpdatedSubscription>(gw.ws(), print(BuildRunsUpdatedDocument), { providerId: 'quay-prov' }, 1000, 20000);
    await Promise.all([a.ready, b.ready]);
    await waitUntil(async () => live.buildPollers.stats(), (s) => s.pollers === 1 && s.ticks >= 2, 5000);
    const onWeb = up.state.addBuild('demo/web', { tags: ['p1'] });
    const onApi = up.state.addBuild('demo/api', { tags: ['p2'] });
    const ids = [`demo/web/${onWeb.uuid}`, `demo/api/${onApi.uuid}`].map((k) => toGlobalId('quay-prov', 'BuildRun', k));
    const doneOn = (s: typeof a, id: string) => s.received.some((e) => e.data?.buildRunsUpdated.id === id && e.data.buildRunsUpdated.state === 'DONE');
    await waitUntil(async () => [a, b].every((s) => ids.every((id) => doneOn(s, id))), (ok) => ok, 15000);
    expect(live.buildPollers.stats().pollers).toBe(1);
    await gw.close();
    for (const s of [a, b]) {
      const events = (await s.events).map((e) => e.data!.buildRunsUpdated);
      for (const run of [`demo/web/${onWeb.uuid}`, `demo/api/${onApi.uuid}`]) {
        const mine = events.filter((r) => r.id === toGlobalId('quay-prov', 'BuildRun', run));
        expect(mine.length).toBeGreaterThanOrEqual(2);
        expect(mine.at(-1)!.state).toBe('DONE');
      }
    }
  });
});
