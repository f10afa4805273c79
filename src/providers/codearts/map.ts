import type { BuildData, BuildRecordData, RunData, RunState, StepRunData, StepState } from '../types.js';
import type { CodeArtsHistoryItem, CodeArtsJob, CodeArtsRecord } from './wire.js';

/**
 * Keys, each usable alone:
 *   build      <job_id>                 (32 hex chars)
 *   run/record <job_id>/<build_no>
 *   step run   <job_id>/<build_no>/<n>  (n = 1-based position in history-details build_steps)
 */
export interface RunRef { jobId: string; buildNo: number }
export const runKey = (r: RunRef) => `${r.jobId}/${r.buildNo}`;
const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const isJobId = (key: string) => JOB_ID.test(key);
export function parseRunKey(key: string): RunRef | null {
  const m = /^([A-Za-z0-9_-]{1,64})\/(\d{1,9})$/.exec(key);
  // CodeArts numbers builds from 1: no run has build_no 0, so it is never asked for.
  return m && Number(m[2]) >= 1 ? { jobId: m[1]!, buildNo: Number(m[2]) } : null;
}
export function parseStepKey(key: string): (RunRef & { index: number }) | null {
  const m = /^(.+)\/(\d{1,4})$/.exec(key);
  const run = m ? parseRunKey(m[1]!) : null;
  return run && m ? { ...run, index: Number(m[2]) } : null;
}

/**
 * Record status -> run state. Only SUCCESS is confirmed (seed 002); the others are the
 * Jenkins-derived values CodeArts is believed to use (upstreams.md §3/§5, inferred).
 * Unknown values fall back on the timings: finished -> ERROR, started -> RUNNING, else QUEUED.
 */
const RUN_STATE: Record<string, RunState> = {
  SUCCESS: 'DONE',
  FAILED: 'ERROR', FAILURE: 'ERROR', FAIL: 'ERROR', ERROR: 'ERROR', TIMEOUT: 'ERROR',
  ABORTED: 'CANCELED', ABORT: 'CANCELED', CANCELED: 'CANCELED', CANCELLED: 'CANCELED', STOPPED: 'CANCELED',
  RUNNING: 'RUNNING', BUILDING: 'RUNNING',
  QUEUED: 'QUEUED', QUEUING: 'QUEUED', PENDING: 'QUEUED', WAITING: 'QUEUED', INIT: 'QUEUED', SCHEDULING: 'QUEUED',
};
export function runState(raw: string | null | undefined, started: boolean, finished: boolean): RunState {
  const known = RUN_STATE[(raw ?? '').toUpperCase()];
  if (known) return known;
  return finished ? 'ERROR' : started ? 'RUNNING' : 'QUEUED';
}

/** history-details step status: running | success | error | "" (not run); "" depends on how the run ended. */
export function stepState(raw: string | null | undefined, run: RunState): StepState {
  switch (raw ?? '') {
    case 'running': return run === 'CANCELED' ? 'CANCELED' : 'RUNNING';
    case 'success': return 'DONE';
    case 'error': return 'ERROR';
    case '': return run === 'QUEUED' || run === 'RUNNING' ? 'WAIT' : run === 'CANCELED' ? 'CANCELED' : 'SKIPPED';
    default: return run === 'QUEUED' || run === 'RUNNING' ? 'RUNNING' : 'ERROR';
  }
}

export function toDate(v: string | number | null | undefined): Date | null {
  if (v === null || v === undefined || v === '' || v === 0) return null;
  const d = new Date(typeof v === 'number' ? v : /^\d+$/.test(v) ? Number(v) : v);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function buildFromJob(j: CodeArtsJob): BuildData {
  return {
    key: j.id,
    name: j.job_name,
    description: null,
    details: {
      creator: j.job_creator ?? j.user_name ?? null,
      lastBuildStatus: j.last_build_status ?? null,
      lastBuildTime: toDate(j.last_build_time)?.toISOString() ?? null,
      lastBuildUser: j.last_build_user ?? null,
      healthScore: j.health_score ?? null,
      sourceCode: j.source_code ?? null,
      triggerType: j.trigger_type ?? null,
      disabled: j.disabled ?? null,
      isFinished: j.is_finished ?? null,
    },
  };
}

export function runFromRecord(r: CodeArtsRecord, ref: RunRef): RunData {
  const begin = toDate(r.start_time);
  const end = toDate(r.finish_time);
  return {
    key: runKey(ref),
    buildKey: ref.jobId,
    buildNo: r.build_no,
    runType: 'BUILD',
    state: runState(r.status, !!begin, !!end),
    rawState: r.status ?? '',
    description: null,
    tagName: null,
    trigger: r.trigger_type ?? null,
    triggeredBy: r.user_id ?? null,
    sourceRevision: r.commit ?? null,
    errorMessage: r.err_msg ?? null,
    beginTime: begin,
    endTime: end,
    createdAt: toDate(r.create_time),
    details: { buildRecordId: r.build_record_id ?? null, dailyBuildNumber: r.daily_build_num ?? null, executionId: r.execution_id ?? null,
      repository: r.repo_name ?? null, branch: r.branch ?? null },
  };
}

export function runFromHistory(h: CodeArtsHistoryItem, jobId: string): RunData {
  const begin = toDate(h.start_time);
  const end = toDate(h.end_time);
  return {
    key: runKey({ jobId, buildNo: h.build_number }),
    buildKey: jobId,
    buildNo: h.build_number,
    runType: 'BUILD',
    state: runState(h.result, !!begin, !!end),
    rawState: h.result ?? '',
    description: null,
    tagName: null,
    beginTime: begin,
    endTime: end,
    details: { recordId: h.record_id ?? null },
  };
}

export function recordFromRecord(r: CodeArtsRecord, ref: RunRef): BuildRecordData {
  const run = runFromRecord(r, ref);
  return {
    key: runKey(ref),
    runKey: runKey(ref),
    buildKey: ref.jobId,
    buildNo: r.build_no,
    status: r.status ?? '',
    state: run.state,
    triggerType: r.trigger_type ?? null,
    triggeredBy: r.user_id ?? null,
    repository: r.repo_name ?? null,
    branch: r.branch ?? null,
    tag: r.tag ?? null,
    commit: r.commit ?? null,
    commitMessage: r.commit_message ?? null,
    createTime: toDate(r.create_time),
    queuedTime: toDate(r.queued_time),
    startTime: run.beginTime,
    finishTime: run.endTime,
    durationMs: r.duration ?? null,
    errorMessage: r.err_msg ?? null,
    details: {
      buildRecordId: r.build_record_id ?? null, buildProjectId: r.build_project_id ?? null, dailyBuildNumber: r.daily_build_num ?? null,
      executionId: r.execution_id ?? null, buildType: r.build_type ?? null, buildConfigType: r.build_config_type ?? null,
      recordStatus: r.record_status ?? null, repoId: r.repo_id ?? null, scheduleTime: toDate(r.schedule_time)?.toISOString() ?? null,
    },
  };
}

export function stepRunsFrom(steps: Array<{ name: string; status?: string | null }>, ref: RunRef, run: RunState): StepRunData[] {
  return steps.map((s, i) => ({
    key: `${runKey(ref)}/${i + 1}`,
    runKey: runKey(ref),
    stepType: 'BUILD_ACTION',
    stepOrder: i + 1,
    title: s.name,
    state: stepState(s.status, run),
    rawState: s.status ?? '',
    beginTime: null,
    endTime: null,
  }));
}
