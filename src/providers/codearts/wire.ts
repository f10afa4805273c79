import { ErrorCode } from '../../errors.js';
import { z } from 'zod';

/**
 * Huawei CodeArts Build wire shapes (seed 002, upstreams.md §3, huaweicloud-sdk-go-v3
 * codeartsbuild/v3 models). v3 answers are bare objects; v1/v4 answers use the
 * `{status, error, result}` envelope. Nullable fields come as null, so most are nullish.
 */
const s = z.string().nullish();
/** Times come as ISO strings (record-info) or epoch milliseconds (job list, history). */
const time = z.union([z.string(), z.number()]).nullish();

export const job = z.object({
  id: z.string(),
  job_name: z.string(),
  job_creator: s,
  user_name: s,
  last_build_time: z.number().nullish(),
  health_score: z.number().nullish(),
  source_code: s,
  last_build_status: s,
  is_finished: z.boolean().nullish(),
  disabled: z.boolean().nullish(),
  last_build_user: s,
  trigger_type: s,
  build_time: z.number().nullish(),
});
export type CodeArtsJob = z.infer<typeof job>;
export const jobList = z.object({ total: z.number(), jobs: z.array(job).nullish() });

export const runResp = z.object({ octopus_job_name: s, actual_build_number: z.string(), daily_build_number: s });
export const jobStatus = z.object({ result: z.boolean() });
export const stopResp = z.object({ success: z.boolean(), result: z.unknown().optional() });

export const record = z.object({
  id: s,
  build_project_id: s,
  build_record_id: s,
  parent_record_id: s,
  devcloud_project_id: s,
  codeci_job_id: s,
  user_id: s,
  build_no: z.number(),
  daily_build_num: s,
  execution_id: s,
  repo_name: s,
  repo_id: s,
  branch: s,
  tag: s,
  commit: s,
  commit_message: s,
  commit_create_time: s,
  trigger_type: s,
  build_type: s,
  status: z.string().nullish(),
  create_time: time,
  schedule_time: time,
  queued_time: time,
  start_time: time,
  runnable_time: time,
  finish_time: time,
  duration: z.number().nullish(),
  record_status: s,
  err_msg: s,
  build_config_type: s,
});
export type CodeArtsRecord = z.infer<typeof record>;

/** v1/v4 envelope; `status: "fail"` with HTTP 200 is an error too (checked by the adapter). */
export const envelope = <T extends z.ZodType>(result: T) =>
  z.object({ status: z.string(), error: z.unknown().optional(), result: result.nullish() });

export const history = z.object({
  total: z.number(),
  history_records: z
    .array(z.object({ record_id: s, job_id: s, build_number: z.number(), start_time: time, end_time: time, result: s }))
    .nullish(),
});
export type CodeArtsHistoryItem = NonNullable<z.infer<typeof history>['history_records']>[number];

export const historyDetails = z.object({
  job_name: s,
  build_number: z.number().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  build_steps: z.array(z.object({ name: z.string(), status: z.string().nullish(), build_time: z.number().nullish() })).nullish(),
});

export const realTimeLog = z.object({
  has_more_data: z.boolean(),
  offset: z.number(),
  content: z.string().nullish(),
  current_offset: z.number().nullish(),
});

/** CodeArts' "no such job / record" error code, whatever HTTP status (or 200 "fail" envelope) carries it. */
export const CODEARTS_NOT_FOUND = 'CB.00000404';

/** `{error_code}` decides where CodeArts gives one: CB.00000404 is "not found"; the rest by status. */
export function classifyCodeArtsError(_status: number, body: unknown): ErrorCode | undefined {
  const code = body && typeof body === 'object' ? (body as Record<string, unknown>).error_code : undefined;
  return code === CODEARTS_NOT_FOUND ? ErrorCode.UPSTREAM_NOT_FOUND : undefined;
}

/** `{error_code, error_msg}` error bodies. */
export function describeCodeArtsError(_status: number, body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  const msg = typeof b.error_msg === 'string' ? b.error_msg : undefined;
  const code = typeof b.error_code === 'string' ? b.error_code : undefined;
  return msg ? `${msg}${code ? ` (${code})` : ''}` : code;
}
