import type { Provider, RunData, RunState } from '../providers/types.js';
import { wire } from './bus.js';
import type { LiveChannels } from './channels.js';

export const TERMINAL_RUN_STATES: ReadonlySet<RunState> = new Set(['DONE', 'ERROR', 'CANCELED']);

/**
 * Watches one upstream run for providers that cannot push, on behalf of all its
 * subscribers: each tick reads the run, its step runs and the log after the last line
 * seen, and publishes what changed to the hub exactly as the native engine would (log
 * lines before the run's final state, so a log subscriber completing on that state has
 * every line). Fast while running, slower while queued, backing off on errors, stopped
 * at the run's end or when the last subscriber leaves.
 */
export class Poller {
  /** Ticks so far (tests and metrics). */
  ticks = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private started = false;
  private runSig: string | null = null;
  private readonly stepSigs = new Map<string, string>();
  private lastSeq = 0;
  private failures = 0;

  constructor(private readonly provider: Provider, private readonly runKey: string, private readonly hub: LiveChannels) {}

  get running(): boolean {
    return this.started && !this.stopped;
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
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
    const p = this.provider;
    const { pollMs, pollIdleMs, pageLines } = this.hub.settings;
    this.ticks++;
    try {
      const run: RunData | null = p.getRun ? await p.getRun(this.runKey) : null;
      if (this.stopped) return;
      if (!run) { this.stop(); return; }
      if (p.listStepRuns && p.capabilities.has('STEP_RUNS')) {
        for (const s of await p.listStepRuns(this.runKey)) {
          const sig = `${s.state}|${s.rawState}|${s.beginTime?.getTime()}|${s.endTime?.getTime()}|${s.errorMessage ?? ''}`;
          if (this.stepSigs.get(s.key) === sig) continue;
          this.stepSigs.set(s.key, sig);
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
        this.hub.runUpdated(p.id, run);
      }
      this.failures = 0;
      if (TERMINAL_RUN_STATES.has(run.state)) { this.stop(); return; }
      this.schedule(run.state === 'QUEUED' ? pollIdleMs : pollMs);
    } catch {
      // The upstream failed: subscribers keep what they have; try again later, slower each time.
      this.failures++;
      this.schedule(Math.min(pollMs * 2 ** this.failures, Math.max(pollIdleMs, pollMs)));
    }
  }
}
