import { Counter, Histogram, Registry } from 'prom-client';

/** Upper bounds of latency buckets (seconds): upstream calls and fan-out are ms to a few seconds. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The metrics the lower layers count as things happen (providers' upstream calls and cache,
 * the engine's log lines, live fan-out), one set per gateway: tests run several gateways in
 * one process. Everything countable at scrape time is read then instead (metrics/index.ts).
 * Callers hold it optionally: without it (tools, tests of one part) nothing is counted.
 */
export class Instruments {
  readonly registry = new Registry();
  private readonly upstreamRequests = new Counter({
    name: 'buildgate_upstream_requests_total',
    help: 'HTTP requests to upstream build systems by provider instance, method, endpoint (route template) and status (HTTP status, or the error code when no answer came)',
    labelNames: ['provider', 'method', 'endpoint', 'status'], registers: [this.registry],
  });
  private readonly upstreamDuration = new Histogram({
    name: 'buildgate_upstream_request_duration_seconds',
    help: 'Latency of one HTTP request to an upstream (one attempt) by provider instance, method and endpoint',
    labelNames: ['provider', 'method', 'endpoint'], buckets: LATENCY_BUCKETS, registers: [this.registry],
  });
  private readonly cacheLookups = new Counter({
    name: 'buildgate_upstream_cache_lookups_total',
    help: 'Upstream GET cache lookups by provider instance and result (hit, miss)',
    labelNames: ['provider', 'result'], registers: [this.registry],
  });
  private readonly logLines = new Counter({
    name: 'buildgate_log_lines_ingested_total',
    help: 'Native run log lines committed to the store',
    registers: [this.registry],
  });
  private readonly fanoutLag = new Histogram({
    name: 'buildgate_live_fanout_lag_seconds',
    help: 'Time from a log line being read from a step to its delivery to the run feed of this gateway (through Redis when configured)',
    buckets: LATENCY_BUCKETS, registers: [this.registry],
  });

  upstreamRequest(provider: string, method: string, endpoint: string, status: string, seconds: number): void {
    this.upstreamRequests.inc({ provider, method, endpoint, status });
    this.upstreamDuration.observe({ provider, method, endpoint }, seconds);
  }

  cacheLookup(provider: string, hit: boolean): void {
    this.cacheLookups.inc({ provider, result: hit ? 'hit' : 'miss' });
  }

  logLinesIngested(n: number): void {
    this.logLines.inc(n);
  }

  fanoutDelivered(lagSeconds: number): void {
    this.fanoutLag.observe(Math.max(0, lagSeconds));
  }
}
