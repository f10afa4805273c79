import { AsyncLocalStorage } from 'node:async_hooks';
import Keyv from 'keyv';
import KeyvRedis from '@keyv/redis';
import type { Logger } from 'pino';

export interface CacheOptions {
  /** `redis://...` to share answers between gateway replicas; in memory when absent. */
  redisUrl?: string;
  /** Key prefix of this gateway deployment (replicas of one gateway share it). Default "buildgate". */
  namespace?: string;
  logger?: Logger;
}

/** The upstream answer cache plus a way to release its connection. */
export interface UpstreamCache {
  keyv: Keyv;
  /** "memory" or "redis". */
  kind: 'memory' | 'redis';
  close(): Promise<void>;
}

/**
 * One keyv for every provider instance. Entries carry the TTL of the instance that wrote
 * them (`cacheTtlMs`, set per call by the upstream client), so the store itself has none.
 * A Redis outage must not fail queries: errors are logged and the client calls upstream.
 */
export function createCache(opts: CacheOptions = {}): UpstreamCache {
  const namespace = opts.namespace ?? 'buildgate';
  if (!opts.redisUrl) {
    const keyv = new Keyv({ namespace });
    return { keyv, kind: 'memory', close: async () => { await keyv.disconnect().catch(() => undefined); } };
  }
  // throwOnConnectError false: a Redis that is down at start only disables caching until it is back.
  const store = new KeyvRedis(opts.redisUrl, { namespace, throwOnConnectError: false, throwOnErrors: false, connectionTimeout: 2000 });
  const keyv = new Keyv(store, { namespace, useKeyPrefix: false });
  keyv.on('error', (err: unknown) => opts.logger?.warn({ err: String(err) }, 'upstream cache (redis) error'));
  return {
    keyv,
    kind: 'redis',
    close: async () => { await keyv.disconnect().catch(() => undefined); },
  };
}

const freshScope = new AsyncLocalStorage<true>();

/**
 * Runs `fn` with upstream GETs that skip cached answers but still store what they read:
 * live pollers see the upstream as it is now, and a query right after their event sees the
 * same state instead of an older cached one.
 */
export function readFresh<T>(fn: () => Promise<T>): Promise<T> {
  return freshScope.run(true, fn);
}

/** True inside readFresh. */
export function readsFresh(): boolean {
  return freshScope.getStore() === true;
}
