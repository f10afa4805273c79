import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { print } from 'graphql';
import Keyv from 'keyv';
import { pino } from 'pino';
import { toGlobalId } from '../../src/ids.js';
import { createQuayProvider } from '../../src/providers/quay/index.js';
import { RunUpdatedDocument, StepUpdatedDocument, type RunUpdatedSubscription, type StepUpdatedSubscription } from '../generated/graphql.js';
import { startFakeQuay } from '../fakes/quay.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { followAll, followLog, range, sleep, waitUntil } from './follow.js';

describe('upstream runs are polled once however many subscribers watch them', () => {
  let gw: TestGateway;
  let up: Awaited<ReturnType<typeof startFakeQuay>>;
  beforeAll(async () => {
    up = await startFakeQuay({ phaseMs: 400 });
    const quay = createQuayProvider({
      id: 'quay-live', kind: 'QUAY', baseUrl: up.url, cacheTtlMs: 0, timeoutMs: 2000, retries: 0,
      options: { token: up.token, repositories: ['demo/web'] },
    }, { cache: new Keyv(), logger: pino({ level: 'silent' }) });
    gw = await startGateway({ extraProviders: [quay], config: { live: { pollMs: 100, pollIdleMs: 100 } } });
  });
  afterAll(async () => { await gw?.close(); await up?.close(); });

  it('N subscribers share one poller: one build read per interval; all get every line once and complete', async () => {
    // Starts in 1 s (waiting until then): the subscriptions see it queued even on a loaded machine.
    const b = up.state.addBuild('demo/web', { tags: ['live'], t0: Date.now() + 1000 });
    const runKey = `demo/web/${b.uuid}`;
    const runId = toGlobalId('quay-live', 'BuildRun', runKey);
    const logs = Array.from({ length: 5 }, () => followLog(gw.ws(), { runId }));
    const runs = followAll<RunUpdatedSubscription>(gw.ws(), print(RunUpdatedDocument), { runId });
    const steps = followAll<StepUpdatedSubscription>(gw.ws(), print(StepUpdatedDocument), { runId });
    const live = gw.server.services.live;
    await waitUntil(async () => live.feeds.stats(), (s) => s.subscribers === 7, 5000);
    expect(live.feeds.stats()).toMatchObject({ feeds: 1, pollers: 1 });

    // The build view: run and steps read it together each tick (one shared request).
    const statusPath = new RegExp(`/build/${b.uuid}$`);
    const c0 = up.fake.count('GET', statusPath);
    const ticks0 = live.feeds.poller('quay-live', runKey)!.ticks;
    await sleep(1000);
    const polled = up.fake.count('GET', statusPath) - c0;
    const ticks = live.feeds.poller('quay-live', runKey)!.ticks - ticks0;
    // ~10 ticks of 100 ms; one build read per tick, not one per subscriber (7 would mean ~70).
    expect(ticks).toBeGreaterThanOrEqual(4);
    expect(ticks).toBeLessThanOrEqual(12);
    expect(Math.abs(polled - ticks)).toBeLessThanOrEqual(1); // a tick may straddle the window's edge

    const results = await Promise.all(logs);
    const total = up.state.logs(b).length;
    expect(total).toBeGreaterThan(8);
    for (const r of results) {
      expect(r.completed).toBe(true);
      expect(r.seqs).toEqual(range(total));
    }
    const r = await runs;
    expect(r.completed).toBe(true);
    expect(r.data.at(-1)!.runUpdated.state).toBe('DONE');
    expect(r.data.map((d) => d.runUpdated.state)).toEqual(expect.arrayContaining(['QUEUED', 'RUNNING', 'DONE']));
    const s = await steps;
    expect(s.completed).toBe(true);
    expect(new Set(s.data.filter((d) => d.stepUpdated.state === 'DONE').map((d) => d.stepUpdated.title)).size).toBeGreaterThanOrEqual(5);
    // Last subscriber gone, run ended: no poller, no feed; nothing polls any more.
    await waitUntil(async () => live.feeds.stats(), (st) => st.feeds === 0 && st.pollers === 0, 5000);
    const after = up.fake.count('GET', statusPath);
    await sleep(400);
    expect(up.fake.count('GET', statusPath)).toBe(after);
  });
});
