import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startDemoUpstreams, type DemoUpstreams } from '../../src/demo/upstreams.js';
import { BuildDetailDocument } from '../generated/graphql.js';
import { createShellBuild, startRun } from '../live/follow.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

/**
 * possibleActions offer only what the provider will do (its capabilities) in the run's
 * state, for every upstream provider and the native engine; a build detail of a provider
 * without image tags is whole (imageTags null), not nulled by an UNSUPPORTED error.
 */
let demo: DemoUpstreams;
let gw: TestGateway;
type Res = { data?: any; errors?: Array<{ message: string; extensions?: Record<string, any> }> };
const q = async (query: any, variables?: Record<string, unknown>) => (await gw.gql(query, variables)) as Res;

beforeAll(async () => {
  demo = await startDemoUpstreams({ pace: 'test', instance: { cacheTtlMs: 0, retries: 0, timeoutMs: 3000 } });
  gw = await startGateway({ config: { providers: demo.instances, engine: { maxConcurrentRuns: 1 } } });
  // Every upstream has runs to judge: the demo Zadig has none until one is started.
  const zadig = await q('{ builds(providerIds: ["zadig-demo"], first: 1) { edges { node { id } } } }');
  await q('mutation($b: ID!) { runBuild(input: { buildId: $b }) { run { id } } }', { b: zadig.data.builds.edges[0].node.id });
});
afterAll(async () => {
  await gw?.close();
  await demo?.stop();
});

const NEEDS: Record<string, string> = { BUILD: 'RUN_START', LOG: 'LOGS', REMOVE: 'RUN_REMOVE', CANCEL: 'RUN_CANCEL' };
const LIST = `query($p: [String!]) { builds(providerIds: $p, first: 20) { edges { node { id name possibleActions
  provider { capabilities } runs(first: 10) { edges { node { state possibleActions } } } } } } }`;

describe.each(['cocktail-demo', 'quay-demo', 'zadig-demo', 'codearts-demo'])('%s', (providerId) => {
  it('offers no action the provider refuses, on builds and runs', async () => {
    const r = await q(LIST, { p: [providerId] });
    expect(r.errors).toBeUndefined();
    const builds = r.data.builds.edges.map((e: any) => e.node);
    let runs = 0;
    for (const b of builds) {
      const caps = new Set(b.provider.capabilities);
      for (const run of b.runs.edges.map((e: any) => e.node)) {
        runs++;
        for (const a of run.possibleActions) if (NEEDS[a]) expect([a, caps.has(NEEDS[a])]).toEqual([a, true]);
      }
    }
    expect(runs).toBeGreaterThan(0);
  });
});

it('a Quay repository without archiveUrl offers no BUILD', async () => {
  const r = await q(LIST, { p: ['quay-demo'] });
  const byName = Object.fromEntries(r.data.builds.edges.map((e: any) => [e.node.name, e.node.possibleActions]));
  expect(byName['demo/web']).toContain('BUILD');
  expect(byName['demo/api']).toEqual(['VIEW']);
});

it('a queued native run offers CANCEL but not REMOVE', async () => {
  const buildId = await createShellBuild(gw, 'actions-native', 'sleep 2');
  const first = await startRun(gw, buildId);
  const second = await startRun(gw, buildId); // one run at a time: this one waits
  const r = await q('query($id: ID!) { run(id: $id) { state possibleActions } }', { id: second });
  expect(r.data.run!.state).toBe('QUEUED');
  expect(r.data.run!.possibleActions).toContain('CANCEL');
  expect(r.data.run!.possibleActions).not.toContain('REMOVE');
  for (const id of [second, first]) await q('mutation($id: ID!) { cancelRun(input: { runId: $id }) { run { id } } }', { id });
});

it('a CodeArts build detail is whole: imageTags null, no error', async () => {
  const list = await q(LIST, { p: ['codearts-demo'] });
  const r = await q(BuildDetailDocument, { id: list.data.builds.edges[0].node.id });
  expect(r.errors).toBeUndefined();
  expect(r.data.build).toMatchObject({ imageTags: null, name: 'api-maven' });
});
