import { badInput, notFound } from '../../errors.js';
import type { ProviderPush, PushNotice, PushRequest } from '../types.js';
import { jsonBody, presentedToken, safeEqual } from '../upstream/push.js';
import { runKeyOf } from './map.js';
import { buildNotificationWire } from './wire.js';

/** Quay's build events (notificationevent.py); the webhook URL may name one as `?event=` since the body does not. */
const EVENTS = new Set(['build_queued', 'build_start', 'build_success', 'build_failure', 'build_cancelled']);

/**
 * Quay repository notifications (method "webhook"): Quay POSTs the event data as JSON to a
 * URL and can add no header, so the secret travels in that URL (`?token=`); a request with
 * `Authorization: Bearer <secret>` is accepted too. A notification names the repository and
 * the build: the poller of that run reads it at once.
 */
export function quayPush(secret: string, configured: (repo: string) => boolean, onNotice: (n: PushNotice) => Promise<void>): ProviderPush {
  return {
    authenticate: (req: PushRequest) => safeEqual(presentedToken(req) ?? '', secret),
    notice(req: PushRequest): PushNotice {
      const event = req.query.event ?? 'build';
      if (req.query.event !== undefined && !EVENTS.has(event)) throw badInput(`event must be one of ${[...EVENTS].join(', ')}`, 'event');
      if (req.path !== '' && req.path !== '/') throw notFound('Webhook path', req.path);
      const parsed = buildNotificationWire.safeParse(jsonBody(req));
      if (!parsed.success) {
        const i = parsed.error.issues[0]!;
        throw badInput(`not a Quay build notification: ${i.path.join('.') || 'body'}: ${i.message}`, 'body');
      }
      const { repository, build_id } = parsed.data;
      if (!configured(repository)) throw notFound('Repository', repository);
      return { buildKey: repository, runKey: runKeyOf({ repo: repository, uuid: build_id }), event };
    },
    settle: onNotice,
  };
}
