import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { BuildgateError, ErrorCode, notFound } from '../errors.js';
import type { LiveHub } from '../live/hub.js';
import type { Instruments } from '../metrics/instruments.js';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { failed, startSpan, traced, withSpan } from '../tracing/index.js';
import type { BuildData, BuildStepData, RunBuildOptions, RunData, RunRemovalData, StepRunData } from '../model.js';
import type { BuildStore } from '../store/build-store.js';
import { maskSecrets } from '../secrets/mask.js';
import type { Store } from '../store/db.js';
import { RunStore, type RunPatch, type StepRunPatch } from '../store/run-store.js';
import { assertCallbackAllowed, CallbackDelivery, PENDING_PREFIX, runSummary } from './callback.js';
import { LogWriter } from './log-writer.js';
import { deleteOwnedTags } from './run-tags.js';
import type { StepEnvironment, StepExecutors, StepResult } from './steps/types.js';
import { Supervisor } from './supervisor.js';
import { chooseTag } from './tags.js';

const PROVIDER = 'native';

interface Active { controller: AbortController; done: Promise<void>; canceled: boolean }

/**
 * Where runs go when build agents execute them (`engine.runOn: agents`): a queue per build
 * server (`buildServerHost`), and a way to ask whichever agent runs a run to cancel it.
 */
export interface RunDispatch {
  add(runRowId: number, buildServerHost: string | null): Promise<void>;
  /** Takes a run off its queue before an agent picks it up; false when it is no longer waiting. */
  remove(runRowId: number, buildServerHost: string | null): Promise<boolean>;
  /** Asks the agents: cancel this run if you run it / delete its workspace if you have it. */
  request(action: 'cancel' | 'removeWorkspace', runKey: string): void;
  /** Per run: does an agent still beat for it (agents.ts)? null: cannot be told yet; throws while Redis is down. */
  alive(runRowIds: number[]): Promise<Array<boolean | null>>;
}
const TERMINAL = new Set(['DONE', 'ERROR', 'CANCELED']);
const LOST_AGENT = 'the build agent running it stopped; the run was ended';
const CANCELED_LOST_AGENT = 'canceled; the build agent running it had stopped';

/**
 * The native build engine: runs a build's enabled steps in order in a workspace of its
 * own, at most `maxConcurrentRuns` at once (others QUEUED, first in first out), storing
 * every state change and log line as it happens and publishing it to the live hub.
 */
export class Engine {
  readonly runs: RunStore;
  private readonly queue: Array<{ runRowId: number; steps: BuildStepData[]; build: BuildData }> = [];
  private readonly active = new Map<number, Active>();
  private readonly env: StepEnvironment;
  private readonly supervisor: Supervisor;
  private stopped = false;
  /** Set on a gateway whose runs execute on build agents: it queues runs instead of running them. */
  private dispatch: RunDispatch | null = null;
  private readonly callbacks: CallbackDelivery;
  private watchdog: NodeJS.Timeout | null = null;
  private watching = false;
  /** Runs whose cancel this gateway is waiting on: if their agent turns out dead, the user's cancel decides the end state. */
  private readonly cancelsPending = new Set<number>();

  constructor(
    private readonly store: Store,
    private readonly builds: BuildStore,
    private readonly config: Config['engine'],
    private readonly live: LiveHub,
    private readonly logger: Logger,
    private readonly executors: StepExecutors,
    private readonly instruments?: Instruments,
  ) {
    this.runs = new RunStore(store, builds.box);
    this.supervisor = new Supervisor(store, logger);
    this.env = {
      registry: { host: config.registry.host, insecure: config.registry.insecure, username: config.registry.username, password: config.registry.password },
      buildah: { storageDriver: config.buildah.storageDriver, isolation: config.buildah.isolation, root: config.buildah.root ?? null, runroot: config.buildah.runroot ?? null },
      allowPrivateHosts: config.allowPrivateHosts,
      defaultStepTimeoutSec: config.defaultStepTimeoutSec,
    };
    this.callbacks = new CallbackDelivery(config.callback, config.allowPrivateHosts, logger,
      async (runRowId, status) => { await this.setRun(runRowId, { callback_status: status }); });
  }

  /** Calls the run's callback URL, if it has one, in the background: every terminal state, however reached, comes here. */
  private notify(run: RunData, buildName: string | null): void {
    if (run.callbackUrl) void this.callbacks.deliver(Number(run.key), run.callbackUrl, runSummary(run, buildName));
  }

  /**
   * At start (on a gateway that runs builds itself): callbacks the previous process was
   * still trying (PENDING) start again, from a fresh series of attempts.
   */
  async resumeCallbacks(): Promise<number> {
    if (this.dispatch) return 0;
    const runs = await this.runs.endedRunsWithCallbackStatus(PENDING_PREFIX);
    for (const run of runs) this.notify(run, (await this.builds.get(run.buildKey))?.name ?? null);
    return runs.length;
  }

  /**
   * After a restart: runs that were RUNNING cannot be resumed safely (their processes
   * died with the gateway) and end as ERROR with the reason in their log; QUEUED runs never
   * started and are queued again.
   */
  async recover(): Promise<{ failed: number; requeued: number }> {
    await this.reapLeftovers();
    // Runs on build agents are theirs: a job whose agent died is handed out again by BullMQ.
    if (this.dispatch) return { failed: 0, requeued: 0 };
    const stale = await this.runs.runsInState(['RUNNING', 'QUEUED']);
    let failed = 0;
    let requeued = 0;
    for (const run of stale) {
      if (run.state === 'QUEUED') {
        const build = await this.builds.get(run.buildKey);
        if (build) { this.enqueue(Number(run.key), build); requeued++; continue; }
      }
      await this.failStale(run, 'buildgate stopped while this run was running; the run was ended at restart');
      failed++;
    }
    return { failed, requeued };
  }

  /**
   * Kills step processes and removes run temp dirs left on this host by a gateway or agent
   * that died (at every start: a gateway's recover, an agent's start).
   */
  async reapLeftovers(): Promise<void> {
    await this.supervisor.reap();
  }

  /** Ends a run whose process is gone as ERROR, with the reason as its last log line. */
  private async failStale(run: RunData, reason: string): Promise<void> {
    await this.endLost(Number(run.key), 'ERROR', reason);
  }

  /**
   * Ends a run that nobody executes any more (its gateway or agent died) with the reason as
   * its last log line. The end is claimed by one conditional update in the same transaction
   * as that line, so gateways and agents noticing the same loss at once end it once; the
   * line is stored before anyone can see the end state. Null when the run had already ended.
   */
  private async endLost(runRowId: number, state: 'ERROR' | 'CANCELED', reason: string): Promise<RunData | null> {
    const now = Date.now();
    const seq = await this.runs.endUnlessEnded(runRowId, state, `[buildgate] ${reason}`, reason, now);
    if (seq === null) return null;
    this.live.logLines(PROVIDER, String(runRowId), [{ seq, stepRunKey: null, source: 'SYSTEM', time: new Date(now), text: `[buildgate] ${reason}` }]);
    const run = (await this.runs.getRun(String(runRowId)))!;
    this.live.runUpdated(PROVIDER, run);
    this.notify(run, (await this.builds.get(run.buildKey))?.name ?? null);
    return run;
  }

  /**
   * On a gateway with build agents: every quarter of `agentStallMs`, RUNNING runs whose agent
   * no longer beats for them (agents.ts) end as ERROR, whether or not another agent runs.
   * While the heartbeats cannot be read (Redis down) nothing is ended.
   */
  private async endRunsOfLostAgents(): Promise<void> {
    if (this.watching || !this.dispatch) return;
    this.watching = true;
    try {
      const running = await this.runs.runsInState(['RUNNING']);
      if (!running.length) return;
      const alive = await this.dispatch.alive(running.map((r) => Number(r.key)));
      for (const [i, run] of running.entries()) {
        if (alive[i] !== false) continue;
        const id = Number(run.key);
        if (this.cancelsPending.has(id)) await this.endLost(id, 'CANCELED', CANCELED_LOST_AGENT);
        else await this.endLost(id, 'ERROR', LOST_AGENT);
      }
    } catch (e) {
      this.logger.debug({ err: e }, 'could not check the build agents\' heartbeats');
    } finally {
      this.watching = false;
    }
  }

  /** From now on runs go to build agents through `dispatch` (a gateway with `engine.runOn: agents`). */
  useAgents(dispatch: RunDispatch): void {
    this.dispatch = dispatch;
    this.watchdog = setInterval(() => void this.endRunsOfLostAgents(), Math.max(250, Math.floor(this.config.agentStallMs / 4)));
    this.watchdog.unref();
  }

  /**
   * On a build agent: executes a run its queue handed over. A run that is no longer QUEUED
   * was canceled meanwhile (skipped), or was RUNNING on an agent that died (BullMQ hands a
   * stalled job out again): that one ends as ERROR, as after a restart.
   */
  async runQueued(runRowId: number): Promise<void> {
    const run = await this.runs.getRun(String(runRowId));
    if (!run) return;
    if (run.state === 'RUNNING') {
      await this.failStale(run, LOST_AGENT);
      return;
    }
    const build = run.state === 'QUEUED' ? await this.builds.get(run.buildKey) : null;
    if (!build) return;
    // Claim it: a cancel that landed first wins.
    if (!(await this.runs.updateRunIfState(runRowId, 'QUEUED', { state: 'RUNNING', begin_time: Date.now() }))) return;
    const controller = new AbortController();
    const entry: Active = { controller, canceled: false, done: Promise.resolve() };
    this.active.set(runRowId, entry);
    entry.done = this.execute(runRowId, build, controller.signal, entry);
    try {
      await entry.done;
    } finally {
      this.active.delete(runRowId);
    }
  }

  /** On a build agent: cancels the run if this agent is running it. */
  cancelLocal(runKey: string): void {
    const active = this.active.get(Number(runKey));
    if (!active) return;
    active.canceled = true;
    active.controller.abort();
  }

  /** Creates the run (QUEUED, its step runs WAIT or SKIPPED when disabled) and schedules it. */
  async startRun(buildKey: string, opts: RunBuildOptions): Promise<RunData> {
    if (this.stopped) throw new BuildgateError(ErrorCode.ACTION_NOT_ALLOWED, 'buildgate is shutting down; no new runs');
    if (opts.callbackUrl) await assertCallbackAllowed(opts.callbackUrl, this.config.allowPrivateHosts);
    const build = await this.builds.get(buildKey);
    if (!build) throw notFound('Build', buildKey);
    const steps = build.steps ?? [];
    const now = Date.now();
    const runRowId = await this.runs.createRun(buildKey, {
      run_type: 'BUILD', state: 'QUEUED', description: opts.description ?? null, callback_url: opts.callbackUrl ?? null,
      callback_status: null, image_url: null, image_size: null, image_digest: null, trigger: opts.triggeredBy === 'api' ? 'API' : 'MANUAL',
      triggered_by: opts.triggeredBy ?? null, source_revision: null, error_message: null, begin_time: null, end_time: null, created_at: now,
    }, steps, (buildNo) => chooseTag(opts.tagName, build.autotag, build.tagName, buildNo, new Date(now)));
    const run = (await this.runs.getRun(String(runRowId)))!;
    this.live.runUpdated(PROVIDER, run);
    if (!this.dispatch) {
      this.enqueue(runRowId, build);
      return run;
    }
    try {
      await this.dispatch.add(runRowId, build.buildServerHost ?? null);
    } catch (e) {
      await this.failStale(run, `could not queue the run for a build agent: ${(e as Error).message}`);
      throw new BuildgateError(ErrorCode.UPSTREAM_UNAVAILABLE, `could not queue the run for a build agent: ${(e as Error).message}`, { providerId: PROVIDER });
    }
    return run;
  }

  private enqueue(runRowId: number, build: BuildData) {
    this.queue.push({ runRowId, steps: build.steps ?? [], build });
    this.pump();
  }

  private pump() {
    while (!this.stopped && this.active.size < this.config.maxConcurrentRuns && this.queue.length) {
      const next = this.queue.shift()!;
      const controller = new AbortController();
      const entry: Active = { controller, canceled: false, done: Promise.resolve() };
      this.active.set(next.runRowId, entry);
      entry.done = this.execute(next.runRowId, next.build, controller.signal, entry)
        .catch((e) => this.logger.error({ err: e, runRowId: next.runRowId }, 'run failed unexpectedly'))
        .finally(() => { this.active.delete(next.runRowId); this.pump(); });
    }
  }

  private logOpts(secrets: string[]) {
    return { maxLineBytes: this.config.maxLogLineBytes, maxBytesPerStep: this.config.maxLogBytesPerStep, flushMs: this.config.logFlushMs, secrets };
  }

  private async setStep(runKey: string, stepId: number, patch: StepRunPatch) {
    await this.runs.updateStepRun(stepId, patch);
    const step = await this.runs.getStepRun(String(stepId));
    if (step) this.live.stepUpdated(PROVIDER, runKey, step);
  }

  private async setRun(runRowId: number, patch: RunPatch): Promise<RunData> {
    await this.runs.updateRun(runRowId, patch);
    const run = (await this.runs.getRun(String(runRowId)))!;
    this.live.runUpdated(PROVIDER, run);
    return run;
  }

  private async execute(runRowId: number, build: BuildData, signal: AbortSignal, entry: Active): Promise<void> {
    const runKey = String(runRowId);
    const workspace = path.resolve(this.config.workDir, `run-${runRowId}`);
    const [, secrets, stepRuns, temp] = await Promise.all([
      fs.mkdir(workspace, { recursive: true }), this.builds.secretValues(build.key), this.runs.listStepRuns(runKey),
      this.supervisor.tempDir(path.resolve(this.config.workDir, '.tmp'), runRowId),
    ]);
    // A trace of its own (linked to the operation that started it): a run outlives that request.
    const span = startSpan('native run', { 'buildgate.run.id': runKey, 'buildgate.build.id': build.key, 'buildgate.build.name': build.name }, { root: true });
    try {
      await withSpan(span, () => this.executeSteps(runRowId, build, signal, entry, workspace, temp.path, secrets, stepRuns));
    } catch (e) {
      failed(span, e);
      throw e;
    } finally {
      span?.end();
      await temp.release().catch((e) => this.logger.warn({ err: e, runRowId }, 'could not remove a run\'s temp dir'));
    }
  }

  private async executeSteps(runRowId: number, build: BuildData, signal: AbortSignal, entry: Active, workspace: string, tempDir: string, secrets: string[], stepRuns: StepRunData[]): Promise<void> {
    const runKey = String(runRowId);
    let run = await this.setRun(runRowId, { state: 'RUNNING', begin_time: Date.now() });
    const writer = new LogWriter(this.store, runRowId, 0, this.logOpts(secrets), (lines) => {
      this.instruments?.logLinesIngested(lines.length);
      this.live.logLines(PROVIDER, runKey, lines);
    });
    const fullSteps = new Map((build.steps ?? []).map((s) => [s.key, s]));
    let failure: { step: StepRunData; error: string } | null = null;
    let sourceRevision: string | null = null;
    let image: StepResult['image'] | null = null;
    writer.line(null, 'SYSTEM', `[buildgate] run #${run.buildNo} of build "${build.name}" started${run.tagName ? `, tag ${run.tagName}` : ''}`);

    for (const step of stepRuns) {
      const sid = Number(step.key);
      if (step.state === 'SKIPPED') continue;
      if (failure || signal.aborted) {
        await this.setStep(runKey, sid, { state: signal.aborted && entry.canceled ? 'CANCELED' : 'SKIPPED' });
        continue;
      }
      const def = step.buildStepKey ? fullSteps.get(step.buildStepKey) : undefined;
      const config = def?.config ?? step.config!;
      await this.setStep(runKey, sid, { state: 'RUNNING', begin_time: Date.now() });
      writer.line(sid, 'SYSTEM', `[buildgate] step ${step.stepOrder} ${step.stepType}${step.title ? ` "${step.title}"` : ''} started`);
      let result: StepResult;
      try {
        result = await traced(`step ${step.stepType}`, () => ({ 'buildgate.step.id': step.key, 'buildgate.step.order': step.stepOrder, 'buildgate.step.type': step.stepType }), async (span) => {
          const r = await this.supervisor.within(runRowId, () => this.executors[step.stepType as keyof StepExecutors]({
            runKey, stepRunKey: step.key, workspace, tempDir, config, signal, tagName: run.tagName,
            log: (stream, text, partial) => writer.line(sid, stream, text, partial),
            build: { imageName: build.imageName ?? null, registryName: build.registryName ?? null },
            env: this.env,
          }));
          if (!r.ok) failed(span, new Error(maskSecrets(r.error ?? 'step failed', secrets)));
          return r;
        });
      } catch (e) {
        result = { ok: false, error: (e as Error).message };
      }
      writer.stepEnded(sid);
      if (signal.aborted && entry.canceled) {
        writer.line(sid, 'SYSTEM', '[buildgate] step canceled');
        await this.setStep(runKey, sid, { state: 'CANCELED', end_time: Date.now(), error_message: 'canceled' });
        continue;
      }
      if (!result.ok) {
        // Executors' errors may quote what they were given (a clone URL, a login): mask like the log.
        const error = signal.aborted && this.stopped ? 'buildgate shut down while the step was running' : maskSecrets(result.error ?? 'step failed', secrets);
        writer.line(sid, 'SYSTEM', `[buildgate] step ${step.stepOrder} failed: ${error}`);
        await this.setStep(runKey, sid, { state: 'ERROR', end_time: Date.now(), error_message: error });
        failure = { step, error };
        continue;
      }
      if (result.sourceRevision) sourceRevision = result.sourceRevision;
      if (result.image) image = result.image;
      await this.setStep(runKey, sid, { state: 'DONE', end_time: Date.now() });
    }

    // Lines the store refused for good make the run ERROR: a DONE run has its whole log.
    await writer.flush();
    let storeError = writer.storageError ? `log storage failed: ${writer.storageError.message}` : null;
    let state: 'CANCELED' | 'ERROR' | 'DONE' = entry.canceled ? 'CANCELED' : failure || storeError ? 'ERROR' : 'DONE';
    writer.line(null, 'SYSTEM', `[buildgate] run ended ${state}${storeError ? ` (${storeError})` : ''}`);
    try { await writer.close(); } catch (e) {
      storeError = `log storage failed: ${(e as Error).message}`;
      if (state === 'DONE') state = 'ERROR';
    }
    const end = Date.now();
    if (image && state === 'DONE') {
      await this.runs.addImageTag({
        build_id: Number(build.key), run_id: runRowId, tag: image.tag, image_name: build.imageName ?? image.repository,
        image_url: image.url, registry_image_path: image.repository, registry_name: build.registryName ?? null,
        digest: image.digest, size: image.size, begin_time: run.beginTime?.getTime() ?? null, end_time: end,
      });
    }
    const runSpan = trace.getActiveSpan();
    runSpan?.setAttribute('buildgate.run.state', state);
    if (state === 'ERROR') runSpan?.setStatus({ code: SpanStatusCode.ERROR, message: storeError ?? failure?.error ?? 'run failed' });
    run = await this.setRun(runRowId, {
      state, end_time: end, source_revision: sourceRevision,
      error_message: failure ? `step ${failure.step.stepOrder} (${failure.step.stepType}) failed: ${failure.error}` : entry.canceled ? 'canceled' : storeError,
      ...(image && state === 'DONE' ? { image_url: image.url, image_size: image.size, image_digest: image.digest } : {}),
    });
    this.notify(run, build.name);
  }

  /** Cancels a queued or running run; the running step's process tree is killed. */
  async cancel(runKey: string): Promise<RunData> {
    const runRowId = Number(runKey);
    if (this.dispatch) return this.cancelOnAgent(runKey);
    const queued = this.queue.findIndex((q) => q.runRowId === runRowId);
    if (queued >= 0) {
      const [entry] = this.queue.splice(queued, 1);
      await this.runs.updateStepRunsInState(runRowId, 'WAIT', { state: 'CANCELED' });
      const run = await this.setRun(runRowId, { state: 'CANCELED', end_time: Date.now(), error_message: 'canceled before it started' });
      this.notify(run, entry!.build.name);
      return run;
    }
    const active = this.active.get(runRowId);
    if (active) {
      active.canceled = true;
      active.controller.abort();
      await active.done;
    }
    const run = await this.runs.getRun(runKey);
    if (!run) throw notFound('BuildRun', runKey);
    return run;
  }

  /** Deletes a finished run with its logs, step runs, workspace and (when asked) its pushed tag while the run owns it; null: no such run. */
  async remove(runKey: string, opts: { removeImageTag?: boolean }): Promise<RunRemovalData | null> {
    const runRowId = Number(runKey);
    const stored = this.dispatch ? await this.runs.getRun(runKey) : null;
    if (this.active.has(runRowId) || this.queue.some((q) => q.runRowId === runRowId) || (stored && !TERMINAL.has(stored.state))) {
      throw new BuildgateError(ErrorCode.ACTION_NOT_ALLOWED, 'a queued or running run cannot be removed; cancel it first');
    }
    const run = await this.runs.getRun(runKey);
    if (!run) return null;
    const imageTagsKept = opts.removeImageTag && run.imageDigest ? await deleteOwnedTags(this.runs, runRowId, this.config.registry) : [];
    await this.runs.deleteRun(runRowId);
    await this.removeWorkspace(runKey);
    this.dispatch?.request('removeWorkspace', runKey); // it lives on the agent that ran it
    return { imageTagsKept };
  }

  /** Deletes a run's workspace on this machine, if it is here. */
  async removeWorkspace(runKey: string): Promise<void> {
    await fs.rm(path.resolve(this.config.workDir, `run-${Number(runKey)}`), { recursive: true, force: true });
  }

  /**
   * A gateway's cancel of a run on an agent: still QUEUED, it is canceled here (a conditional
   * update, so an agent claiming it at the same moment cannot both run and lose it) and taken
   * off its queue; RUNNING, the agents are asked and the answer is awaited (up to 30 s) while
   * its agent beats for it; a run whose agent is gone is canceled here at once.
   */
  private async cancelOnAgent(runKey: string): Promise<RunData> {
    const runRowId = Number(runKey);
    if (await this.runs.updateRunIfState(runRowId, 'QUEUED', { state: 'CANCELED', end_time: Date.now(), error_message: 'canceled before it started' })) {
      await this.runs.updateStepRunsInState(runRowId, 'WAIT', { state: 'CANCELED' });
      const run = (await this.runs.getRun(runKey))!;
      this.live.runUpdated(PROVIDER, run);
      const build = await this.builds.get(run.buildKey);
      this.notify(run, build?.name ?? null);
      await this.dispatch!.remove(runRowId, build?.buildServerHost ?? null).catch((e) => this.logger.warn({ err: e, runRowId }, 'could not take a canceled run off its queue'));
      return run;
    }
    const agentAlive = async () => {
      try {
        return (await this.dispatch!.alive([runRowId]))[0]!;
      } catch (e) {
        throw new BuildgateError(ErrorCode.UPSTREAM_UNAVAILABLE, `could not reach the build agents: ${(e as Error).message}`, { providerId: PROVIDER });
      }
    };
    const canceledHere = async () => (await this.endLost(runRowId, 'CANCELED', CANCELED_LOST_AGENT)) ?? this.runs.getRun(runKey);
    this.cancelsPending.add(runRowId);
    try {
      if ((await agentAlive()) === false) return (await canceledHere())!;
      this.dispatch!.request('cancel', runKey);
      const until = Date.now() + 30_000;
      for (let i = 1; ; i++) {
        const run = await this.runs.getRun(runKey);
        if (!run) throw notFound('BuildRun', runKey);
        if (TERMINAL.has(run.state) || Date.now() > until) return run;
        // The agent may die while it cancels.
        if (i % 10 === 0 && (await agentAlive()) === false) return (await canceledHere())!;
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      this.cancelsPending.delete(runRowId);
    }
  }

  isActive(runKey: string): boolean {
    return this.active.has(Number(runKey));
  }

  /** Stops taking runs and ends the running ones (their state is ERROR on the next start's recovery if the process dies first). */
  async shutdown(): Promise<void> {
    this.stopped = true;
    if (this.watchdog) clearInterval(this.watchdog);
    for (const a of this.active.values()) a.controller.abort();
    await Promise.allSettled([...this.active.values()].map((a) => a.done));
    // Runs ended just now still get a first POST; retries waiting are left PENDING for the next start.
    await this.callbacks.stop();
  }
}
