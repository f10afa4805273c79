import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { badInput } from '../../errors.js';
import type { PushRequest } from '../types.js';

/** Where webhooks of a provider instance arrive, below the gateway's public URL. */
export const HOOKS_PATH = '/hooks';

export const hookUrl = (publicUrl: string, providerId: string, path = '') => `${publicUrl}${HOOKS_PATH}/${providerId}${path}`;

/** Equal strings, compared in constant time (hashed first, so lengths do not show either). */
export function safeEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token a webhook carries: `Authorization: Bearer <token>`, else the `token` query parameter (for systems that only take a URL). */
export function presentedToken(req: PushRequest): string | null {
  const m = req.authorization ? /^Bearer\s+(\S+)$/i.exec(req.authorization) : null;
  return m ? m[1]! : req.query.token ?? null;
}

/**
 * A signature over what a URL we register elsewhere says (e.g. Cocktail's callback URL):
 * the upstream holds the signature, never the secret, and the signed parts cannot be changed.
 */
export function sign(secret: string, ...parts: string[]): string {
  return createHmac('sha256', secret).update(parts.join('\n')).digest('base64url');
}

/** The body as JSON; anything else is BAD_USER_INPUT. An empty body is null. */
export function jsonBody(req: PushRequest): unknown {
  if (req.body.length === 0) return null;
  try {
    return JSON.parse(req.body.toString('utf8'));
  } catch {
    throw badInput('the webhook body is not JSON', 'body');
  }
}
