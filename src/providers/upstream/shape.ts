import type { z } from 'zod';
import { ErrorCode, UpstreamError } from '../../errors.js';

/**
 * Checks an upstream answer against a zod schema. A field of the wrong type becomes
 * UPSTREAM_BAD_RESPONSE naming the field path, so "the upstream changed its API" is a
 * clear error instead of a TypeError three layers further down.
 */
export function parseShape<S extends z.ZodType>(
  providerId: string,
  schema: S,
  data: unknown,
  what: string,
): z.output<S> {
  const res = schema.safeParse(data);
  if (res.success) return res.data;
  const issues = res.error.issues.slice(0, 3).map((i) => {
    const path = i.path.length ? i.path.map(String).join('.') : '(root)';
    return `${path}: ${i.message}`;
  });
  const more = res.error.issues.length > 3 ? ` (+${res.error.issues.length - 3} more)` : '';
  throw new UpstreamError(
    ErrorCode.UPSTREAM_BAD_RESPONSE,
    providerId,
    `unexpected response shape from ${what}: ${issues.join('; ')}${more}`,
    { upstream: { issues: res.error.issues.slice(0, 10).map((i) => ({ path: i.path.map(String), message: i.message })) } },
  );
}
