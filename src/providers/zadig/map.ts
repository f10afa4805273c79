import type {
  BuildData, BuildRecordData, ImageTagData, RunData, RunState, StepRunData, StepState,
} from '../types.js';
import { buildJobSpec, type ZadigBuildDetail, type ZadigBuildListItem, type ZadigJob, type ZadigTask } from './wire.js';

/**
 * Keys. Each part is URI-encoded and joined with "/", so every key parses back alone:
 *   build     <projectKey>/<buildName>
 *   run       <projectKey>/<buildName>/<workflowKey>/<taskId>
 *   step run  <runKey>/<jobName>      (a job of the task)
 *   image tag <runKey>/<jobName>      (the zadig-build job whose spec.image it is)
 * The run key carries the build name because a task does not say which build module
 * its zadig-build job ran.
 */
const enc = encodeURIComponent;
const split = (key: string, n: number): string[] | null => {
  const parts = key.split('/');
  if (parts.length !== n || parts.some((p) => p === '')) return null;
  try {
    return parts.map(decodeURIComponent);
  } catch {
    return null;
  }
};

export interface BuildRef { projectKey: string; buildName: string }
export interface RunRef extends BuildRef { workflowKey: string; taskId: number }
export interface JobRef extends RunRef { jobName: string }

export const buildKey = (b: BuildRef) => `${enc(b.projectKey)}/${enc(b.buildName)}`;
export const runKey = (r: RunRef) => `${buildKey(r)}/${enc(r.workflowKey)}/${r.taskId}`;
export const jobKey = (j: JobRef) => `${runKey(j)}/${enc(j.jobName)}`;

export function parseBuildKey(key: string): BuildRef | null {
  const p = split(key, 2);
  return p ? { projectKey: p[0]!, buildName: p[1]! } : null;
}
export function parseRunKey(key: string): RunRef | null {
  const p = split(key, 4);
  if (!p || !/^\d+$/.test(p[3]!)) return null;
  return { projectKey: p[0]!, buildName: p[1]!, workflowKey: p[2]!, taskId: Number(p[3]) };
}
export function parseJobKey(key: string): JobRef | null {
  const i = key.lastIndexOf('/');
  const run = i > 0 ? parseRunKey(key.slice(0, i)) : null;
  const name = run ? split(key.slice(i + 1), 1) : null;
  return run && name ? { ...run, jobName: name[0]! } : null;
}

/** Task status -> run state (upstreams.md §5; config/consts.go Status). */
const RUN_STATE: Record<string, RunState> = {
  '': 'QUEUED', created: 'QUEUED', waiting: 'QUEUED', queued: 'QUEUED', blocked: 'QUEUED', pending: 'QUEUED', prepare: 'QUEUED',
  running: 'RUNNING', wait_for_approval: 'RUNNING', pause: 'RUNNING', debug_before: 'RUNNING', debug_after: 'RUNNING',
  wait_for_manual_error_handling: 'RUNNING',
  passed: 'DONE', unstable: 'DONE',
  failed: 'ERROR', timeout: 'ERROR', reject: 'ERROR',
  cancelled: 'CANCELED',
};
/** Unknown values count as running: non-terminal, so watchers keep polling; rawState keeps the truth. */
export const runState = (status: string): RunState => RUN_STATE[status] ?? 'RUNNING';

const STEP_STATE: Record<string, StepState> = {
  '': 'WAIT', created: 'WAIT', waiting: 'WAIT', queued: 'WAIT', blocked: 'WAIT', pending: 'WAIT', prepare: 'WAIT',
  running: 'RUNNING', wait_for_approval: 'RUNNING', pause: 'RUNNING', debug_before: 'RUNNING', debug_after: 'RUNNING',
  wait_for_manual_error_handling: 'RUNNING',
  passed: 'DONE', unstable: 'DONE',
  failed: 'ERROR', timeout: 'ERROR', reject: 'ERROR',
  skipped: 'SKIPPED', notRun: 'SKIPPED', disabled: 'SKIPPED',
  cancelled: 'CANCELED',
};
export const stepState = (status: string): StepState => STEP_STATE[status] ?? 'RUNNING';

const date = (unixSec: number | undefined): Date | null => (unixSec ? new Date(unixSec * 1000) : null);

export function buildFromListItem(b: ZadigBuildListItem): BuildData {
  return {
    key: buildKey({ projectKey: b.project_key, buildName: b.name }),
    name: b.name,
    description: null,
    updatedAt: date(b.update_time),
    details: { projectKey: b.project_key, source: b.source ?? null, updateBy: b.update_by ?? null, targetServices: b.target_services ?? [] },
  };
}

export function buildFromDetail(d: ZadigBuildDetail): BuildData {
  // Credential variables keep their key and type; the value never leaves the gateway.
  const parameters = (d.parameters ?? []).map((p) => (p.is_credential ? { ...p, value: undefined } : p));
  return {
    key: buildKey({ projectKey: d.project_key, buildName: d.name }),
    name: d.name,
    description: null,
    updatedAt: date(d.update_time),
    details: {
      projectKey: d.project_key, source: d.source ?? null, updateBy: d.update_by ?? null,
      targetServices: d.target_services ?? [], templateName: d.template_name || null, repos: d.repos ?? [],
      buildEnv: d.build_env ?? null, advancedSettings: d.advanced_settings ?? null, buildScript: d.build_script ?? null,
      parameters, outputs: d.outputs ?? [], postBuild: d.post_build ?? null,
    },
  };
}

export const taskJobs = (t: ZadigTask): ZadigJob[] => (t.stages ?? []).flatMap((s) => s.jobs ?? []);

/**
 * The zadig-build job of a task whose spec cannot be read (not a zadig-build spec), if any:
 * whether the task built a module cannot be told, so the task is an error naming it, not a
 * run silently left out (see ZadigProvider.readableTask).
 */
export function unreadableBuildJob(t: ZadigTask): string | null {
  return taskJobs(t).find((j) => j.type === 'zadig-build' && !buildJobSpec.safeParse(j.spec ?? {}).success)?.name ?? null;
}

/** The zadig-build jobs of a task with their parsed spec (tasks with an unreadable one are refused first: unreadableBuildJob). */
export function buildJobs(t: ZadigTask) {
  return taskJobs(t)
    .filter((j) => j.type === 'zadig-build')
    .map((j) => ({ job: j, spec: buildJobSpec.safeParse(j.spec ?? {}).data ?? {} }));
}

/**
 * Whether a task built the module whose target services are `services`: one of its
 * zadig-build jobs ran for one of them (spec.service_name / service_module).
 */
export function builtModule(t: ZadigTask, services: ReadonlyArray<{ service_name: string; service_module: string }>): boolean {
  return buildJobs(t).some(({ spec }) => services.some((s) => s.service_name === spec.service_name && s.service_module === spec.service_module));
}

export function runFromTask(t: ZadigTask, buildName: string): RunData {
  const built = buildJobs(t);
  const image = built.find((b) => b.spec.image)?.spec.image ?? null;
  const repo = built.flatMap((b) => b.spec.repos ?? [])[0];
  return {
    key: runKey({ projectKey: t.project_key, buildName, workflowKey: t.workflow_key, taskId: t.task_id }),
    buildKey: buildKey({ projectKey: t.project_key, buildName }),
    buildNo: t.task_id,
    runType: 'BUILD',
    state: runState(t.status),
    rawState: t.status,
    description: t.remark || null,
    tagName: image ? imageParts(image).tag : null,
    imageUrl: image,
    triggeredBy: t.task_creator ?? null,
    sourceRevision: repo?.commit_id || null,
    errorMessage: t.error || null,
    beginTime: date(t.start_time),
    endTime: date(t.end_time),
    createdAt: date(t.create_time),
    details: { workflowKey: t.workflow_key, workflowName: t.workflow_name ?? null, taskId: t.task_id },
  };
}

export function stepRunsFromTask(t: ZadigTask, ref: RunRef): StepRunData[] {
  const out: StepRunData[] = [];
  for (const s of t.stages ?? []) {
    for (const j of s.jobs ?? []) {
      out.push({
        key: jobKey({ ...ref, jobName: j.name }),
        runKey: runKey(ref),
        stepType: j.type,
        stepOrder: out.length + 1,
        title: j.display_name || j.name,
        state: stepState(j.status),
        rawState: j.status,
        beginTime: date(j.start_time),
        endTime: date(j.end_time),
        errorMessage: j.error || null,
      });
    }
  }
  return out;
}

/** "reg.example.com:5000/ns/app:20241125-12" -> name "reg.example.com:5000/ns/app", tag "20241125-12". */
export function imageParts(image: string): { name: string; tag: string } {
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? { name: image.slice(0, colon), tag: image.slice(colon + 1) } : { name: image, tag: 'latest' };
}

export function imageTagsFromTask(t: ZadigTask, ref: RunRef): ImageTagData[] {
  return buildJobs(t)
    .filter((b) => b.spec.image)
    .map(({ job, spec }) => {
      const { name, tag } = imageParts(spec.image!);
      return {
        key: jobKey({ ...ref, jobName: job.name }),
        buildKey: buildKey(ref),
        runKey: runKey(ref),
        tag,
        imageName: name,
        imageUrl: spec.image!,
        beginTime: date(job.start_time),
        endTime: date(job.end_time),
        runDescription: t.remark || null,
      };
    });
}

export function recordFromTask(t: ZadigTask, ref: RunRef): BuildRecordData {
  const repo = buildJobs(t).flatMap((b) => b.spec.repos ?? [])[0];
  const start = date(t.start_time);
  const end = date(t.end_time);
  return {
    key: runKey(ref),
    runKey: runKey(ref),
    buildKey: buildKey(ref),
    buildNo: t.task_id,
    status: t.status,
    state: runState(t.status),
    // Zadig's task detail does not say how a task was triggered.
    triggerType: null,
    triggeredBy: t.task_creator ?? null,
    repository: repo ? [repo.repo_owner || repo.repo_namespace, repo.repo_name].filter(Boolean).join('/') || null : null,
    branch: repo?.branch || null,
    tag: repo?.tag || null,
    commit: repo?.commit_id || null,
    commitMessage: repo?.commit_message || null,
    createTime: date(t.create_time),
    startTime: start,
    finishTime: end,
    durationMs: start && end ? end.getTime() - start.getTime() : null,
    errorMessage: t.error || null,
    details: { workflowKey: t.workflow_key, taskId: t.task_id },
  };
}
