import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { startDemoUpstreams, type DemoUpstreams } from '../../src/demo/upstreams.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

/**
 * Partial results: an upstream that answers 500 or does not answer at all fails only its
 * own rows and fields; the rest of the answer comes back with an error naming the provider.
 */
let demo: DemoUpstreams;
let gw: TestGateway;
const bodies: string[] = [];
const UPSTREAMS = ['cocktail-demo', 'quay-demo', 'zadig-demo', 'codearts-demo'];

type Err = { message: string; path?: Array<string | number>; extensions?: Record<string, any> };
async function q(query: string, variables?: Record<string, unknown>): Promise<{ data?: any; errors?: Err[] }> {
  const r = (await gw.gql(query, variables)) as { data?: any; errors?: Err[] };
  bodies.push(JSON.stringify(r));
  return r;
}
const LIST = `query($p: [String!]) { builds(providerIds: $p, first: 100) { totalCount edges { node { id name provider { providerId } lastRun { state } } } } }`;
const providersOf = (d: any): string[] => [...new Set<string>(d.builds.edges.map((e: any) => e.node.provider.providerId))].sort();

beforeAll(async () => {
  // No retries and a short timeout, so each failure shows at once; no cache, so every query reaches the fakes.
  demo = await startDemoUpstreams({ pace: 'test', instance: { cacheTtlMs: 0, retries: 0, timeoutMs: 600 } });
  gw = await startGateway({ config: { providers: demo.instances } });
});
afterEach(() => { for (const f of Object.values(demo.fakes)) f.fake.clearFaults(); });
afterAll(async () => {
  await gw?.close();
  await demo?.stop();
});

describe('one failing upstream in a merged builds list', () => {
  it('HTTP 500: the other providers\' rows come back, plus UPSTREAM_UNAVAILABLE naming the provider', async () => {
    demo.fakes.quay.fake.fault({ status: 500, times: Infinity, path: /^\/api\/v1\/repository/ });
    const r = await q(LIST, { p: UPSTREAMS });
    expect(providersOf(r.data)).toEqual(['cocktail-demo', 'codearts-demo', 'zadig-demo']);
    expect(r.errors).toHaveLength(1);
    expect(r.errors![0]!.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', providerId: 'quay-demo', status: 500 });
    expect(r.errors![0]!.message).toContain('quay-demo');
    // Also when no provider is named (all of them, the native engine included).
    const all = await q(LIST);
    expect(providersOf(all.data)).toEqual(['cocktail-demo', 'codearts-demo', 'zadig-demo']);
    expect(all.errors?.map((e) => e.extensions?.providerId)).toEqual(['quay-demo']);
  });

  it('no answer: the others come back, plus UPSTREAM_TIMEOUT naming the provider', async () => {
    demo.fakes.codearts.fake.fault({ kind: 'timeout', times: Infinity, path: /\/jobs$/ });
    const started = Date.now();
    const r = await q(LIST, { p: UPSTREAMS });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(providersOf(r.data)).toEqual(['cocktail-demo', 'quay-demo', 'zadig-demo']);
    expect(r.errors?.map((e) => e.extensions)).toEqual([expect.objectContaining({ code: 'UPSTREAM_TIMEOUT', providerId: 'codearts-demo' })]);
  });

  it('a provider whose run endpoints fail keeps its rows; only their lastRun fields are null, each with an error', async () => {
    demo.fakes.quay.fake.fault({ status: 503, times: Infinity, path: /\/build\/$/ });
    const r = await q(LIST, { p: UPSTREAMS });
    expect(providersOf(r.data)).toEqual([...UPSTREAMS].sort());
    const quayRows = r.data.builds.edges.filter((e: any) => e.node.provider.providerId === 'quay-demo');
    expect(quayRows).toHaveLength(2);
    for (const row of quayRows) expect(row.node.lastRun).toBeNull();
    const cocktailRow = r.data.builds.edges.find((e: any) => e.node.name === 'build-test');
    expect(cocktailRow.node.lastRun.state).toBe('DONE');
    expect(r.errors).toHaveLength(2);
    for (const e of r.errors!) {
      expect(e.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', providerId: 'quay-demo' });
      expect(e.path).toEqual(['builds', 'edges', expect.any(Number), 'node', 'lastRun']);
    }
  });
});

describe('one failing upstream in a query over several providers', () => {
  it('fails only its own fields', async () => {
    const list = await q(LIST, { p: UPSTREAMS });
    const pick = (name: string) => list.data.builds.edges.find((e: any) => e.node.name === name).node.id as string;
    const ids = [pick('build-test'), pick('demo/web'), pick('api-build'), pick('api-maven')];
    demo.fakes.zadig.fake.fault({ status: 500, times: Infinity });
    const r = await q(`query($ids: [ID!]!, $c: ID!, $z: ID!) {
      nodes(ids: $ids) { id ... on Build { name lastRun { state } } }
      cocktail: node(id: $c) { ... on Build { name } }
      zadig: node(id: $z) { ... on Build { name } }
    }`, { ids, c: ids[0], z: ids[2] });
    expect(r.data.nodes.map((n: any) => n?.name ?? null)).toEqual(['build-test', 'demo/web', null, 'api-maven']);
    expect(r.data.cocktail).toEqual({ name: 'build-test' });
    expect(r.data.zadig).toBeNull();
    expect(r.errors!.map((e) => e.path)).toEqual(expect.arrayContaining([['nodes', 2], ['zadig']]));
    for (const e of r.errors!) expect(e.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', providerId: 'zadig-demo' });
  });

  it('an upstream error that echoes the credential is masked', async () => {
    const { token } = demo.fakes.cocktail;
    demo.fakes.cocktail.fake.fault({ status: 500, body: { message: `token ${token} rejected`, echo: { authorization: `Bearer ${token}` } }, times: Infinity });
    const r = await q(LIST, { p: ['cocktail-demo', 'zadig-demo'] });
    expect(providersOf(r.data)).toEqual(['zadig-demo']);
    const e = r.errors![0]!;
    expect(e.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', providerId: 'cocktail-demo' });
    expect(JSON.stringify(e)).toContain('***');
  });

  it('never returns a credential in any response of this file', () => {
    const all = bodies.join('\n');
    expect(bodies.length).toBeGreaterThanOrEqual(7);
    for (const f of Object.values(demo.fakes)) expect(all).not.toContain(f.token);
  });
});
