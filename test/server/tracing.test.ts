import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { startDemoUpstreams, type DemoUpstreams } from '../../src/demo/upstreams.js';
import { createLogger } from '../../src/server/logger.js';
import { traced } from '../../src/tracing/index.js';
import { startTracing, type Tracing } from '../../src/tracing/sdk.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

/** Span trees as the OpenTelemetry Node SDK records them, exported to memory. */
describe('traces', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let demo: DemoUpstreams;
  let gw: TestGateway;
  beforeAll(async () => {
    tracing = await startTracing({ serviceName: 'buildgate-test', sampleRatio: 1, exporter });
    demo = await startDemoUpstreams({ pace: 'test', instance: { cacheTtlMs: 0, retries: 0, timeoutMs: 3000 } });
    const two = demo.instances.filter((i) => i.kind === 'COCKTAIL' || i.kind === 'QUAY');
    gw = await startGateway({ config: { providers: two, engine: { allowPrivateHosts: ['127.0.0.1'] } } });
  });
  afterAll(async () => { await gw?.close(); await demo?.stop(); await tracing?.shutdown(); });

  const spans = () => exporter.getFinishedSpans();
  const childrenOf = (parent: ReadableSpan) => spans().filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);
  const one = (list: ReadableSpan[], name: string) => {
    const found = list.filter((s) => s.name === name);
    expect(found.map((s) => s.name)).toEqual([name]);
    return found[0]!;
  };
  async function until(cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
    const end = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > end) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('one BuildsList over two providers: operation → provider calls → upstream requests, traceparent sent upstream', async () => {
    exporter.reset();
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const before = { cocktail: demo.fakes.cocktail.fake.requests.length, quay: demo.fakes.quay.fake.requests.length };
    const res = await gw.gql(`query BuildsList { builds(first: 20) { totalCount edges { node { id name } } } }`, undefined, { traceparent: `00-${callerTrace}-${callerSpan}-01` });
    expect(res.errors).toBeUndefined();
    await until(() => spans().some((s) => s.name === 'query BuildsList'));

    // The operation continues the caller's trace.
    const op = one(spans(), 'query BuildsList');
    expect(op.kind).toBe(SpanKind.SERVER);
    expect(op.spanContext().traceId).toBe(callerTrace);
    expect(op.parentSpanContext?.spanId).toBe(callerSpan);
    expect(op.attributes['graphql.operation.name']).toBe('BuildsList');
    expect(op.attributes['graphql.operation.type']).toBe('query');

    // One listBuilds per provider, children of the operation.
    const calls = childrenOf(op);
    const cocktail = one(calls, 'provider cocktail-demo.listBuilds');
    const quay = one(calls, 'provider quay-demo.listBuilds');
    one(calls, 'provider native.listBuilds');
    expect(cocktail.attributes['buildgate.provider.kind']).toBe('COCKTAIL');

    // Each upstream request a CLIENT span under the call that made it, named by its route template.
    const cocktailHttp = one(childrenOf(cocktail), 'GET /v1/build');
    expect(cocktailHttp.kind).toBe(SpanKind.CLIENT);
    expect(cocktailHttp.attributes['http.response.status_code']).toBe(200);
    const quayHttp = childrenOf(quay);
    expect(quayHttp.map((s) => s.name)).toEqual(['GET /api/v1/repository/:namespace/:repository', 'GET /api/v1/repository/:namespace/:repository']);

    // The fake upstreams received the W3C traceparent of exactly those spans.
    const sent = demo.fakes.cocktail.fake.requests.slice(before.cocktail).map((r: { headers: Record<string, unknown> }) => r.headers.traceparent);
    expect(sent).toEqual([`00-${callerTrace}-${cocktailHttp.spanContext().spanId}-01`]);
    const sentQuay = demo.fakes.quay.fake.requests.slice(before.quay).map((r: { headers: Record<string, unknown> }) => r.headers.traceparent).sort();
    expect(sentQuay).toEqual(quayHttp.map((s) => `00-${callerTrace}-${s.spanContext().spanId}-01`).sort());
    // Every span of the request is in the caller's trace.
    expect(new Set(spans().filter((s) => s.name !== 'graphql').map((s) => s.spanContext().traceId))).toEqual(new Set([callerTrace]));
  });

  it('an upstream that fails marks its spans failed with the error code', async () => {
    exporter.reset();
    demo.fakes.cocktail.fake.fault({ status: 503, times: 1 });
    const res = await gw.gql(`query BuildsList { builds(first: 20) { totalCount } }`);
    expect(res.errors?.length).toBeGreaterThan(0);
    await until(() => spans().some((s) => s.name === 'query BuildsList'));
    const http = one(spans(), 'GET /v1/build');
    expect(http.status.code).toBe(SpanStatusCode.ERROR);
    expect(http.attributes['http.response.status_code']).toBe(503);
    expect(http.attributes['buildgate.error.code']).toBe('UPSTREAM_UNAVAILABLE');
    expect(one(spans(), 'provider cocktail-demo.listBuilds').status.code).toBe(SpanStatusCode.ERROR);
  });

  it('one native run: a trace of its own, linked to RunBuild, a span per engine step', async () => {
    const build = await gw.gql<any, any>(`mutation { createBuild(input: { build: { name: "traced", steps: [
      { stepOrder: 1, stepType: SHELL, shell: { command: "echo one" } },
      { stepOrder: 2, stepType: SHELL, shell: { command: "exit 3" } } ] } }) { build { id } } }`);
    expect(build.errors).toBeUndefined();
    exporter.reset();
    const run = await gw.gql<any, any>(`mutation RunBuild($id: ID!) { runBuild(input: { buildId: $id }) { run { id } } }`, { id: build.data.createBuild.build.id });
    expect(run.errors).toBeUndefined();
    await until(() => spans().some((s) => s.name === 'native run'));

    const op = one(spans(), 'mutation RunBuild');
    const runSpan = one(spans(), 'native run');
    expect(runSpan.parentSpanContext).toBeUndefined();
    expect(runSpan.spanContext().traceId).not.toBe(op.spanContext().traceId);
    // Linked to the provider call that queued it, itself a child of the operation.
    const queuedBy = one(childrenOf(op), 'provider native.runBuild');
    expect(runSpan.links.map((l) => l.context.spanId)).toEqual([queuedBy.spanContext().spanId]);
    expect(runSpan.attributes['buildgate.run.state']).toBe('ERROR');
    expect(runSpan.status.code).toBe(SpanStatusCode.ERROR);

    const steps = childrenOf(runSpan);
    expect(steps.map((s) => [s.name, s.attributes['buildgate.step.order'], s.status.code])).toEqual([
      ['step SHELL', 1, SpanStatusCode.UNSET],
      ['step SHELL', 2, SpanStatusCode.ERROR],
    ]);
    expect(steps[1]!.status.message).toContain('3');
  });

  it('a websocket operation gets its span too', async () => {
    exporter.reset();
    const ws = gw.ws();
    const result = await new Promise((resolve, reject) => ws.subscribe({ query: 'query WsCount { builds(first: 1) { totalCount } }' }, { next: resolve, error: reject, complete: () => undefined }));
    expect((result as any).data.builds.totalCount).toBeGreaterThan(0);
    await until(() => spans().some((s) => s.name === 'query WsCount'));
    const op = one(spans(), 'query WsCount');
    expect(op.attributes['network.protocol.name']).toBe('websocket');
    expect(childrenOf(op).map((s) => s.name)).toEqual(expect.arrayContaining(['provider cocktail-demo.listBuilds', 'provider quay-demo.listBuilds']));
  });

  it('puts the trace id of the current span in log lines', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
    const logger = createLogger('info', sink);
    let traceId = '';
    await traced('logging', {}, async (span) => {
      traceId = span!.spanContext().traceId;
      logger.child({ requestId: 'r1' }).info('inside');
    });
    logger.info('outside');
    const [inside, outside] = lines.map((l) => JSON.parse(l));
    expect(inside.traceId).toBe(traceId);
    expect(inside.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(outside.traceId).toBeUndefined();
  });
});
