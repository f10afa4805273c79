import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { print } from 'graphql';
import { toGlobalId } from '../../src/ids.js';
import { RunUpdatedDocument, StepUpdatedDocument, type RunUpdatedSubscription, type StepUpdatedSubscription } from '../generated/graphql.js';
import { startFakeCocktail } from '../fakes/cocktail.js';
import { followAll, waitUntil } from '../live/follow.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

/**
 * Canceling a Cocktail run (a CANCEL run of its own, upstreams.md §4) looks the same live and
 * in a query: runUpdated ends CANCELED, steps left unfinished end CANCELED in both, and a
 * second cancel returns the run as it is.
 */
let up: Awaited<ReturnType<typeof startFakeCocktail>>;
let gw: TestGateway;
type Res = { data?: any; errors?: Array<{ message: string; extensions?: Record<string, any> }> };

beforeAll(async () => {
  up = await startFakeCocktail({ stepMs: 600 });
  gw = await startGateway({ config: {
    providers: [{ id: 'cocktail-t', kind: 'COCKTAIL', baseUrl: up.url, cacheTtlMs: 5000, timeoutMs: 3000, retries: 0, options: { token: up.token } }],
    live: { pollMs: 50, pollIdleMs: 200 },
  } });
});
afterAll(async () => {
  await gw?.close();
  await up?.close();
});

const RUN = 'query($id: ID!) { run(id: $id) { state possibleActions steps { title state } } }';

it('live and queried states agree after a cancel, and canceling twice returns the run', async () => {
  const started = (await gw.gql('mutation($b: ID!) { runBuild(input: { buildId: $b }) { run { id } } }', { b: toGlobalId('cocktail-t', 'Build', '1') })) as Res;
  const runId = started.data.runBuild.run.id;
  const runs = followAll<RunUpdatedSubscription>(gw.ws(), print(RunUpdatedDocument), { runId });
  const steps = followAll<StepUpdatedSubscription>(gw.ws(), print(StepUpdatedDocument), { runId });
  await waitUntil(async () => ((await gw.gql(RUN, { id: runId })) as Res).data.run!.possibleActions, (a) => a.includes('CANCEL'), 5000);
  const first = (await gw.gql('mutation($id: ID!) { cancelRun(input: { runId: $id }) { run { runType } errors { code message } } }', { id: runId })) as Res;
  expect(first.data.cancelRun.errors).toEqual([]);
  expect(first.data.cancelRun.run.runType).toBe('CANCEL');
  const again = (await gw.gql('mutation($id: ID!) { cancelRun(input: { runId: $id }) { run { id state } errors { code message } } }', { id: runId })) as Res;
  expect(again.data.cancelRun.errors).toEqual([]);
  expect(again.errors).toBeUndefined();
  expect(again.data.cancelRun.run.id).toBe(runId);

  const live = await runs;
  expect(live.data.at(-1)!.runUpdated.state).toBe('CANCELED');
  expect(live.data.map((d) => d.runUpdated.state)).not.toContain('ERROR');
  const liveSteps = await steps;
  const queried = ((await gw.gql(RUN, { id: runId })) as Res).data.run;
  expect(queried.state).toBe('CANCELED');
  const lastLive = new Map(liveSteps.data.map((d) => [d.stepUpdated.title, d.stepUpdated.state]));
  for (const s of queried.steps) expect([s.title, lastLive.get(s.title)]).toEqual([s.title, s.state]);
  // Canceled: a third cancel is still the run as it is.
  const third = (await gw.gql('mutation($id: ID!) { cancelRun(input: { runId: $id }) { run { state } } }', { id: runId })) as Res;
  expect(third.data.cancelRun.run.state).toBe('CANCELED');
});
