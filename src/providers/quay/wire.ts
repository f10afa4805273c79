import { ErrorCode } from '../../errors.js';
import { z } from 'zod';

/** Quay API wire shapes (seed 004, upstreams.md §1: `build_status_view` in endpoints/api/build.py). */

const str = z.string().nullish();

export const buildViewWire = z.looseObject({
  id: z.string(),
  phase: z.string(),
  /** RFC 2822, e.g. "Tue, 02 Dec 2025 08:42:43 -0000". */
  started: z.string().nullish(),
  display_name: str,
  /** Free-form live status while non-terminal ({} otherwise). */
  status: z.record(z.string(), z.unknown()).nullish(),
  subdirectory: str,
  dockerfile_path: str,
  context: str,
  tags: z.array(z.string()).nullish(),
  manual_user: str,
  is_writer: z.boolean().nullish(),
  trigger: z.looseObject({ service: str }).nullish(),
  trigger_metadata: z.looseObject({ commit: str, ref: str }).nullish(),
  resource_key: str,
  pull_robot: z.looseObject({ name: z.string() }).nullish(),
  repository: z.looseObject({ namespace: z.string(), name: z.string() }).nullish(),
  error: str,
  archive_url: str,
});
export type BuildView = z.output<typeof buildViewWire>;

export const buildListWire = z.looseObject({ builds: z.array(buildViewWire) });

export const logEntryWire = z.looseObject({
  message: z.string(),
  type: z.string().nullish(),
  data: z.looseObject({ datetime: str }).nullish(),
});
export type LogEntry = z.output<typeof logEntryWire>;

export const logPageWire = z.looseObject({ start: z.number().int(), total: z.number().int(), logs: z.array(logEntryWire) });
/** Live logs page, or only a link to the archived (gzip JSON) copy once archived. */
export const logsWire = z.union([logPageWire, z.looseObject({ logs_url: z.string() })]);

/** One entry of GET …/tag/ (endpoints/api/tag.py): times are unix seconds, size in bytes. */
export const tagWire = z.looseObject({
  name: z.string(),
  manifest_digest: str,
  size: z.number().nullish(),
  start_ts: z.number().nullish(),
  end_ts: z.number().nullish(),
  last_modified: str,
});
export type TagView = z.output<typeof tagWire>;
export const tagPageWire = z.looseObject({ tags: z.array(tagWire), page: z.number().nullish(), has_additional: z.boolean().nullish() });

export const repositoryWire = z.looseObject({
  namespace: z.string(),
  name: z.string(),
  description: str,
  is_public: z.boolean().nullish(),
  kind: str,
});

/**
 * Quay answers a read of a repository (or its builds, tags, logs) the credential may not see
 * with 403, exactly as for one that does not exist (it does not reveal which): for reads
 * both are "not found". A 403 on a write is a missing scope (e.g. repo:admin to cancel).
 */
export function classifyQuayError(status: number, _body: unknown, method: string): ErrorCode | undefined {
  return status === 403 && method === 'GET' ? ErrorCode.UPSTREAM_NOT_FOUND : undefined;
}

/** Quay's ApiException body: {detail, error_message, error_type, title, type, status}; 429 may be {message}. */
export function describeQuayError(_status: number, body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return typeof body === 'string' ? body.slice(0, 200) : undefined;
  const b = body as Record<string, unknown>;
  const msg = [b.error_message, b.detail, b.message].find((v) => typeof v === 'string' && v) as string | undefined;
  return msg && typeof b.error_type === 'string' ? `${msg} (${b.error_type})` : msg;
}

/**
 * A build notification as Quay's webhook method POSTs it (notifications/__init__.py
 * build_repository_event_data + the build events of notificationevent.py): the event data
 * alone — the event's name is not in it.
 */
export const buildNotificationWire = z.looseObject({
  repository: z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'must be "namespace/name"'),
  build_id: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be a build uuid'),
  docker_tags: z.array(z.string()).nullish(),
  error_message: str,
});
