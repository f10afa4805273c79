import { readFresh } from '../cache/index.js';
import type { Provider, RunData, RunState, StepRunData, StepState } from '../providers/types.js';
import { wire } from './bus.js';
import type { LiveChannels } from './channels.js';

export const TERMINAL_RUN_STATES: ReadonlySet<RunState> = new Set(['DONE', 'ERROR', 'CANCELED']);

/** States a run or step only reaches after it ran: seen straight from waiting, its RUNNING is published first. */
const RAN_RUN: ReadonlySet<RunState> = new Set(['DONE', 'ERROR']);
const RAN_STEP: ReadonlySet<StepState> = new Set(['DONE', 'ERROR']);

/**
 * Watches one upstream run for providers that cannot push, on behalf of all its
 * subscribers: each tick reads the run, its step runs and the log after the last line
 * seen, and publishes what changed to the hub exactly as the native engine would (log
 * lines before the run's final state, so a log subscriber completing on that state has
 * every line). Reads bypass the upstream cache (and refresh it): an event is the upstream's
 * state now, and a query right after it shows the same. Every `pollMs` until the run ends,
 * at once when a subscriber joins (wake), backing off on errors; stopped at the run's end or
 * when the last subscriber leaves. A run or step seen going from waiting straight to its end
 * between two reads is published as RUNNING first, so subscribers see every state it had.
 */
export class Poller {
  /** Ticks so far (tests and metrics). */
  ticks = 0;
  /** The run's build, once read (webhooks that name only the build wake the pollers of its runs). */
  buildKey: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private started = false;
  private runSig: string | null = null;
  private readonly stepSigs = new Map<string, string>();
  private lastSeq = 0;
  private failures = 0;
  private lastRunState: RunState | null = null;
  private readonly stepStates = new Map<string, StepState>();
  private ticking = false;
  private again = false;

  constructor(private readonly provider: Provider, private readonly runKey: string, private readonly hub: LiveChannels) {}

  get running(): boolean {
    return this.started && !this.stopped;
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.schedule(0);
  }

  /** Read now instead of at the next interval (a subscriber joined and wants the state as it is). */
  wake(): void {
    if (!this.running) return;
    if (this.ticking) { this.again = true; return; }
    if (this.timer) clearTimeout(this.timer);
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(ms: number) {
    if (this.stopped) return;
    this.timer = setTimeout(() => { this.timer = null; void this.tick(); }, ms);
  }

  private async tick(): Promise<void> {
    this.ticking = true;
    this.again = false;
    let next: number | null;
    try {
      next = await readFresh(() => this.read());
    } finally {
      this.ticking = false;
    }
    if (next !== null) this.schedule(this.again ? 0 : next);
  }

  /** One read of run, steps and log; the delay until the next, or null when done. */
  private async read(): Promise<number | null> {
    const p = this.provider;
    const { pollMs, pollIdleMs, pageLines } = this.hub.settings;
    this.ticks++;
    try {
      // Run and steps are read together (a tick's latency is a read, not the sum); the log is read
      // after the run, so a run seen ended has every line before its end is published.
      const withSteps = !!p.listStepRuns && p.capabilities.has('STEP_RUNS');
      const [run, steps] = await Promise.all([
        p.getRun ? p.getRun(this.runKey) : Promise.resolve(null),
        // Held, not thrown: a run that is gone stops the poller, whatever its steps read said.
        withSteps ? p.listStepRuns!(this.runKey).catch((e: unknown) => e as Error) : Promise.resolve([] as StepRunData[]),
      ]);
      if (this.stopped) return null;
      if (!run) { this.stop(); return null; }
      this.buildKey = run.buildKey;
      if (steps instanceof Error) throw steps;
      if (withSteps) {
        for (const s of steps) {
          const sig = `${s.state}|${s.rawState}|${s.beginTime?.getTime()}|${s.endTime?.getTime()}|${s.errorMessage ?? ''}`;
          if (this.stepSigs.get(s.key) === sig) continue;
          this.stepSigs.set(s.key, sig);
          const before = this.stepStates.get(s.key); // unseen: history before the subscription, not a transition
          if (RAN_STEP.has(s.state) && before === 'WAIT') this.hub.stepUpdated(p.id, this.runKey, runningStep(s));
          this.stepStates.set(s.key, s.state);
          this.hub.stepUpdated(p.id, this.runKey, s);
        }
      }
      if (p.getLogs && p.capabilities.has('LOGS')) {
        for (;;) {
          const page = await p.getLogs(this.runKey, { afterSeq: this.lastSeq, limit: pageLines });
          const fresh = page.lines.filter((l) => l.seq > this.lastSeq);
          if (fresh.length) {
            this.lastSeq = fresh[fresh.length - 1]!.seq;
            this.hub.logLines(p.id, this.runKey, fresh);
          }
          if (!page.hasMore || fresh.length === 0 || this.stopped) break;
        }
      }
      const sig = wire.stringify(run);
      if (sig !== this.runSig) {
        this.runSig = sig;
        // Only a run this poller saw queued: one first seen finished is history, not a transition.
        if (RAN_RUN.has(run.state) && this.lastRunState === 'QUEUED') this.hub.runUpdated(p.id, runningRun(run));
        this.lastRunState = run.state;
        this.hub.runUpdated(p.id, run);
      }
      this.failures = 0;
      if (TERMINAL_RUN_STATES.has(run.state)) { this.stop(); return null; }
      return pollMs;
    } catch {
      // The upstream failed: subscribers keep what they have; try again later, slower each time.
      this.failures++;
      return Math.min(pollMs * 2 ** this.failures, Math.max(pollIdleMs, pollMs));
    }
  }
}

/** The run as it was while running, between the two reads that saw it queued and then ended. */
function runningRun(run: RunData): RunData {
  return { ...run, state: 'RUNNING', rawState: run.rawState, endTime: null, errorMessage: null, possibleActions: null };
}

function runningStep(s: StepRunData): StepRunData {
  return { ...s, state: 'RUNNING', endTime: null, errorMessage: null };
}
