import { notFound } from '../errors.js';
import type { Provider, RunData, RunState, StepRunData, StepState } from '../providers/types.js';
import { wire } from './bus.js';
import type { FeedHandle } from './feeds.js';
import { scoped, type LiveHub } from './hub.js';
import { TERMINAL_RUN_STATES } from './poller.js';

const RUN_RANK: Record<RunState, number> = { QUEUED: 0, RUNNING: 1, DONE: 2, ERROR: 2, CANCELED: 2 };
const STEP_RANK: Record<StepState, number> = { WAIT: 0, RUNNING: 1, DONE: 2, ERROR: 2, SKIPPED: 2, CANCELED: 2 };
/** Past this many undelivered events a slow subscriber gets only the latest state of each object. */
const MAX_QUEUED = 1000;

/**
 * A subscriber's stream of object states (a run, or the steps of a run). It starts with the
 * state read *after* the live listener was attached, so nothing between subscribing and
 * reading is missed; events then pass only if they move an object forward (states only
 * advance: an event older than the state already sent is dropped) or change it.
 */
abstract class StateStream<T extends { key: string }> implements AsyncIterableIterator<T> {
  protected readonly queue: T[] = [];
  private readonly sent = new Map<string, { rank: number; sig: string }>();
  private early: T[] | null = [];
  protected runEnded = false;
  private closing = false;
  private finished = false;
  private wakeFn: (() => void) | null = null;
  private failure: Error | null = null;
  private offDown: () => void = () => undefined;

  constructor(private readonly release: () => void, private readonly rank: (v: T) => number) {}

  /** Ends the stream with the hub's error once live events stop travelling (Redis lost). */
  protected watchTransport(hub: LiveHub): void {
    this.offDown = hub.onTransportDown((e) => { this.failure = e; this.wake(); });
  }

  /** Called with events from the moment the listener is attached. */
  offer(v: T): void {
    if (this.early) { this.early.push(v); return; }
    this.accept(v);
  }

  /** The state read after attaching; buffered events are then filtered against it. */
  protected begin(current: T[]): void {
    const early = this.early ?? [];
    this.early = null;
    for (const v of [...current, ...early]) this.accept(v);
  }

  protected accept(v: T): void {
    if (this.finished) return;
    const sig = wire.stringify(v);
    const last = this.sent.get(v.key);
    const rank = this.rank(v);
    if (last && (rank < last.rank || last.sig === sig)) return;
    this.sent.set(v.key, { rank, sig });
    this.queue.push(v);
    if (this.queue.length > MAX_QUEUED) {
      const latest = new Map(this.queue.map((q) => [q.key, q]));
      this.queue.splice(0, this.queue.length, ...latest.values());
    }
    this.wake();
  }

  protected wake(): void {
    const w = this.wakeFn;
    this.wakeFn = null;
    w?.();
  }

  /** Last read once the run has ended; then the stream completes when drained. */
  protected abstract final(): Promise<void>;

  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.finished) return { done: true, value: undefined };
      if (this.failure) { const e = this.failure; await this.return(); throw e; }
      if (this.queue.length) return { done: false, value: this.queue.shift()! };
      if (this.closing) { await this.return(); continue; }
      if (this.runEnded) { await this.final(); this.closing = true; continue; }
      await new Promise<void>((r) => { this.wakeFn = r; });
    }
  }

  async return(): Promise<IteratorResult<T>> {
    this.finished = true;
    this.queue.length = 0;
    this.offDown();
    this.release();
    this.wake();
    return { done: true, value: undefined };
  }

  async throw(e?: unknown): Promise<IteratorResult<T>> {
    await this.return();
    throw e;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** runUpdated: the run's current state, then each change; completes after its final state. */
export class RunStateStream extends StateStream<RunData> {
  static async open(hub: LiveHub, provider: Provider, runKey: string): Promise<RunStateStream> {
    const handle = await hub.feeds.acquire(provider, runKey);
    const s = new RunStateStream(() => handle.release(), (r) => RUN_RANK[r.state] ?? 0);
    s.watchTransport(hub);
    handle.onRun((run) => s.offer(run));
    try {
      const run = await provider.getRun!(runKey);
      if (!run) throw notFound('BuildRun', runKey);
      s.begin([run]);
    } catch (e) {
      void s.return();
      throw e;
    }
    return s;
  }

  protected override accept(run: RunData): void {
    if (this.runEnded) return; // the final state was sent; later bookkeeping (callback status) is not a state change
    super.accept(run);
    if (TERMINAL_RUN_STATES.has(run.state)) this.runEnded = true;
  }

  protected async final(): Promise<void> {}
}

/** stepUpdated: every step's current state, then each change; completes when the run has ended. */
export class StepStateStream extends StateStream<StepRunData> {
  private constructor(handle: FeedHandle, private readonly provider: Provider, private readonly runKey: string) {
    super(() => handle.release(), (s) => STEP_RANK[s.state] ?? 0);
  }

  static async open(hub: LiveHub, provider: Provider, runKey: string): Promise<StepStateStream> {
    const handle = await hub.feeds.acquire(provider, runKey);
    const s = new StepStateStream(handle, provider, runKey);
    s.watchTransport(hub);
    handle.onStep((step) => s.offer(step));
    handle.onRun((run) => { if (TERMINAL_RUN_STATES.has(run.state)) { s.runEnded = true; s.wake(); } });
    try {
      const run = await provider.getRun!(runKey);
      if (!run) throw notFound('BuildRun', runKey);
      s.begin(await provider.listStepRuns!(runKey));
      if (TERMINAL_RUN_STATES.has(run.state)) s.runEnded = true;
    } catch (e) {
      void s.return();
      throw e;
    }
    return s;
  }

  /** Steps settle before the run's end is published; one more read catches a missed last change. */
  protected async final(): Promise<void> {
    for (const step of await this.provider.listStepRuns!(this.runKey)) this.accept(step);
  }
}

/**
 * buildRunsUpdated: runs of one build (`<providerId>:<buildKey>`) or of one provider
 * (`<providerId>`) created or changed, for list pages. Never completes on its own.
 */
export class BuildRunsStream extends StateStream<RunData> {
  /** Upstream builds and providers are polled while watched; native runs are pushed. */
  static async open(hub: LiveHub, provider: Provider, buildKey: string | null): Promise<BuildRunsStream> {
    hub.assertTransportUp();
    let off = () => undefined as void;
    const s = new BuildRunsStream(() => off(), (r) => RUN_RANK[r.state] ?? 0);
    const l = hub.listen('BUILD_RUNS', buildKey === null ? provider.id : scoped(provider.id, buildKey), (e) => s.offer(e.run));
    const release = hub.buildPollers.acquire(provider, buildKey);
    off = () => { l.off(); release(); };
    await l.ready.catch((e: unknown) => { off(); throw e; });
    s.watchTransport(hub);
    s.begin([]);
    return s;
  }

  protected async final(): Promise<void> {}
}
