import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startDemoUpstreams, type DemoUpstreams } from '../../src/demo/upstreams.js';
import { toGlobalId } from '../../src/ids.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

/**
 * Each upstream's own way of saying "no such object" — Zadig's HTTP 500 with Mongo's
 * no-documents error, CodeArts' CB.00000404 (here inside a 200 "fail" envelope), Quay's 403
 * for a repository the token may not read, Cocktail's 404 — is NOT_FOUND for the caller:
 * asked once (no retries), and never counted against the provider's circuit breaker.
 */
let demo: DemoUpstreams;
let gw: TestGateway;
type Res = { data?: any; errors?: Array<{ message: string; extensions?: Record<string, any> }> };

beforeAll(async () => {
  demo = await startDemoUpstreams({ pace: 'test', instance: { cacheTtlMs: 0, retries: 2, timeoutMs: 3000 } });
  // Two availability failures would open a breaker: four lookups of missing runs must not.
  const instances = demo.instances.map((i) => ({ ...i, breaker: { volumeThreshold: 2 } }));
  demo.fakes.quay.state.forbidden.add('demo/api');
  gw = await startGateway({ config: { providers: instances } });
});
afterAll(async () => {
  await gw?.close();
  await demo?.stop();
});

const CASES = [
  { providerId: 'zadig-demo', key: 'demo/api-build/build-demo/9999', path: '/openapi/workflows/custom/task', fake: () => demo.fakes.zadig.fake },
  { providerId: 'codearts-demo', key: () => `${demo.fakes.codearts.jobs[0]!.id}/9999`, path: '/record-info', fake: () => demo.fakes.codearts.fake },
  { providerId: 'quay-demo', key: 'demo/api/0f7a2c1e-0000-4000-8000-000000000000', path: '/build/0f7a2c1e', fake: () => demo.fakes.quay.fake },
  { providerId: 'cocktail-demo', key: '999999:1', path: '/v1/build/999999', fake: () => demo.fakes.cocktail.fake },
];

describe.each(CASES)('$providerId', ({ providerId, key, path, fake }) => {
  it('a missing run is NOT_FOUND, asked once, and leaves the circuit closed', async () => {
    const id = toGlobalId(providerId, 'BuildRun', typeof key === 'function' ? key() : key);
    const before = fake().count('GET', path);
    for (let i = 0; i < 4; i++) {
      const r = (await gw.gql('query($id: ID!) { run(id: $id) { id state } }', { id })) as Res;
      expect(r.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
    expect(fake().count('GET', path) - before).toBe(4); // no retries
    const h = ((await gw.gql('{ providers { providerId health { status circuitState } } }')) as Res).data.providers
      .find((p: any) => p.providerId === providerId).health;
    expect(h).toEqual({ status: 'UP', circuitState: 'CLOSED' });
  });
});
