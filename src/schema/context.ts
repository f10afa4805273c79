import DataLoader from 'dataloader';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { BuildgateError } from '../errors.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { BuildData, BuildStatsData, ImageTagData, ImageTagListArgs, Page, PageArgs, RunData, StepRunData } from '../providers/types.js';
import type { LiveHub } from '../live/hub.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Principal } from '../auth/principal.js';
import type { Store } from '../store/db.js';

/** Long-lived services shared by all requests. */
export interface Services {
  config: Config;
  registry: ProviderRegistry;
  live: LiveHub;
  logger: Logger;
  audit: AuditLog;
  /** The gateway's own store (API keys; builds and runs go through their providers). */
  store: Store;
}

/** Per-request state: loaders cache per request so one query never asks twice. */
export interface Context {
  requestId: string;
  services: Services;
  logger: Logger;
  loaders: Loaders;
  /** Errors of upstreams that failed inside a merged list; appended to the response's errors. */
  partialErrors: BuildgateError[];
  /** graphql-ws only: the client's socket, to notice a subscriber falling behind. */
  socket?: { readonly bufferedAmount: number };
  /** Who is asking (API key, JWT subject or anonymous) and with which role. */
  principal: Principal;
}

/**
 * Per-request loaders: every key asked for within one tick goes to the provider in one batch
 * read (src/providers/batch.ts), each key once per request. Pages of runs and image tags are
 * loaded per (provider, page arguments), so the same `runs(first: 3)` under 50 builds is one
 * batch. What a page or list brought is primed into the by-key loaders (a run listed is not
 * read again by id). Each accessor resolves its provider first, so an unknown id fails there
 * (NOT_FOUND), not inside a batch.
 */
export class Loaders {
  private readonly map = new Map<string, DataLoader<string, unknown>>();
  constructor(private readonly registry: ProviderRegistry) {}

  private get<V>(name: string, batch: (keys: readonly string[]) => Promise<Array<V | Error>>): DataLoader<string, V> {
    let l = this.map.get(name);
    if (!l) {
      l = new DataLoader<string, unknown>(batch as (keys: readonly string[]) => Promise<unknown[]>);
      this.map.set(name, l);
    }
    return l as DataLoader<string, V>;
  }

  build(providerId: string): DataLoader<string, BuildData | null> {
    const reads = this.registry.reads(providerId);
    return this.get(`build:${providerId}`, (keys) => reads.getBuilds(keys));
  }

  run(providerId: string): DataLoader<string, RunData | null> {
    const reads = this.registry.reads(providerId);
    return this.get(`run:${providerId}`, (keys) => reads.getRuns(keys));
  }

  latestRun(providerId: string): DataLoader<string, RunData | null> {
    const reads = this.registry.reads(providerId);
    return this.get(`latestRun:${providerId}`, (keys) => reads.latestRuns(keys));
  }

  /** One page (`args`) of runs of each build asked for. */
  runs(providerId: string, args: PageArgs): DataLoader<string, Page<RunData>> {
    const reads = this.registry.reads(providerId);
    return this.get(`runs:${providerId}:${JSON.stringify(args)}`, async (keys) => {
      const pages = await reads.listRunsOfBuilds(keys, args);
      const byId = this.run(providerId);
      for (const p of pages) if (!(p instanceof Error)) for (const r of p.items) byId.prime(r.key, r);
      return pages;
    });
  }

  stepRuns(providerId: string): DataLoader<string, StepRunData[]> {
    const reads = this.registry.reads(providerId);
    return this.get(`stepRuns:${providerId}`, (keys) => reads.listStepRunsOfRuns(keys));
  }

  stats(providerId: string): DataLoader<string, BuildStatsData> {
    const reads = this.registry.reads(providerId);
    return this.get(`stats:${providerId}`, (keys) => reads.getBuildStatsOfBuilds(keys));
  }

  imageTags(providerId: string, args: ImageTagListArgs): DataLoader<string, Page<ImageTagData>> {
    const reads = this.registry.reads(providerId);
    return this.get(`imageTags:${providerId}:${JSON.stringify(args)}`, (keys) => reads.listImageTagsOfBuilds(keys, args));
  }

  /** Builds a list brought are not read again by key within the request. */
  primeBuilds(providerId: string, builds: BuildData[]): void {
    const l = this.build(providerId);
    for (const b of builds) l.prime(b.key, b);
  }
}
