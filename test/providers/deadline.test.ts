import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { startFakeQuay } from '../fakes/quay.js';
import { startFakeZadig } from '../fakes/zadig.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

/**
 * A hung upstream behind a real gateway: Zadig's fake stops answering while Quay's keeps
 * answering. The hung provider costs a BuildsList at most its read deadline (not retries ×
 * timeout), its breaker counts the timeouts and opens, and a half-open probe closes it
 * again once Zadig answers.
 */
const DEADLINE = 400;
const RESET = 1500;
let quay: Awaited<ReturnType<typeof startFakeQuay>>;
let zadig: Awaited<ReturnType<typeof startFakeZadig>>;
let gw: TestGateway;

const LIST = `{ builds(first: 50) { totalCount edges { node { name provider { providerId } } } } }`;
type Res = { data?: any; errors?: Array<{ message: string; extensions?: Record<string, any> }> };
async function timed(query: string): Promise<{ res: Res; ms: number }> {
  const t0 = performance.now();
  const res = (await gw.gql(query)) as Res;
  return { res, ms: performance.now() - t0 };
}
const circuit = async () => ((await gw.gql('{ providers { providerId health { circuitState } } }')) as Res)
  .data.providers.find((p: any) => p.providerId === 'zadig-t').health.circuitState;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  quay = await startFakeQuay({ phaseMs: 100 });
  zadig = await startFakeZadig();
  // timeoutMs × (retries + 1) = 15 s: only the deadline can keep a query short.
  const base = { cacheTtlMs: 0, timeoutMs: 5000, retries: 2, deadlineMs: DEADLINE, breaker: { volumeThreshold: 100, openAfterHangs: 2, resetTimeoutMs: RESET } };
  gw = await startGateway({ config: { providers: [
    { ...base, id: 'quay-t', kind: 'QUAY', baseUrl: quay.url, options: { token: quay.token, repositories: ['demo/web', 'demo/api'] } },
    { ...base, id: 'zadig-t', kind: 'ZADIG', baseUrl: zadig.url, options: { token: zadig.token, projectKey: 'demo', workflowKey: 'build-demo' } },
  ] } });
});
afterAll(async () => {
  await gw?.close();
  await quay?.close();
  await zadig?.close();
});

test('a hung upstream costs a builds list at most its deadline, opens its breaker, and a probe closes it', async () => {
  zadig.fake.fault({ kind: 'timeout', times: Infinity });

  const first = await timed(LIST);
  expect(first.ms).toBeLessThan(DEADLINE + 1000); // was 3 × 5 s
  expect(first.res.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'UPSTREAM_TIMEOUT', providerId: 'zadig-t' }) })]);
  const names = first.res.data.builds.edges.map((e: any) => e.node.provider.providerId);
  expect(names).toEqual(['quay-t', 'quay-t']); // the other provider's rows came in the same answer

  // Two reads in a row that ran to the deadline open the circuit, however few calls the window holds.
  const second = await timed(LIST);
  expect(second.res.errors?.[0]?.extensions?.code).toBe('UPSTREAM_TIMEOUT');
  expect(await circuit()).toBe('OPEN');

  const calls = zadig.fake.requests.length;
  const open = await timed(LIST);
  expect(open.res.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', providerId: 'zadig-t' });
  expect(zadig.fake.requests.length).toBe(calls); // failed without calling the hung upstream
  expect(open.ms).toBeLessThan(first.ms);

  // Zadig answers again: after resetTimeout one probe goes through and closes the circuit.
  zadig.fake.clearFaults();
  await sleep(RESET + 100);
  const back = await timed(LIST);
  expect(back.res.errors).toBeUndefined();
  expect(back.res.data.builds.edges.filter((e: any) => e.node.provider.providerId === 'zadig-t').length).toBeGreaterThan(0);
  expect(await circuit()).toBe('CLOSED');
});
