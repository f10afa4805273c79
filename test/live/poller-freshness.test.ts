import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { print } from 'graphql';
import type { Client } from 'graphql-ws';
import Keyv from 'keyv';
import { pino } from 'pino';
import { toGlobalId } from '../../src/ids.js';
import { createQuayProvider } from '../../src/providers/quay/index.js';
import { RunUpdatedDocument, StepUpdatedDocument, type RunUpdatedSubscription, type StepUpdatedSubscription } from '../generated/graphql.js';
import { startFakeQuay } from '../fakes/quay.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { followAll, sleep, waitUntil } from './follow.js';

/**
 * Live upstream updates are as fresh as the poll interval, whatever the upstream cache TTL:
 * pollers read past the cache (and refresh it, so a query right after an event agrees with
 * it), a subscriber joining a watched run gets the upstream's state at once, and every state
 * a run or step went through is published even when it changed faster than the poll.
 */
type Fake = Awaited<ReturnType<typeof startFakeQuay>>;
const CACHE_TTL = 5000;

async function quayGateway(fakes: Array<[string, Fake]>, live: Record<string, number>): Promise<TestGateway> {
  const providers = fakes.map(([id, up]) => createQuayProvider({
    id, kind: 'QUAY', baseUrl: up.url, cacheTtlMs: CACHE_TTL, timeoutMs: 2000, retries: 0, options: { token: up.token, repositories: ['demo/web'] },
  }, { cache: new Keyv(), logger: pino({ level: 'silent' }) }));
  return startGateway({ extraProviders: providers, config: { live } });
}

const distinct = (states: string[]) => states.filter((s, i) => s !== states[i - 1]);

/** Subscribes to runUpdated; each event is stamped with its arrival time. */
function runEvents(client: Client, runId: string, onEvent: (state: string) => void = () => undefined) {
  const events: Array<{ state: string; at: number }> = [];
  const done = new Promise<void>((resolve, reject) => {
    client.subscribe<RunUpdatedSubscription>({ query: print(RunUpdatedDocument), variables: { runId } }, {
      next: (v) => { const state = v.data!.runUpdated.state; events.push({ state, at: Date.now() }); onEvent(state); },
      error: (e) => reject(e instanceof Error ? e : new Error(JSON.stringify(e))),
      complete: () => resolve(),
    });
  });
  return { events, done };
}

describe('pollers read past the cache', () => {
  const POLL = 150;
  let gw: TestGateway;
  let slow: Fake;
  let fast: Fake;
  beforeAll(async () => {
    slow = await startFakeQuay({ phaseMs: 400 });
    fast = await startFakeQuay({ phaseMs: 50 });
    gw = await quayGateway([['quay-slow', slow], ['quay-fast', fast]], { pollMs: POLL, pollIdleMs: 5000 });
  });
  afterAll(async () => { await gw?.close(); await slow?.close(); await fast?.close(); });

  it('an upstream change reaches subscribers within a poll although the cache holds the old state; a query right after agrees', async () => {
    const b = slow.state.addBuild('demo/web', { tags: ['fresh'], t0: Date.now() + 1000 }); // queued for 1.8 s
    const runId = toGlobalId('quay-slow', 'BuildRun', `demo/web/${b.uuid}`);
    const q = 'query($id: ID!) { run(id: $id) { state } }';
    expect(((await gw.gql(q, { id: runId })) as any).data.run.state).toBe('QUEUED'); // cached for 5 s
    const checks: Array<Promise<[string, string]>> = [];
    const { events, done } = runEvents(gw.ws(), runId, (state) => {
      checks.push(gw.gql(q, { id: runId }).then((r: any) => [state, r.data.run.state]));
    });
    await done;
    expect(distinct(events.map((e) => e.state))).toEqual(['QUEUED', 'RUNNING', 'DONE']); // each raw phase is an event too
    const ended = b.t0 + 6 * slow.state.phaseMs;
    expect(events.at(-1)!.at - ended).toBeLessThan(POLL + 700); // the cache would have held QUEUED until t0 + 5 s
    for (const [event, queried] of await Promise.all(checks)) expect(queried).toBe(event);
  });

  it('every step goes WAIT → RUNNING → DONE for subscribers, even when phases pass faster than the poll', async () => {
    // Starts in 1 s (waiting until then), so both subscriptions are open before the first phase passes.
    const b = fast.state.addBuild('demo/web', { tags: ['quick'], t0: Date.now() + 1000 });
    const runId = toGlobalId('quay-fast', 'BuildRun', `demo/web/${b.uuid}`);
    const steps = followAll<StepUpdatedSubscription>(gw.ws(), print(StepUpdatedDocument), { runId });
    const run = runEvents(gw.ws(), runId);
    const s = await steps;
    await run.done;
    const byStep = new Map<string, string[]>();
    for (const d of s.data) byStep.set(d.stepUpdated.title!, [...(byStep.get(d.stepUpdated.title!) ?? []), d.stepUpdated.state]);
    // Steps not yet reached when watching began: each is seen running before it is done.
    for (const title of ['unpacking', 'pulling', 'building', 'pushing']) expect(distinct(byStep.get(title)!)).toEqual(['WAIT', 'RUNNING', 'DONE']);
    expect(distinct(run.events.map((e) => e.state))).toEqual(['QUEUED', 'RUNNING', 'DONE']);
  });
});

describe('a subscriber joining a watched run', () => {
  let gw: TestGateway;
  let up: Fake;
  beforeAll(async () => {
    up = await startFakeQuay({ phaseMs: 400 });
    gw = await quayGateway([['quay-join', up]], { pollMs: 4000, pollIdleMs: 4000 });
  });
  afterAll(async () => { await gw?.close(); await up?.close(); });

  it('gets the upstream state at once, not at the next poll', async () => {
    const b = up.state.addBuild('demo/web', { tags: ['join'], t0: Date.now() + 500 });
    const runId = toGlobalId('quay-join', 'BuildRun', `demo/web/${b.uuid}`);
    const first = runEvents(gw.ws(), runId);
    await waitUntil(async () => first.events.length, (n) => n >= 1, 3000);
    await sleep(b.t0 + 3.2 * up.state.phaseMs - Date.now()); // now pulling: RUNNING upstream
    const joinedAt = Date.now();
    const second = runEvents(gw.ws(), runId);
    const running = await waitUntil(async () => second.events.find((e) => e.state === 'RUNNING'), (e) => e !== undefined, 6000);
    expect(running!.at - joinedAt).toBeLessThan(1000); // the next poll would be ~2.7 s away
  });
});
