import { z } from 'zod';
import { badInput } from '../../errors.js';

/** `options` of a COCKTAIL provider instance. */
export const cocktailOptionsSchema = z.strictObject({
  /** API token, sent as `Authorization: Bearer <token>`. */
  token: z.string().min(1).optional(),
  /** Extra request headers (e.g. the gateway's `user-id`, `user-role`, `user-workspace`); values are secrets. */
  headers: z.record(z.string(), z.string()).optional(),
  /** Only builds of this account (query `accountSeq` of the build list). */
  accountSeq: z.number().int().optional(),
  /**
   * Path that cancels a run; `{buildRunSeq}` is replaced. Not in the published docs
   * (upstreams.md §4): default `/v1/build/run/{buildRunSeq}/cancel`.
   */
  cancelPath: z.string().regex(/\{buildRunSeq\}/, 'must contain {buildRunSeq}').default('/v1/build/run/{buildRunSeq}/cancel'),
  /** Most steps a build may have (same rule as the native engine). Default 50. */
  maxSteps: z.number().int().min(1).max(500).default(50),
});
export type CocktailOptions = z.output<typeof cocktailOptionsSchema>;

export function parseCocktailOptions(providerId: string, raw: unknown): CocktailOptions {
  const res = cocktailOptionsSchema.safeParse(raw ?? {});
  if (!res.success) {
    const i = res.error.issues[0]!;
    const path = i.path.map(String).join('.') || '(options)';
    throw badInput(`provider "${providerId}" (COCKTAIL): options.${path}: ${i.message}`, `options.${path}`);
  }
  return res.data;
}
