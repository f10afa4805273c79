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

async function until(cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('metrics at /metrics', () => {
  let demo: DemoUpstreams;
  let gw: TestGateway;
  let base: string;
  beforeAll(async () => {
    demo = await startDemoUpstreams({ pace: 'test', instance: { cacheTtlMs: 0, retries: 0, timeoutMs: 3000 } });
    const quay = { ...demo.instances.find((i) => i.kind === 'QUAY')!, cacheTtlMs: 60_000 };
    // Two upstream instances: one answers (its GETs cached), one is down.
    const failing = { ...quay, id: 'quay-down', cacheTtlMs: 0, baseUrl: `http://127.0.0.1:${await closedPort()}` };
    gw = await startGateway({ config: { providers: [quay, failing], engine: { allowPrivateHosts: ['127.0.0.1'] } } });
    base = gw.url.replace(/\/graphql$/, '');
  });
  afterAll(async () => { await gw?.close(); await demo?.stop(); });

  const scrape = async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    return res.text();
  };

  it('counts operations, upstream requests, cache, websockets, log lines, fan-out and runs after a known workload', async () => {
    const build = await gw.gql(`mutation CreateBuild { createBuild(input: { build: { name: "m", steps: [{ stepOrder: 1, stepType: SHELL, shell: { command: "sleep 1; echo hi; sleep 1; echo bye" } }] } }) { build { id } } }`);
    expect(build.errors).toBeUndefined();
    const run = await gw.gql<any, any>(`mutation Run($id: ID!) { runBuild(input: { buildId: $id }) { run { id } } }`, { id: (build.data as any).createBuild.build.id });
    const runId = run.data.runBuild.run.id;
    // Watched live over one websocket: its log (lines arrive while it runs: fan-out lag) and its state.
    const ws = gw.ws();
    const log: any[] = [];
    const logDone = new Promise<void>((resolve, reject) => ws.subscribe({ query: `subscription RunLog($runId: ID!) { runLog(runId: $runId) { lines { seq text } lastSeq } }`, variables: { runId } },
      { next: (v) => log.push(v.data), error: reject, complete: resolve }));
    let firstState!: () => void;
    const stateSeen = new Promise<void>((r) => { firstState = r; });
    const stateDone = new Promise<void>((resolve, reject) => ws.subscribe({ query: `subscription RunUpdated($runId: ID!) { runUpdated(runId: $runId) { state } }`, variables: { runId } },
      { next: () => firstState(), error: reject, complete: resolve }));
    await stateSeen;
    // Both subscriptions registered (the run sleeps for 2 s): counted by root field.
    await until(async () => sample(await scrape(), 'buildgate_ws_subscriptions', { field: 'runLog' }) === 1);
    const during = await scrape();
    expect(sample(during, 'buildgate_ws_sockets')).toBe(1);
    expect(sample(during, 'buildgate_ws_subscriptions', { field: 'runUpdated' })).toBe(1);
    await Promise.all([logDone, stateDone]);
    const lines = log.flatMap((b) => b.runLog.lines);
    expect(lines.map((l: any) => l.text)).toEqual(expect.arrayContaining(['hi', 'bye']));

    // Builds over the native provider and both upstreams: the down one makes it partial; the second list reads Quay from the cache.
    const list = await gw.gql(`query BuildsList { builds(first: 5) { totalCount } }`);
    expect(list.data).toBeTruthy();
    expect(list.errors?.length).toBeGreaterThan(0);
    const text0 = await scrape();
    await gw.gql(`query BuildsList { builds(first: 5) { totalCount } }`);
    await gw.gql(`query Broken { noSuchField }`);

    const text = await scrape();
    const ops = (operation: string, type: string, outcome: string) => sample(text, 'buildgate_graphql_operations_total', { operation, type, outcome });
    expect(ops('CreateBuild', 'mutation', 'success')).toBe(1);
    expect(ops('Run', 'mutation', 'success')).toBe(1);
    expect(ops('BuildsList', 'query', 'partial')).toBe(2);
    expect(ops('Broken', 'query', 'error')).toBe(1);
    await gw.gql(`query Unparsable {`);
    expect(sample(await scrape(), 'buildgate_graphql_operations_total', { operation: 'anonymous', type: 'unknown', outcome: 'error' })).toBe(1);
    expect(sample(text, 'buildgate_graphql_operation_duration_seconds_count', { operation: 'CreateBuild', type: 'mutation' })).toBe(1);

    // Upstream requests by provider, route template (never the raw URL: one series for both repositories) and status.
    const repo = '/api/v1/repository/:namespace/:repository';
    const okCalls = sample(text0, 'buildgate_upstream_requests_total', { provider: 'quay-demo', method: 'GET', endpoint: repo, status: '200' });
    expect(okCalls).toBe(2); // demo/web and demo/api, one series
    expect(text).not.toMatch(/endpoint="[^"]*demo\/web/);
    expect(sample(text, 'buildgate_upstream_requests_total', { provider: 'quay-demo', method: 'GET', endpoint: repo, status: '200' })).toBe(2); // second list: cached
    expect(sample(text, 'buildgate_upstream_request_duration_seconds_count', { provider: 'quay-demo', method: 'GET', endpoint: repo })).toBe(2);
    // The down instance: no HTTP answer, so the status is the failure's code; uncached, so each list calls again.
    expect(sample(text, 'buildgate_upstream_requests_total', { provider: 'quay-down', method: 'GET', endpoint: repo, status: 'UPSTREAM_UNAVAILABLE' })).toBe(4);
    expect(sample(text, 'buildgate_upstream_cache_lookups_total', { provider: 'quay-demo', result: 'miss' })).toBe(2);
    expect(sample(text, 'buildgate_upstream_cache_lookups_total', { provider: 'quay-demo', result: 'hit' })).toBe(2);
    expect(sample(text, 'buildgate_upstream_cache_lookups_total', { provider: 'quay-down', result: 'miss' })).toBeUndefined();

    // Every stored line of the run counted once; lines delivered live measured for lag.
    expect(sample(text, 'buildgate_log_lines_ingested_total')).toBe(log[log.length - 1].runLog.lastSeq);
    expect(sample(text, 'buildgate_live_fanout_lag_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'buildgate_live_fanout_lag_seconds_sum')).toBeLessThan(5);
    // Ended subscriptions are no longer counted, nor the socket the (lazy) client then closed.
    expect(sample(text, 'buildgate_ws_subscriptions', { field: 'runLog' })).toBeUndefined();
    expect(sample(text, 'buildgate_ws_sockets')).toBe(0);

    expect(sample(text, 'buildgate_native_runs', { state: 'DONE' })).toBe(1);
    expect(sample(text, 'buildgate_provider_up', { provider: 'quay-down', kind: 'QUAY' })).toBe(0);
    expect(sample(text, 'buildgate_provider_up', { provider: 'quay-demo', kind: 'QUAY' })).toBe(1);
    expect(sample(text, 'buildgate_provider_circuit_state', { provider: 'quay-demo' })).toBe(0);
    expect(sample(text, 'buildgate_live_subscribers')).toBe(0);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('reports native runs waiting, by buildServerHost', async () => {
    // One run at a time: a sleeping run holds the slot, the next two wait.
    const one = await startGateway({ config: { engine: { maxConcurrentRuns: 1 } } });
    try {
      const ids: string[] = [];
      for (const host of [null, 'ci-a:8080', 'ci-a:8080']) {
        const b = await one.gql<any, any>(`mutation B($host: String) { createBuild(input: { build: { name: "q", buildServerHost: $host, steps: [{ stepOrder: 1, stepType: SHELL, shell: { command: "sleep 5" } }] } }) { build { id } } }`, { host });
        expect(b.errors).toBeUndefined();
        ids.push(b.data.createBuild.build.id);
      }
      for (const id of ids) expect((await one.gql<any, any>(`mutation R($id: ID!) { runBuild(input: { buildId: $id }) { run { id } } }`, { id })).errors).toBeUndefined();
      const text = await (await fetch(one.url.replace(/\/graphql$/, '/metrics'))).text();
      expect(sample(text, 'buildgate_native_queue_depth', { build_server_host: 'ci-a:8080' })).toBe(2);
      expect(sample(text, 'buildgate_native_queue_depth', { build_server_host: 'default' })).toBeUndefined();
      expect(sample(text, 'buildgate_native_runs', { state: 'QUEUED' })).toBe(2);
    } finally {
      await one.close();
    }
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
