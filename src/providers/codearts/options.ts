import { z } from 'zod';
import { badInput } from '../../errors.js';

/** `options` of a CODEARTS provider instance. */
export const codeArtsOptionsSchema = z.strictObject({
  /** IAM token (project-scoped, region-level), sent as `X-Auth-Token`. */
  token: z.string().min(1),
  /** Project whose build jobs are listed (`/v3/{project_id}/jobs`). */
  projectId: z.string().min(1),
  /** Days of history the run list looks back (CodeArts allows at most 30). Default 30. */
  historyIntervalDays: z.number().int().min(1).max(30).default(30),
  /** Characters asked per real-time-log call. Default 1 000 000 (the API default). */
  logChunkLength: z.number().int().min(1).default(1_000_000),
});
export type CodeArtsOptions = z.infer<typeof codeArtsOptionsSchema>;

export function parseCodeArtsOptions(providerId: string, raw: unknown): CodeArtsOptions {
  const res = codeArtsOptionsSchema.safeParse(raw);
  if (res.success) return res.data;
  const i = res.error.issues[0]!;
  const path = i.path.map(String).join('.') || '(options)';
  throw badInput(`provider "${providerId}" (CODEARTS): options.${path}: ${i.message}`, `options.${path}`);
}
