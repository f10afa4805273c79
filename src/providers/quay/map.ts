import { badInput } from '../../errors.js';
import type { BuildAction, LogLineData, RunData, RunState, StepRunData, StepState } from '../types.js';
import type { BuildView, LogEntry } from './wire.js';

/*
 * Keys (each one is enough on its own to fetch its object again):
 *   Build     "<namespace>/<name>"                 the repository
 *   BuildRun  "<namespace>/<name>/<uuid>"          GET /repository/<ns>/<name>/build/<uuid>
 *   StepRun   "<namespace>/<name>/<uuid>/<phase>"  one of STEP_PHASES
 *   ImageTag  "<namespace>/<name>/<uuid>/<tag>"    a tag the build pushed
 */
export interface RunRef { repo: string; uuid: string }

export const STEP_PHASES = ['waiting', 'build-scheduled', 'unpacking', 'pulling', 'building', 'pushing'] as const;
const CANCELLABLE = new Set(['waiting', 'build-scheduled', 'unpacking', 'pulling', 'building']);

export const runKeyOf = (r: RunRef) => `${r.repo}/${r.uuid}`;
export function parseRunKey(key: string): RunRef {
  const parts = key.split('/');
  if (parts.length !== 3 || parts.some((p) => !p || !/^[A-Za-z0-9_.-]+$/.test(p))) {
    throw badInput(`${JSON.stringify(key)} is not a Quay run key (namespace/name/uuid)`, 'id');
  }
  return { repo: `${parts[0]}/${parts[1]}`, uuid: parts[2]! };
}
/** "<runKey>/<last>" for step runs and image tags. */
export function parseChildKey(key: string, what: string): RunRef & { last: string } {
  const i = key.lastIndexOf('/');
  if (i < 0 || i === key.length - 1) throw badInput(`${JSON.stringify(key)} is not a Quay ${what} key`, 'id');
  return { ...parseRunKey(key.slice(0, i)), last: key.slice(i + 1) };
}

/** `started` is RFC 2822 ("Tue, 02 Dec 2025 08:42:43 -0000"). */
export function parseRfc2822(v: string | null | undefined): Date | null {
  if (!v) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}
/** Log `data.datetime` is the builder's str(datetime.now()): "2020-10-26 05:37:25.932196", no zone (read as UTC). */
export function parseLogTime(v: string | null | undefined): Date | null {
  const m = v && /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d{1,3})?\d*$/.exec(v);
  if (!m) return null;
  const d = new Date(`${m[1]}T${m[2]}${m[3] ?? ''}Z`);
  return Number.isNaN(d.getTime()) ? null : d;
}

const RUN_STATES: Record<string, RunState> = {
  waiting: 'QUEUED', 'build-scheduled': 'QUEUED',
  unpacking: 'RUNNING', pulling: 'RUNNING', building: 'RUNNING', pushing: 'RUNNING',
  complete: 'DONE', error: 'ERROR', internalerror: 'ERROR', expired: 'ERROR', cancelled: 'CANCELED',
};
/** Unknown and `cannot_load` (status unreadable for now) stay RUNNING: the poller keeps asking. */
export const runStateOf = (phase: string): RunState => RUN_STATES[phase] ?? 'RUNNING';
const TERMINAL = new Set(['complete', 'error', 'internalerror', 'expired', 'cancelled']);

/** A pre-signed archive link carries its signature in the query: never show it. */
const withoutQuery = (u: string | null | undefined) => (u ? u.split('?')[0]! : null);

export function toRunData(repo: string, b: BuildView): RunData {
  const state = runStateOf(b.phase);
  const actions: BuildAction[] = ['VIEW', 'LOG'];
  if (CANCELLABLE.has(b.phase)) actions.push('CANCEL');
  if (TERMINAL.has(b.phase)) actions.push('BUILD');
  const started = parseRfc2822(b.started);
  return {
    key: runKeyOf({ repo, uuid: b.id }),
    buildKey: repo,
    buildNo: null,
    runType: 'BUILD',
    state,
    rawState: b.phase,
    description: null,
    tagName: b.tags?.length ? b.tags.join(',') : null,
    trigger: b.trigger?.service ?? (b.manual_user ? 'manual' : null),
    triggeredBy: b.manual_user ?? null,
    sourceRevision: b.trigger_metadata?.commit ?? null,
    errorMessage: b.error ?? null,
    beginTime: started,
    endTime: null,
    createdAt: started,
    possibleActions: actions,
    details: {
      uuid: b.id, phase: b.phase, displayName: b.display_name ?? null, status: b.status ?? null,
      dockerfilePath: b.dockerfile_path ?? null, context: b.context ?? null, pullRobot: b.pull_robot?.name ?? null,
      resourceKey: b.resource_key ?? null, archiveUrl: withoutQuery(b.archive_url),
    },
  };
}

const sourceOf = (e: LogEntry): LogLineData['source'] =>
  e.type === 'phase' ? 'SYSTEM' : e.type === 'error' ? 'STDERR' : 'STDOUT';

/**
 * Log entries as lines: seq = upstream index + 1 (the Redis list index, stable), and each
 * line belongs to the phase step announced by the latest `phase` entry before it.
 */
export function toLogLines(ref: RunRef, entries: LogEntry[]): LogLineData[] {
  let step: string = 'waiting';
  return entries.map((e, i) => {
    if (e.type === 'phase' && (STEP_PHASES as readonly string[]).includes(e.message)) step = e.message;
    return { seq: i + 1, stepRunKey: `${runKeyOf(ref)}/${step}`, source: sourceOf(e), time: parseLogTime(e.data?.datetime), text: e.message };
  });
}

/**
 * Quay has no steps; its phases are shown as a fixed list of six. Phase entries in the log
 * give each phase's start (the next phase entry is its end). Without log entries the
 * current phase alone decides: earlier ones DONE, later ones WAIT.
 */
export function toStepRuns(ref: RunRef, b: BuildView, entries: LogEntry[] | null): StepRunData[] {
  const marks = (entries ?? []).filter((e) => e.type === 'phase').map((e) => ({ phase: e.message, at: parseLogTime(e.data?.datetime) }));
  const reached = new Set(marks.map((m) => m.phase));
  const idx = (p: string) => (STEP_PHASES as readonly string[]).indexOf(p);
  const lastReached = Math.max(0, ...marks.map((m) => idx(m.phase)));
  const terminal = TERMINAL.has(b.phase);
  const cur = terminal ? (b.phase === 'complete' ? STEP_PHASES.length : lastReached) : Math.max(0, idx(b.phase));
  const known = reached.size > 0;
  return STEP_PHASES.map((phase, i) => {
    let state: StepState;
    if (i < cur) state = !known || i === 0 || reached.has(phase) ? 'DONE' : 'SKIPPED';
    else if (i > cur) state = terminal ? 'SKIPPED' : 'WAIT';
    else if (!terminal) state = idx(b.phase) < 0 ? 'WAIT' : 'RUNNING';
    else state = b.phase === 'cancelled' ? 'CANCELED' : 'ERROR';
    const mi = marks.findIndex((m) => m.phase === phase);
    const begin = i === 0 ? parseRfc2822(b.started) : mi >= 0 ? marks[mi]!.at : null;
    const next = i === 0 ? marks[0] : mi >= 0 ? marks[mi + 1] : undefined;
    return {
      key: `${runKeyOf(ref)}/${phase}`,
      runKey: runKeyOf(ref),
      stepRunKey: null,
      stepType: 'PHASE',
      stepOrder: i + 1,
      title: phase,
      state,
      // The only upstream value these synthetic steps come from is the build's phase.
      rawState: b.phase,
      beginTime: state === 'WAIT' || state === 'SKIPPED' ? null : begin,
      endTime: state === 'DONE' || state === 'ERROR' || state === 'CANCELED' ? next?.at ?? null : null,
      errorMessage: state === 'ERROR' ? (b.error ?? [...(entries ?? [])].reverse().find((e) => e.type === 'error')?.message ?? null) : null,
      useFlag: true,
      config: null,
    };
  });
}

/**
 * A finished build's end and failure, which Quay's BuildView lacks: the end is the time of the
 * terminal phase entry in its log (each phase entry carries its start time), the failure the
 * last `error` entry (or the view's own `error`).
 */
export function withPhaseEnd(run: RunData, b: BuildView, entries: LogEntry[]): RunData {
  if (!TERMINAL.has(b.phase)) return run;
  const end = [...entries].reverse().find((e) => e.type === 'phase' && TERMINAL.has(e.message));
  const failed = run.state === 'ERROR'
    ? b.error ?? [...entries].reverse().find((e) => e.type === 'error')?.message ?? null
    : null;
  return { ...run, endTime: parseLogTime(end?.data?.datetime) ?? run.endTime, errorMessage: failed ?? run.errorMessage ?? null };
}
