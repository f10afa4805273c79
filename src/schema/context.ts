import DataLoader from 'dataloader';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { BuildgateError } from '../errors.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { BuildData, RunData } from '../providers/types.js';
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

  /** Errors are per key: one failing item fails only its own field. */
  private static each<V>(fn: (key: string) => Promise<V>) {
    return (keys: readonly string[]) => Promise.all(keys.map((k) => fn(k).catch((e: Error) => e)));
  }

  build(providerId: string): DataLoader<string, BuildData | null> {
    const get = this.registry.method(providerId, 'getBuild', 'BUILD_GET');
    return this.get(`build:${providerId}`, Loaders.each((k) => get(k)));
  }

  run(providerId: string): DataLoader<string, RunData | null> {
    const get = this.registry.method(providerId, 'getRun', 'RUN_GET');
    return this.get(`run:${providerId}`, Loaders.each((k) => get(k)));
  }

  latestRun(providerId: string): DataLoader<string, RunData | null> {
    const p = this.registry.get(providerId);
    return this.get(`latestRun:${providerId}`, Loaders.each(async (buildKey) => {
      if (p.latestRun) return p.latestRun(buildKey);
      if (!p.listRuns || !p.capabilities.has('RUN_LIST')) return null;
      return (await p.listRuns(buildKey, { offset: 0, limit: 1 })).items[0] ?? null;
    }));
  }
}
