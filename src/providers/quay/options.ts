import { z } from 'zod';
import { badInput } from '../../errors.js';

const repoName = z.string().regex(/^[a-z0-9_.-]+\/[a-zA-Z0-9_.-]+$/, 'must be "namespace/name"');

/** What a build request of one repository sends (seed 004 requestRepoBuild). */
const repoEntry = z.strictObject({
  repository: repoName,
  /** URL of the .tar.gz to build (http/https); a repository without it cannot be run from buildgate. */
  archiveUrl: z.string().regex(/^https?:\/\//, 'must start with http:// or https://').optional(),
  dockerfilePath: z.string().optional(),
  context: z.string().optional(),
  /** Robot account used as pull credentials. */
  pullRobot: z.string().optional(),
  /** Tags when the run gives none. Default ["latest"]. */
  tags: z.array(z.string().min(1)).min(1).optional(),
});
export type QuayRepoConfig = z.output<typeof repoEntry>;

/** `options` of a QUAY provider instance. */
export const quayOptionsSchema = z.strictObject({
  /** OAuth2 / application token, sent as `Authorization: Bearer <token>`. */
  token: z.string().min(1),
  /** The repositories shown as Builds: "namespace/name" or an object with build settings. */
  repositories: z.array(z.union([repoName, repoEntry])).min(1),
  /** How many recent builds a run list or tag list may read (Quay pages only by `limit`/`since`). Default 100. */
  maxRuns: z.number().int().min(1).max(1000).default(100),
});

export interface QuayOptions { token: string; repositories: Map<string, QuayRepoConfig>; maxRuns: number }

export function parseQuayOptions(providerId: string, raw: unknown): QuayOptions {
  const res = quayOptionsSchema.safeParse(raw ?? {});
  if (!res.success) {
    const i = res.error.issues[0]!;
    const path = i.path.map(String).join('.') || '(options)';
    throw badInput(`provider "${providerId}" (QUAY): options.${path}: ${i.message}`, `options.${path}`);
  }
  const repositories = new Map<string, QuayRepoConfig>();
  for (const r of res.data.repositories) {
    const cfg = typeof r === 'string' ? { repository: r } : r;
    repositories.set(cfg.repository, cfg);
  }
  return { token: res.data.token, repositories, maxRuns: res.data.maxRuns };
}
