import { badInput } from '../../errors.js';
import { SECRET_HEADER, STEP_SECRET_FIELDS } from '../build-rules.js';
import { MASK } from '../upstream/secrets.js';
import {
  BUILD_ACTIONS, STEP_TYPES,
  type BuildAction, type BuildData, type BuildInputData, type BuildStatsData, type LogLineData, type RunData,
  type RunState, type StepConfig, type StepRunData, type StepState, type StepType,
} from '../types.js';
import type { BuildWire, RunWire, StepRunWire } from './wire.js';

/*
 * Keys (each one is enough on its own to fetch its object again):
 *   Build     "<buildSeq>"                                  e.g. "12"
 *   BuildRun  "<buildSeq>:<buildRunSeq>"                    e.g. "12:40"   (the run list of buildSeq holds it)
 *   StepRun   "<buildSeq>:<buildRunSeq>:<index>"            index = position in the run's steps ordered by stepOrder
 *             (buildStepRunSeq is not unique in the seed samples, the position is, and a run's steps never change)
 *   ImageTag  "<buildSeq>:<buildRunSeq>:<tag>"              (image tags can't contain ':')
 */
export interface RunRef { buildSeq: number; buildRunSeq: number }

const int = (s: string | undefined, what: string, key: string): number => {
  if (!s || !/^\d{1,15}$/.test(s)) throw badInput(`${JSON.stringify(key)} is not a Cocktail ${what} key`, 'id');
  return Number(s);
};
export const buildKeyOf = (buildSeq: number) => String(buildSeq);
export const runKeyOf = (r: RunRef) => `${r.buildSeq}:${r.buildRunSeq}`;
export const parseBuildKey = (key: string) => int(key, 'build', key);
export function parseRunKey(key: string): RunRef {
  const [b, r, ...rest] = key.split(':');
  if (rest.length) throw badInput(`${JSON.stringify(key)} is not a Cocktail run key`, 'id');
  return { buildSeq: int(b, 'run', key), buildRunSeq: int(r, 'run', key) };
}
export function parseChildKey(key: string, what: string): RunRef & { rest: string } {
  const i = key.indexOf(':', key.indexOf(':') + 1);
  if (i < 0) throw badInput(`${JSON.stringify(key)} is not a Cocktail ${what} key`, 'id');
  return { ...parseRunKey(key.slice(0, i)), rest: key.slice(i + 1) };
}

/** "yyyy-MM-dd HH:mm:ss" (no zone: read as UTC) or ISO-8601 with offset; '' and junk are null. */
export function parseTime(v: string | null | undefined): Date | null {
  if (!v) return null;
  const local = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/.exec(v);
  const d = local ? new Date(Date.UTC(+local[1]!, +local[2]! - 1, +local[3]!, +local[4]!, +local[5]!, +local[6]!)) : new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

/**
 * Step config as the unified model has it, secret values replaced by a mask (Cocktail nulls
 * them too, but we don't rely on it): the mask keeps "a password is set" (hasPassword) true
 * without carrying the password.
 */
export function stepConfigOf(raw: Record<string, unknown> | null | undefined): StepConfig | null {
  if (!raw || !(STEP_TYPES as readonly string[]).includes(String(raw.stepType))) return null;
  const cfg: Record<string, unknown> = { ...raw };
  for (const f of STEP_SECRET_FIELDS[raw.stepType as StepType]) {
    if (typeof cfg[f] === 'string' && cfg[f] !== '') cfg[f] = MASK;
    else delete cfg[f];
  }
  if (Array.isArray(cfg.customHeaders)) {
    cfg.customHeaders = (cfg.customHeaders as Array<{ name: string; value: string; secret?: boolean }>).map((h) =>
      h.secret || SECRET_HEADER.test(String(h.name)) ? { name: h.name, value: '', secret: true } : h);
  }
  return cfg as unknown as StepConfig;
}

export function toBuildData(b: BuildWire): BuildData {
  const steps = [...(b.buildSteps ?? [])].sort((x, y) => x.stepOrder - y.stepOrder);
  const { buildServerCacrt, buildServerClientCert, buildServerClientKey, buildSteps: _s, ...rest } = b;
  return {
    key: buildKeyOf(b.buildSeq),
    name: b.buildName,
    description: b.buildDesc ?? null,
    accountSeq: b.accountSeq ?? null,
    registryName: b.registryName ?? null,
    registryProjectId: b.registryProjectId ?? null,
    externalRegistrySeq: b.externalRegistrySeq ?? null,
    imageName: b.imageName ?? null,
    tagName: b.tagName ?? null,
    autotag: { enabled: b.autotagUseYn === 'Y', prefix: b.autotagPrefix ?? null, seqType: b.autotagSeqType ?? null },
    buildServerHost: b.buildServerHost ?? null,
    buildServerTlsVerify: b.buildServerTlsVerify == null ? null : b.buildServerTlsVerify === 'Y',
    hasBuildServerCacrt: !!buildServerCacrt,
    hasBuildServerClientCert: !!buildServerClientCert,
    hasBuildServerClientKey: !!buildServerClientKey,
    hostUrl: b.hostUrl ?? null,
    steps: steps.flatMap((s, i) => {
      const config = stepConfigOf(s.buildStepConfig);
      if (!config) return [];
      return [{ key: `${b.buildSeq}:step:${i}`, stepType: config.stepType, stepOrder: s.stepOrder, useFlag: s.useFlag !== false, config }];
    }),
    createdAt: parseTime(b.created),
    updatedAt: parseTime(b.updated),
    details: { buildNo: rest.buildNo ?? null, buildSeq: b.buildSeq },
  };
}

export function toBuildStats(b: BuildWire): BuildStatsData {
  return {
    buildCount: b.buildCount ?? 0,
    runningCount: b.runningCount ?? 0,
    doneCount: b.doneCount ?? 0,
    errorCount: b.errorCount ?? 0,
    pipelineCount: b.pipelineCount ?? null,
    tagCount: b.tagCount ?? 0,
    buildTimeAvg: b.buildTimeAvg ?? null,
    imgSizeAvg: b.imgSizeAvg ?? null,
    latestBuildTime: b.latestBuildTime ?? null,
    latestImgSize: b.latestImgSize ?? null,
    latestExecTime: parseTime(b.latestExecTime),
  };
}

const RUN_STATES: Record<string, RunState> = { CREATED: 'QUEUED', RUNNING: 'RUNNING', DONE: 'DONE', ERROR: 'ERROR' };

/** Where the cancel of a run stands: its CANCEL run still waiting or running, or DONE. */
export type CancelState = 'PENDING' | 'DONE';

/**
 * Cocktail has no CANCELED state: a cancel is a run of its own (runType CANCEL) whose one
 * step names the canceled run in `refBuildRunSeq`. Once that CANCEL run is DONE, the
 * referenced run is shown as CANCELED (its raw state stays readable); while it is pending the
 * referenced run is still being canceled. A CANCEL run that failed canceled nothing.
 */
export function cancelStates(runs: RunWire[]): Map<number, CancelState> {
  const out = new Map<number, CancelState>();
  for (const r of runs) {
    if (r.runType !== 'CANCEL' || r.runState === 'ERROR') continue;
    for (const s of r.buildStepRuns ?? []) {
      const ref = Number((s.buildStepConfig as Record<string, unknown> | null | undefined)?.refBuildRunSeq);
      if (Number.isInteger(ref) && out.get(ref) !== 'DONE') out.set(ref, r.runState === 'DONE' ? 'DONE' : 'PENDING');
    }
  }
  return out;
}

/**
 * `cancel`: where a cancel of this run stands. Canceled: CANCELED. Being canceled: RUNNING
 * until its CANCEL run is done — Cocktail may end the run ERROR a moment before, and showing
 * that would end live subscribers on a state a query a moment later contradicts — with
 * CANCEL still offered, which returns the run as it is.
 */
export function toRunData(r: RunWire, cancel?: CancelState): RunData {
  let actions = (r.possibleActions ?? []).filter((a): a is BuildAction => (BUILD_ACTIONS as readonly string[]).includes(a));
  let state: RunState = RUN_STATES[r.runState] ?? 'RUNNING';
  if (cancel === 'DONE') state = 'CANCELED';
  else if (cancel === 'PENDING') { state = 'RUNNING'; actions = ['VIEW', 'LOG', 'CANCEL']; }
  const ref = r.runType === 'CANCEL' ? Number((r.buildStepRuns?.[0]?.buildStepConfig as Record<string, unknown> | undefined)?.refBuildRunSeq) : NaN;
  return {
    key: runKeyOf(r),
    buildKey: buildKeyOf(r.buildSeq),
    buildNo: r.buildNo ?? null,
    runType: r.runType,
    state,
    rawState: r.runState,
    description: r.runDesc ?? null,
    tagName: r.tagName ?? null,
    callbackUrl: r.callbackUrl ?? null,
    imageUrl: r.imageUrl ?? null,
    imageSize: r.imageSize ?? null,
    imageDigest: r.imageDigest ?? null,
    beginTime: parseTime(r.beginTime),
    endTime: parseTime(r.endTime),
    createdAt: parseTime(r.created),
    possibleActions: actions,
    details: { buildRunSeq: r.buildRunSeq, runTimeBySec: r.runTimeBySec ?? null, ...(Number.isInteger(ref) ? { cancelsRunKey: runKeyOf({ buildSeq: r.buildSeq, buildRunSeq: ref }) } : {}), ...(cancel ? { cancel } : {}) },
  };
}

const STEP_STATES: Record<string, StepState> = { WAIT: 'WAIT', RUNNING: 'RUNNING', DONE: 'DONE', ERROR: 'ERROR' };

/** The run's steps in stepOrder (stable), which fixes their index-based keys. */
export const orderedSteps = (steps: StepRunWire[]) =>
  steps.map((s, i) => ({ s, i })).sort((a, b) => a.s.stepOrder - b.s.stepOrder || a.i - b.i).map((x) => x.s);

export function toStepRuns(ref: RunRef, steps: StepRunWire[], runCanceled: boolean): StepRunData[] {
  return orderedSteps(steps).map((s, i) => {
    let state: StepState = s.useFlag === false ? 'SKIPPED' : STEP_STATES[s.stepState] ?? 'WAIT';
    if (runCanceled && (state === 'WAIT' || state === 'RUNNING')) state = 'CANCELED';
    const config = stepConfigOf(s.buildStepConfig);
    return {
      key: `${runKeyOf(ref)}:${i}`,
      runKey: runKeyOf(ref),
      // buildStepSeq is not unique in the seed samples, so it can't name the BuildStep reliably.
      stepRunKey: null,
      stepType: s.stepType,
      stepOrder: s.stepOrder,
      title: (s.buildStepConfig?.stepTitle as string | undefined) ?? null,
      state,
      rawState: s.stepState,
      beginTime: parseTime(s.beginTime),
      endTime: parseTime(s.endTime),
      useFlag: s.useFlag !== false,
      config,
    };
  });
}

/**
 * Cocktail gives each step's whole log text. Lines are numbered over the steps in order,
 * so a line's seq is the same on every read (a step's DB log is written once, after it ends).
 */
export function toLogLines(ref: RunRef, steps: StepRunWire[]): LogLineData[] {
  const out: LogLineData[] = [];
  let seq = 0;
  orderedSteps(steps).forEach((s, i) => {
    if (!s.log) return;
    const lines = s.log.split(/\r?\n/);
    if (lines[lines.length - 1] === '') lines.pop();
    for (const text of lines) out.push({ seq: ++seq, stepRunKey: `${runKeyOf(ref)}:${i}`, source: 'STDOUT', time: null, text });
  });
  return out;
}

/** BuildInputData to the create body of seed 000 (POST /v1/build). */
export function toBuildBody(input: BuildInputData, accountSeq: number | undefined): Record<string, unknown> {
  const yn = (v: boolean | null | undefined) => (v == null ? undefined : v ? 'Y' : 'N');
  return {
    accountSeq: input.accountSeq ?? accountSeq,
    buildName: input.name,
    description: input.description ?? undefined,
    editType: 'N',
    registryName: input.registryName ?? undefined,
    registryProjectId: input.registryProjectId ?? undefined,
    externalRegistrySeq: input.externalRegistrySeq ?? undefined,
    imageName: input.imageName ?? undefined,
    tagName: input.tagName ?? undefined,
    autotagUseYn: yn(input.autotag?.enabled) ?? 'N',
    autotagPrefix: input.autotag?.prefix ?? undefined,
    autotagSeqType: input.autotag?.seqType ?? undefined,
    buildServerHost: input.buildServerHost ?? undefined,
    buildServerTlsVerify: yn(input.buildServerTlsVerify),
    buildServerCacrt: input.buildServerCacrt ?? undefined,
    buildServerClientCert: input.buildServerClientCert ?? undefined,
    buildServerClientKey: input.buildServerClientKey ?? undefined,
    buildSteps: input.steps.map((s) => ({
      stepType: s.config.stepType,
      useFlag: s.useFlag,
      buildStepSeq: 0,
      stepOrder: s.stepOrder,
      buildStepConfig: s.config,
    })),
  };
}
