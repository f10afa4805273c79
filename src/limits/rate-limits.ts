import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { closeRedis } from '../net/redis-close.js';
import { BuildgateError, ErrorCode } from '../errors.js';
import type { Principal } from '../auth/principal.js';

export class RateLimitedError extends BuildgateError {
  constructor(readonly retryAfterSec: number, what: string) {
    super(ErrorCode.RATE_LIMITED, `Too many ${what}: retry after ${retryAfterSec} s`, { retryAfterSec });
  }
}

/** The bucket of a caller: its credential, or its address when anonymous. */
export const bucketOf = (p: Principal) => (p.kind === 'anonymous' ? `ip:${p.ip}` : `${p.kind}:${p.id}`);

/**
 * Per-credential budgets for mutations and for graphql-ws connects, over a one-minute
 * window. In memory by default; in Redis when redis.url is set, so that every replica
 * draws from the same budget (with an in-memory fallback while Redis is unreachable).
 */
export class RateLimits {
  private readonly mutations: RateLimiterAbstract | null;
  private readonly connects: RateLimiterAbstract | null;
  private readonly redis: Redis | null;

  constructor(config: Config, logger: Logger) {
    const { mutationsPerMinute, wsConnectsPerMinute } = config.limits;
    this.redis = config.redis.url ? new Redis(config.redis.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false }) : null;
    this.redis?.on('error', (e: Error) => logger.warn({ err: e.message }, 'rate limiter: redis error'));
    const make = (points: number, prefix: string): RateLimiterAbstract | null => {
      if (points === 0) return null;
      const memory = new RateLimiterMemory({ points, duration: 60, keyPrefix: prefix });
      if (!this.redis) return memory;
      return new RateLimiterRedis({ storeClient: this.redis, points, duration: 60, keyPrefix: `buildgate:rl:${prefix}`, insuranceLimiter: memory });
    };
    this.mutations = make(mutationsPerMinute, 'mutation');
    this.connects = make(wsConnectsPerMinute, 'connect');
  }

  get backend(): 'memory' | 'redis' { return this.redis ? 'redis' : 'memory'; }

  /**
   * Resolves once Redis is connected, or after `timeoutMs` (then the in-memory fallback
   * serves until it is). Waited for at start: budgets taken in memory before the connection
   * is up would be split from the shared ones and let a caller past the limit.
   */
  async ready(timeoutMs = 2000): Promise<void> {
    const redis = this.redis;
    if (!redis || redis.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done() { clearTimeout(timer); redis!.off('ready', done); resolve(); }
      redis.once('ready', done);
    });
  }

  /** Takes `count` mutations from the caller's budget or throws RateLimitedError. */
  consumeMutations(p: Principal, count: number): Promise<void> {
    return this.consume(this.mutations, p, count, 'mutations');
  }

  consumeConnect(p: Principal): Promise<void> {
    return this.consume(this.connects, p, 1, 'connections');
  }

  private async consume(limiter: RateLimiterAbstract | null, p: Principal, count: number, what: string): Promise<void> {
    if (!limiter || count <= 0) return;
    try {
      await limiter.consume(bucketOf(p), count);
    } catch (e) {
      if (e instanceof RateLimiterRes) throw new RateLimitedError(Math.max(1, Math.ceil(e.msBeforeNext / 1000)), what);
      throw e;
    }
  }

  async close(): Promise<void> {
    if (this.redis) await closeRedis(this.redis);
  }
}
