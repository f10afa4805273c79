import { ErrorCode } from '../../errors.js';
import { z } from 'zod';

/**
 * Zadig OpenAPI wire shapes (seed 003, upstreams.md §2). Times are unix seconds and
 * `omitempty` on the Go side, so most fields are optional. Free-form parts stay loose.
 */

const targetService = z.object({ service_name: z.string(), service_module: z.string() });
export type ZadigTargetService = z.infer<typeof targetService>;

export const buildListItem = z.object({
  name: z.string(),
  project_key: z.string(),
  source: z.string().optional(),
  update_by: z.string().optional(),
  update_time: z.number().optional(),
  target_services: z.array(targetService).nullish(),
});
export type ZadigBuildListItem = z.infer<typeof buildListItem>;

/** Rows are read one by one (ZadigApi.listBuilds): one that cannot be read is an error naming it, not the end of the list. */
export const buildList = z.object({ total: z.number(), builds: z.array(z.unknown()).nullish() });

const credentialParam = z.looseObject({
  key: z.string(),
  value: z.string().optional(),
  type: z.string().optional(),
  is_credential: z.boolean().optional(),
});

export const buildDetail = z.object({
  project_key: z.string(),
  name: z.string(),
  source: z.string().optional(),
  target_services: z.array(targetService).nullish(),
  template_name: z.string().optional(),
  update_by: z.string().optional(),
  update_time: z.number().optional(),
  repos: z.array(z.looseObject({})).nullish(),
  build_env: z.looseObject({}).nullish(),
  advanced_settings: z.looseObject({}).nullish(),
  build_script: z.string().optional(),
  parameters: z.array(credentialParam).nullish(),
  outputs: z.array(z.looseObject({})).nullish(),
  post_build: z.looseObject({}).nullish(),
});
export type ZadigBuildDetail = z.infer<typeof buildDetail>;

export const repoSpec = z.looseObject({
  source: z.string().optional(),
  repo_owner: z.string().optional(),
  repo_namespace: z.string().optional(),
  repo_name: z.string().optional(),
  branch: z.string().optional(),
  tag: z.string().optional(),
  commit_id: z.string().optional(),
  commit_message: z.string().optional(),
  address: z.string().optional(),
});

/** `spec` of a `zadig-build` job (ZadigBuildJobSpec); other job types keep their spec untyped. */
export const buildJobSpec = z.looseObject({
  image: z.string().optional(),
  package: z.string().optional(),
  service_name: z.string().optional(),
  service_module: z.string().optional(),
  repos: z.array(repoSpec).nullish(),
});

export const job = z.object({
  name: z.string(),
  key: z.string().optional(),
  display_name: z.string().optional(),
  type: z.string(),
  status: z.string().default(''),
  start_time: z.number().optional(),
  end_time: z.number().optional(),
  cost_seconds: z.number().optional(),
  error: z.string().optional(),
  spec: z.unknown().optional(),
});
export type ZadigJob = z.infer<typeof job>;

export const stage = z.object({
  name: z.string(),
  status: z.string().default(''),
  start_time: z.number().optional(),
  end_time: z.number().optional(),
  error: z.string().optional(),
  jobs: z.array(job).nullish(),
});

export const task = z.object({
  task_id: z.number(),
  workflow_key: z.string(),
  workflow_name: z.string().optional(),
  project_key: z.string(),
  status: z.string().default(''),
  remark: z.string().optional(),
  task_creator: z.string().optional(),
  create_time: z.number().optional(),
  start_time: z.number().optional(),
  end_time: z.number().optional(),
  error: z.string().optional(),
  stages: z.array(stage).nullish(),
});
export type ZadigTask = z.infer<typeof task>;

export const taskList = z.object({ total: z.number(), workflow_tasks: z.array(task).nullish() });

export const createTaskResp = z.object({ project_name: z.string(), workflow_name: z.string(), task_id: z.number() });

/** `{"message":"success"}` answers of writes. */
export const okResp = z.looseObject({ message: z.string().optional() }).nullish();

/**
 * The text of mongo-go-driver's `ErrNoDocuments` sentinel. Zadig's GetWorkflowTaskV4 returns
 * the driver's error unwrapped, and its response middleware turns any non-HTTPError into
 * ErrInternalError with the error as `description`: HTTP 500, `code` 500, so neither status
 * nor code tells "no such task" from an outage. The sentinel is a constant of the driver
 * (not a sentence Zadig writes or translates), so the body matched as a whole — code 500
 * and exactly this description — is the only stable sign Zadig gives.
 */
const MONGO_NO_DOCUMENTS = 'mongo: no documents in result';

/** Zadig's "no such object": its 500 carrying the Mongo no-documents sentinel; everything else by status. */
export function classifyZadigError(status: number, body: unknown): ErrorCode | undefined {
  if (status !== 500 || !body || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  return b.code === 500 && b.description === MONGO_NO_DOCUMENTS ? ErrorCode.UPSTREAM_NOT_FOUND : undefined;
}

/** Zadig error body (pkg/tool/errors ErrorMessage); 6xxx/7xxx business codes arrive as HTTP 400. */
export function describeZadigError(_status: number, body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  const parts = [b.message, b.description].filter((v) => typeof v === 'string' && v !== '');
  if (parts.length === 0) return undefined;
  return `${parts.join(': ')}${typeof b.code === 'number' ? ` (code ${b.code})` : ''}`;
}
