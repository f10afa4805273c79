import express from 'express';
import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { BuildgateError, ErrorCode } from '../errors.js';
import type { LiveHub } from '../live/hub.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { PushRequest } from '../providers/types.js';
import { HOOKS_PATH } from '../providers/upstream/push.js';

export { HOOKS_PATH };

/** Largest webhook body: a Quay build notification is about 1 KiB, a Cocktail run a few. */
export const HOOK_BODY_LIMIT = 64 * 1024;
const DEFAULT_PER_MINUTE = 600;

type Res = express.Response;
const fail = (res: Res, status: number, code: string, message: string) => {
  res.status(status).json({ errors: [{ message, extensions: { code } }] });
};

/**
 * POST /hooks/<providerId>[/<path>]: webhooks of upstream systems (Quay repository
 * notifications, Cocktail run callbacks). In this order, each answer leaving everything as
 * it was: unknown provider or one without a webhook secret → 404; over the per-provider,
 * per-address budget → 429; body over 64 KiB → 413; secret or signature wrong → 401 (compared
 * in constant time); a body that is not that system's notification → 400. An accepted one only
 * wakes pollers (on every replica): they read the run from the upstream's API, so a forged or
 * replayed webhook cannot change what buildgate reports. 202 when accepted.
 */
export function hooksHandler(registry: ProviderRegistry, live: LiveHub, logger: Logger, perMinute: ReadonlyMap<string, number>): express.RequestHandler[] {
  const limiters = new Map<string, RateLimiterMemory>();
  const limiter = (providerId: string) => {
    let l = limiters.get(providerId);
    if (!l) limiters.set(providerId, l = new RateLimiterMemory({ points: perMinute.get(providerId) ?? DEFAULT_PER_MINUTE, duration: 60, keyPrefix: `hook:${providerId}` }));
    return l;
  };
  const log = logger.child({ part: 'hooks' });
  const parts = (req: express.Request) => {
    const m = /^\/([a-z0-9][a-z0-9-]{0,62})(\/.*)?$/.exec(req.path);
    return m ? { providerId: m[1]!, path: m[2] ?? '' } : null;
  };

  const gate: express.RequestHandler = async (req, res, next) => {
    if (req.method !== 'POST') { res.setHeader('allow', 'POST'); fail(res, 405, 'METHOD_NOT_ALLOWED', 'webhooks are POSTed'); return; }
    const p = parts(req);
    const provider = p && registry.has(p.providerId) ? registry.get(p.providerId) : null;
    if (!p || !provider?.push) { fail(res, 404, ErrorCode.NOT_FOUND, 'no provider with webhooks at this path'); return; }
    try {
      await limiter(p.providerId).consume(req.socket.remoteAddress ?? 'unknown');
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) return next(e);
      res.setHeader('retry-after', String(Math.max(1, Math.ceil(e.msBeforeNext / 1000))));
      fail(res, 429, ErrorCode.RATE_LIMITED, 'too many webhook requests');
      return;
    }
    next();
  };

  const handle: express.RequestHandler = (req, res) => {
    const { providerId, path } = parts(req)!;
    const push = registry.get(providerId).push!;
    const query: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.query)) if (typeof v === 'string') query[k] = v;
    const pr: PushRequest = {
      path, query, authorization: typeof req.headers.authorization === 'string' ? req.headers.authorization : null,
      body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
    };
    if (!push.authenticate(pr)) {
      log.warn({ providerId, ip: req.socket.remoteAddress }, 'webhook refused: wrong or missing secret');
      fail(res, 401, ErrorCode.UNAUTHENTICATED, 'webhook secret or signature missing or wrong');
      return;
    }
    let notice;
    try {
      notice = push.notice(pr);
    } catch (e) {
      if (!(e instanceof BuildgateError)) throw e;
      const status = e.code === ErrorCode.NOT_FOUND ? 404 : 400;
      fail(res, status, e.code, e.message);
      return;
    }
    live.pushed({ providerId, buildKey: notice.buildKey, runKey: notice.runKey });
    log.info({ providerId, event: notice.event, buildKey: notice.buildKey, runKey: notice.runKey }, 'webhook accepted');
    res.status(202).json({ status: 'accepted' });
    push.settle?.(notice).catch((e: unknown) => log.warn({ err: e, providerId, buildKey: notice.buildKey }, 'webhook follow-up failed'));
  };

  return [gate, express.raw({ type: () => true, limit: HOOK_BODY_LIMIT }), handle];
}

/**
 * Where upstreams reach this gateway: `server.publicUrl`, else the address it listens on
 * unless that is a wildcard (then there is no address to give, and no callback is registered).
 */
export function publicUrlOf(configured: string | undefined, host: string, port: number): string | null {
  if (configured) return configured.replace(/\/+$/, '');
  if (host === '0.0.0.0' || host === '::' || host === '') return null;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
