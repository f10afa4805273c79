import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { startDemoUpstreams, type DemoUpstreams } from '../../src/demo/upstreams.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

/**
 * A configured item the upstream will not show is an error naming it, never a silently
 * shorter list: three Quay repositories configured, one unknown to Quay (404) and one the
 * token may not read (403) → one row, two errors naming the two, totalCount 3.
 */
let demo: DemoUpstreams;
let gw: TestGateway;
type Res = { data?: any; errors?: Array<{ message: string; extensions?: Record<string, any> }> };

beforeAll(async () => {
  demo = await startDemoUpstreams({ pace: 'test', instance: { cacheTtlMs: 0, retries: 0, timeoutMs: 3000 } });
  demo.fakes.quay.state.forbidden.add('demo/api');
  const instances = demo.instances.map((i) => i.kind !== 'QUAY' ? i
    : { ...i, options: { ...i.options, repositories: ['demo/web', 'demo/api', 'demo/gone'] } });
  gw = await startGateway({ config: { providers: instances } });
});
afterAll(async () => {
  await gw?.close();
  await demo?.stop();
});

const LIST = 'query($p: [String!]) { builds(providerIds: $p, first: 50) { totalCount edges { node { key provider { providerId } } } } }';

test.each([[['quay-demo']], [null]])('unreadable repositories are errors naming them (providers %j)', async (providers) => {
  const r = (await gw.gql(LIST, { p: providers })) as Res;
  const quayRows = r.data.builds.edges.filter((e: any) => e.node.provider.providerId === 'quay-demo').map((e: any) => e.node.key);
  expect(quayRows).toEqual(['demo/web']);
  const errs = (r.errors ?? []).filter((e) => e.extensions?.providerId === 'quay-demo');
  expect(errs.map((e) => [e.extensions!.code, e.extensions!.id]).sort()).toEqual([['UPSTREAM_NOT_FOUND', 'demo/api'], ['UPSTREAM_NOT_FOUND', 'demo/gone']]);
  // totalCount agrees with rows + errors.
  expect(r.data.builds.totalCount).toBe(r.data.builds.edges.length + (r.errors ?? []).length);
});
