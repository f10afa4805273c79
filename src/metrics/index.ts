import { timingSafeEqual } from 'node:crypto';
import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestHandler } from 'express';
import { Kind } from 'graphql';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Config } from '../config/index.js';
import type { LiveHub } from '../live/hub.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { Store } from '../store/db.js';
import type { Instruments } from './instruments.js';

/** What the metrics read at scrape time. */
export interface MetricsSources {
  store: Store;
  registry: ProviderRegistry;
  live: LiveHub;
  /** Open websockets and their subscriptions by root field. */
  ws: () => { sockets: number; subscriptions: Map<string, number> };
  /** What the lower layers count as it happens (upstream requests, cache, log lines, fan-out lag). */
  instruments: Instruments;
}

export interface Metrics {
  /** GET /metrics: Prometheus text format. */
  handler: RequestHandler;
  /** Counts and times every GraphQL operation over HTTP. */
  apolloPlugin: ApolloServerPlugin;
}

/** Process metrics (CPU, memory, event loop, GC) are per process: one collector, shared by every gateway in it. */
let processRegistry: Registry | null = null;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** Operation names come from clients: a bounded set of well-formed names keeps the label set finite. */
const MAX_OPERATION_NAMES = 200;
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

const sameSecret = (given: string, expected: string): boolean => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

/**
 * Prometheus metrics of one gateway: GraphQL operations by name, type and outcome with a
 * latency histogram; what the lower layers count (instruments.ts: upstream requests by
 * endpoint and status, cache lookups, log lines, fan-out lag); at scrape time, native runs by
 * state and queue depth by buildServerHost, each provider instance's health and circuit
 * state, live feeds, websockets and subscriptions by field; plus the default process metrics.
 * `metrics.token` set: a scrape must send `Authorization: Bearer <token>`.
 */
export function createMetrics(config: Config, sources: MetricsSources): Metrics {
  const registry = new Registry();
  const operations = new Counter({ name: 'buildgate_graphql_operations_total', help: 'GraphQL operations over HTTP by operation name, type and outcome (success, partial, error)', labelNames: ['operation', 'type', 'outcome'], registers: [registry] });
  const latency = new Histogram({ name: 'buildgate_graphql_operation_duration_seconds', help: 'GraphQL operation latency over HTTP, request received to response sent', labelNames: ['operation', 'type'], registers: [registry] });
  const runs = new Gauge({ name: 'buildgate_native_runs', help: 'Native runs in the store by state', labelNames: ['state'], registers: [registry] });
  const providerUp = new Gauge({ name: 'buildgate_provider_up', help: 'Provider instance health: 1 UP, 0 DOWN, -1 UNKNOWN', labelNames: ['provider', 'kind'], registers: [registry] });
  const breakerOpen = new Gauge({ name: 'buildgate_provider_circuit_state', help: 'Circuit breaker of a provider instance: 0 CLOSED, 1 HALF_OPEN, 2 OPEN', labelNames: ['provider', 'kind'], registers: [registry] });
  const subscribers = new Gauge({ name: 'buildgate_live_subscribers', help: 'Subscribers of shared run feeds (run state and log subscriptions)', registers: [registry] });
  const feeds = new Gauge({ name: 'buildgate_live_feeds', help: 'Shared run feeds open', registers: [registry] });
  const pollers = new Gauge({ name: 'buildgate_live_pollers', help: 'Upstream run pollers running', registers: [registry] });
  const sockets = new Gauge({ name: 'buildgate_ws_sockets', help: 'Open graphql-ws websockets', registers: [registry] });
  const subscriptions = new Gauge({ name: 'buildgate_ws_subscriptions', help: 'Active GraphQL subscriptions over websockets by root field', labelNames: ['field'], registers: [registry] });
  const queued = new Gauge({ name: 'buildgate_native_queue_depth', help: 'Native runs waiting (QUEUED) by their build\'s buildServerHost ("default": none; with build agents, one queue each)', labelNames: ['build_server_host'], registers: [registry] });

  const names = new Set<string>();
  const operationLabel = (name: string | null | undefined): string => {
    if (!name) return 'anonymous';
    if (!NAME.test(name)) return 'other';
    if (names.has(name)) return name;
    if (names.size >= MAX_OPERATION_NAMES) return 'other';
    names.add(name);
    return name;
  };

  const collect = async () => {
    const rows = await sources.store.db.selectFrom('build_runs').select(['state']).select((eb) => eb.fn.countAll<number>().as('n')).groupBy('state').execute();
    runs.reset();
    for (const r of rows) runs.set({ state: r.state }, Number(r.n));
    const waiting = await sources.store.db.selectFrom('build_runs').innerJoin('builds', 'builds.id', 'build_runs.build_id')
      .where('build_runs.state', '=', 'QUEUED').select('builds.build_server_host as host').select((eb) => eb.fn.countAll<number>().as('n'))
      .groupBy('builds.build_server_host').execute();
    queued.reset();
    for (const w of waiting) queued.set({ build_server_host: w.host || 'default' }, Number(w.n));
    providerUp.reset();
    breakerOpen.reset();
    for (const p of sources.registry.all()) {
      const h = p.health();
      providerUp.set({ provider: p.id, kind: p.kind }, h.status === 'UP' ? 1 : h.status === 'DOWN' ? 0 : -1);
      breakerOpen.set({ provider: p.id, kind: p.kind }, h.circuitState === 'CLOSED' ? 0 : h.circuitState === 'HALF_OPEN' ? 1 : 2);
    }
    const s = sources.live.feeds.stats();
    subscribers.set(s.subscribers);
    feeds.set(s.feeds);
    pollers.set(s.pollers);
    const w = sources.ws();
    sockets.set(w.sockets);
    subscriptions.reset();
    for (const [field, n] of w.subscriptions) subscriptions.set({ field }, n);
  };

  const handler: RequestHandler = async (req, res) => {
    const { token, enabled } = config.metrics;
    if (!enabled) { res.status(404).end(); return; }
    if (token && !sameSecret(String(req.headers.authorization ?? ''), `Bearer ${token}`)) {
      res.status(401).set('www-authenticate', 'Bearer').end();
      return;
    }
    try {
      await collect();
      const merged = Registry.merge([processMetrics(), registry, sources.instruments.registry]);
      res.set('content-type', merged.contentType).send(await merged.metrics());
    } catch (e) {
      res.status(503).type('text/plain').send(`metrics unavailable: ${(e as Error).message}\n`);
    }
  };

  const apolloPlugin: ApolloServerPlugin = {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse(ctx) {
          // A document that fails validation has no resolved operation: name it after its first definition.
          const op = ctx.operation ?? ctx.document?.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
          const operation = operationLabel(ctx.operationName ?? op?.name?.value);
          const type = op?.operation ?? 'unknown';
          const body = ctx.response.body.kind === 'single' ? ctx.response.body.singleResult : null;
          const hasErrors = (body?.errors?.length ?? 0) > 0;
          const hasData = body?.data !== undefined && body?.data !== null;
          const outcome = !hasErrors ? 'success' : hasData ? 'partial' : 'error';
          operations.inc({ operation, type, outcome });
          latency.observe({ operation, type }, Number(process.hrtime.bigint() - started) / 1e9);
        },
      };
    },
  };
  return { handler, apolloPlugin };
}
