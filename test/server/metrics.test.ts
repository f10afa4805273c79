import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startDemoUpstreams, type DemoUpstreams } from '../../src/demo/upstreams.js';
import { closedPort } from '../support/ports.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

/** One sample's value from Prometheus text, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('metrics at /metrics', () => {
  let demo: DemoUpstreams;
  let gw: TestGateway;
  let base: string;
  beforeAll(async () => {
    demo = await startDemoUpstreams({ pace: 'test', instance: { cacheTtlMs: 0, retries: 0, timeoutMs: 3000 } });
    const quay = demo.instances.find((i) => i.kind === 'QUAY')!;
    // Two upstream instances: one answers, one is down.
    const failing = { ...quay, id: 'quay-down', baseUrl: `http://127.0.0.1:${await closedPort()}` };
    gw = await startGateway({ config: { providers: [quay, failing], engine: { allowPrivateHosts: ['127.0.0.1'] } } });
    base = gw.url.replace(/\/graphql$/, '');
  });
  afterAll(async () => { await gw?.close(); await demo?.stop(); });

  it('counts operations by name, type and outcome, and reports runs, providers and the process', async () => {
    const build = await gw.gql(`mutation CreateBuild { createBuild(input: { build: { name: "m", steps: [{ stepOrder: 1, stepType: SHELL, shell: { command: "echo hi" } }] } }) { build { id } } }`);
    expect(build.errors).toBeUndefined();
    const run = await gw.gql<any, any>(`mutation Run($id: ID!) { runBuild(input: { buildId: $id }) { run { id } } }`, { id: (build.data as any).createBuild.build.id });
    for (let i = 0; i < 300; i++) {
      const r = await gw.gql<any, any>(`query RunState($id: ID!) { run(id: $id) { state } }`, { id: run.data.runBuild.run.id });
      if (r.data.run!.state === 'DONE') break;
      await new Promise((res) => setTimeout(res, 100));
    }
    // Builds over the native provider and both upstreams: the down one makes it partial.
    const list = await gw.gql(`query BuildsList { builds(first: 5) { totalCount } }`);
    expect(list.data).toBeTruthy();
    expect(list.errors?.length).toBeGreaterThan(0);
    await gw.gql(`query Broken { noSuchField }`);

    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    const ops = (operation: string, type: string, outcome: string) => sample(text, 'buildgate_graphql_operations_total', { operation, type, outcome });
    expect(ops('CreateBuild', 'mutation', 'success')).toBe(1);
    expect(ops('Run', 'mutation', 'success')).toBe(1);
    expect(ops('RunState', 'query', 'success')).toBeGreaterThanOrEqual(1);
    expect(ops('BuildsList', 'query', 'partial')).toBe(1);
    expect(ops('Broken', 'query', 'error')).toBe(1);
    await gw.gql(`query Unparsable {`);
    expect(sample(await (await fetch(`${base}/metrics`)).text(), 'buildgate_graphql_operations_total', { operation: 'anonymous', type: 'unknown', outcome: 'error' })).toBe(1);
    expect(sample(text, 'buildgate_graphql_operation_duration_seconds_count', { operation: 'CreateBuild', type: 'mutation' })).toBe(1);
    expect(sample(text, 'buildgate_native_runs', { state: 'DONE' })).toBe(1);
    expect(sample(text, 'buildgate_provider_up', { provider: 'quay-down', kind: 'QUAY' })).toBe(0);
    expect(sample(text, 'buildgate_provider_up', { provider: 'quay-demo', kind: 'QUAY' })).toBe(1);
    expect(sample(text, 'buildgate_provider_circuit_state', { provider: 'quay-demo' })).toBe(0);
    expect(sample(text, 'buildgate_live_subscribers')).toBe(0);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('asks for the token when one is configured', async () => {
    const token = 'metrics-token-0123456789';
    const guarded = await startGateway({ config: { metrics: { token } } });
    try {
      const url = guarded.url.replace(/\/graphql$/, '/metrics');
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});
