import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { print } from 'graphql';
import type { Client } from 'graphql-ws';
import { startDemoUpstreams, type DemoUpstreams } from '../../src/demo/upstreams.js';
import { toGlobalId } from '../../src/ids.js';
import { BuildRunsUpdatedDocument, RunUpdatedDocument } from '../generated/graphql.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { sleep, waitUntil } from './follow.js';

/**
 * Pollers live exactly as long as their subscribers: the last unsubscribe stops them at once,
 * with no event needed to notice. Checked on the upstream: zero calls over three poll
 * periods after the last subscriber left, for each kind of poller.
 */
const POLL = 150;
let demo: DemoUpstreams;
let gw: TestGateway;

beforeAll(async () => {
  // Slow runs: the watched run stays RUNNING (no state change, no event) for the whole test.
  demo = await startDemoUpstreams({ pace: 'demo', instance: { cacheTtlMs: 0, retries: 0, timeoutMs: 3000 } });
  gw = await startGateway({ config: { providers: demo.instances, live: { pollMs: POLL, pollIdleMs: POLL, listPollMs: POLL } } });
});
afterAll(async () => {
  await gw?.close();
  await demo?.stop();
});

/** Subscribes; resolves with the dispose function once the server has run `ticks` poller ticks. */
function watch(client: Client, query: string, variables: Record<string, unknown>): () => void {
  return client.subscribe({ query, variables }, { next: () => undefined, error: () => undefined, complete: () => undefined });
}
const codearts = () => demo.fakes.codearts.fake;
const upstreamCalls = () => codearts().requests.length;

async function quietAfterLastUnsubscribe(subscribe: (c: Client) => () => void, running: () => number) {
  const a = gw.ws();
  const b = gw.ws();
  const offA = subscribe(a);
  const offB = subscribe(b);
  await waitUntil(async () => upstreamCalls(), (n) => n > 0 && running() > 0, 5000);
  const before = upstreamCalls();
  await waitUntil(async () => upstreamCalls(), (n) => n > before + 1, 5000); // polling
  offA();
  await sleep(POLL * 2);
  expect(upstreamCalls()).toBeGreaterThan(before + 2); // one subscriber left: still polling
  offB();
  await waitUntil(async () => running(), (n) => n === 0, 2000);
  const after = upstreamCalls();
  await sleep(POLL * 3);
  expect(upstreamCalls() - after).toBe(0);
}

it('buildRunsUpdated(buildId): the run-list poller stops at the last unsubscribe', async () => {
  const jobId = demo.fakes.codearts.jobs[0]!.id;
  const buildId = toGlobalId('codearts-demo', 'Build', jobId);
  await quietAfterLastUnsubscribe((c) => watch(c, print(BuildRunsUpdatedDocument), { buildId }), () => gw.server.services.live.buildPollers.stats().pollers);
});

it('runUpdated: the run poller stops at the last unsubscribe while the run is still running', async () => {
  const jobId = demo.fakes.codearts.jobs[0]!.id;
  const buildId = toGlobalId('codearts-demo', 'Build', jobId);
  const started = (await gw.gql('mutation($b: ID!) { runBuild(input: { buildId: $b }) { run { id } } }', { b: buildId })) as { data: any };
  const runId = started.data.runBuild.run.id;
  await quietAfterLastUnsubscribe((c) => watch(c, print(RunUpdatedDocument), { runId }), () => gw.server.services.live.feeds.stats().pollers);
});
