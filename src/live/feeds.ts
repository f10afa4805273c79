import type { LogLineData, Provider, RunData, StepRunData } from '../providers/types.js';
import type { LiveChannels } from './channels.js';
import { Poller } from './poller.js';

/** What one subscriber registers on the shared feed of a run. */
export interface FeedHandle {
  onLog(fn: (lines: LogLineData[]) => void): void;
  onRun(fn: (run: RunData) => void): void;
  onStep(fn: (step: StepRunData) => void): void;
  /** The provider's getLogs, shared with identical reads of this feed's other subscribers (see RunFeed.readLog). */
  readLog(args: LogReadArgs): Promise<LogPageData>;
  /** Idempotent; the last release of a feed stops its listeners and poller. */
  release(): void;
}

type Fn<T> = (v: T) => void;
export interface LogReadArgs { stepRunKey: string | null; afterSeq: number; limit: number }
export type LogPageData = Awaited<ReturnType<NonNullable<Provider['getLogs']>>>;

/**
 * Everything live about one run, shared by all its local subscribers: one listener per topic
 * on the hub (so one Redis channel per topic per replica) and, for providers that cannot
 * push, one poller. Subscribers only add callbacks; a throwing callback hurts no other.
 */
class RunFeed {
  refs = 0;
  readonly log = new Set<Fn<LogLineData[]>>();
  readonly run = new Set<Fn<RunData>>();
  readonly step = new Set<Fn<StepRunData>>();
  readonly ready: Promise<void>;
  readonly poller: Poller | null;
  private readonly offs: Array<() => void>;
  /** Bumped whenever a subscriber starts listening for lines. */
  private listeners = 0;
  private readonly reads = new Map<string, Promise<LogPageData>>();

  constructor(hub: LiveChannels, readonly provider: Provider, readonly runKey: string, onError: (e: Error) => void) {
    const id = `${provider.id}:${runKey}`;
    const each = <T>(set: Set<Fn<T>>, v: T) => {
      for (const f of set) {
        try { f(v); } catch (e) { onError(e as Error); }
      }
    };
    // Native lines carry the time the engine read them: their age on arrival is the fan-out lag (upstream lines carry the upstream's time).
    const lag = provider.kind === 'NATIVE' ? hub.instruments : undefined;
    const subs = [
      // Chunks of at most a page: LogFollower hands a chunk on whole, as the one array every
      // subscriber got, so even a batch larger than a page keeps one execution for all.
      hub.listen('RUN_LOG', id, (e) => {
        const newest = e.lines[e.lines.length - 1]?.time;
        if (lag && newest) lag.fanoutDelivered((Date.now() - newest.getTime()) / 1000);
        const page = hub.settings.pageLines;
        if (e.lines.length <= page) each(this.log, e.lines);
        else for (let i = 0; i < e.lines.length; i += page) each(this.log, e.lines.slice(i, i + page));
      }),
      hub.listen('RUN_UPDATED', id, (e) => each(this.run, e.run)),
      hub.listen('STEP_UPDATED', id, (e) => each(this.step, e.step)),
    ];
    this.offs = subs.map((s) => s.off);
    this.ready = Promise.all(subs.map((s) => s.ready)).then(() => undefined);
    // The native engine publishes as it goes; anything else is polled, once for all subscribers.
    this.poller = provider.kind === 'NATIVE' ? null : new Poller(provider, runKey, hub);
    if (this.poller) void this.ready.then(() => this.poller?.start(), () => undefined);
  }

  addLogListener(fn: Fn<LogLineData[]>): void {
    this.listeners++;
    this.log.add(fn);
  }

  /**
   * When a run ends, every subscriber reads the store once more after the same last seq: one
   * read serves them all. A read is shared only by subscribers that were already listening
   * when it was asked for (the key carries the listener count), so none can miss a line that
   * was published before it listened and committed after the read.
   */
  readLog(args: LogReadArgs): Promise<LogPageData> {
    const key = `${this.listeners}|${args.stepRunKey ?? ''}|${args.afterSeq}|${args.limit}`;
    let read = this.reads.get(key);
    if (!read) {
      read = this.provider.getLogs!(this.runKey, args);
      this.reads.set(key, read);
      const forget = () => { this.reads.delete(key); };
      read.then(forget, forget);
    }
    return read;
  }

  close() {
    for (const off of this.offs) off();
    this.poller?.stop();
  }
}

/** The shared feeds of this gateway, by `<providerId>:<runKey>`, reference-counted. */
export class Feeds {
  private readonly map = new Map<string, RunFeed>();

  constructor(private readonly hub: LiveChannels, private readonly onError: (e: Error) => void = () => undefined) {}

  /** Joins (or opens) the run's feed; resolves once its listeners receive events from every replica. */
  async acquire(provider: Provider, runKey: string): Promise<FeedHandle> {
    this.hub.assertTransportUp();
    const id = `${provider.id}:${runKey}`;
    let feed = this.map.get(id);
    if (!feed) {
      feed = new RunFeed(this.hub, provider, runKey, this.onError);
      this.map.set(id, feed);
    }
    const f = feed;
    f.refs++;
    if (f.refs > 1) f.poller?.wake(); // a joining subscriber gets the upstream's state now, not at the next interval
    const mine: Array<() => void> = [];
    let released = false;
    const add = <T>(set: Set<Fn<T>>, fn: Fn<T>) => { set.add(fn); mine.push(() => set.delete(fn)); };
    const handle: FeedHandle = {
      onLog: (fn) => { f.addLogListener(fn); mine.push(() => f.log.delete(fn)); },
      onRun: (fn) => add(f.run, fn),
      onStep: (fn) => add(f.step, fn),
      readLog: (args) => f.readLog(args),
      release: () => {
        if (released) return;
        released = true;
        for (const undo of mine) undo();
        if (--f.refs === 0) {
          f.close();
          if (this.map.get(id) === f) this.map.delete(id);
        }
      },
    };
    try {
      await f.ready;
    } catch (e) {
      handle.release();
      throw e;
    }
    return handle;
  }

  /** Open feeds, running pollers and subscribers (for tests and metrics). */
  stats(): { feeds: number; pollers: number; subscribers: number } {
    let pollers = 0;
    let subscribers = 0;
    for (const f of this.map.values()) {
      if (f.poller?.running) pollers++;
      subscribers += f.refs;
    }
    return { feeds: this.map.size, pollers, subscribers };
  }

  /**
   * A webhook said a run of `buildKey` changed: its poller (runKey given), or those of the
   * build's watched runs, read the upstream now instead of at the next interval.
   */
  wake(providerId: string, buildKey: string, runKey: string | null): void {
    for (const f of this.map.values()) {
      if (f.provider.id !== providerId || !f.poller) continue;
      if (runKey !== null ? f.runKey === runKey : (f.poller.buildKey ?? buildKey) === buildKey) f.poller.wake();
    }
  }

  /** The poller of a watched upstream run, if any. */
  poller(providerId: string, runKey: string): Poller | null {
    return this.map.get(`${providerId}:${runKey}`)?.poller ?? null;
  }

  closeAll(): void {
    for (const f of this.map.values()) f.close();
    this.map.clear();
  }
}
