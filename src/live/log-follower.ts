import { setImmediate as nextTurn } from 'node:timers/promises';
import { notFound } from '../errors.js';
import type { LogLineData, Provider } from '../providers/types.js';
import { DIRECT, type DirectCapable, type DirectSink } from './direct.js';
import type { FeedHandle } from './feeds.js';
import type { LiveHub } from './hub.js';
import { TERMINAL_RUN_STATES } from './poller.js';

/** One event of a log subscription. */
export interface LogBatchData { lines: LogLineData[]; lastSeq: number; fellBehind: boolean }
/** The server side of the subscriber's websocket (ws exposes bytes queued but not yet sent). */
export interface SocketLike { readonly bufferedAmount: number }

export interface LogFollowerArgs {
  provider: Provider;
  runKey: string;
  stepRunKey: string | null;
  afterSeq: number;
  socket?: SocketLike | null;
}

const DONE: IteratorResult<LogBatchData> = { done: true, value: undefined };
/**
 * Unsent bytes on a socket up to which live batches are written to it directly (live/direct.ts).
 * Beyond it a client is not keeping up: writing on would queue up to maxSocketBufferedBytes
 * in front of the keep-alive ping (a client reading 4.5 MB late missed its pong deadline).
 */
const DIRECT_MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * One subscriber's log: stored lines after `afterSeq`, then live lines, exactly once each.
 *
 * The switch from stored to live has no gap and no duplicate because the live listener is
 * attached *before* the first read: a line committed before a read is in that read; one
 * committed after it is published after it, so it reaches the buffer; the buffer is then
 * drained skipping seq <= the last line delivered. A full buffer is dropped and the lines
 * read again from storage, at the subscriber's own pace (a run can write faster than a
 * resumed subscriber is served); only a subscriber that has not asked for an event for
 * `stalledClientMs` when its buffer fills is cut, with one `fellBehind` event carrying the
 * seq to resume after — a slow subscriber costs its own bounded memory only.
 * On the run's final state every line is already stored (the engine closes the log before
 * it publishes the end; the poller publishes lines first), so one last read after the last
 * delivered seq completes the log exactly.
 */
export class LogFollower implements AsyncIterableIterator<LogBatchData>, DirectCapable<LogBatchData> {
  private lastSeq: number;
  private live: LogLineData[][] = [];
  private liveCount = 0;
  private phase: 'replay' | 'live' | 'final' = 'replay';
  private firstRead = true;
  private reread = false;
  private gapRetried = false;
  private runEnded = false;
  private behind = false;
  private endAfterThis = false;
  private finished = false;
  private wakeFn: (() => void) | null = null;
  private handle: FeedHandle | null = null;
  /** Events handed out since this stream last waited for anything (see next()). */
  private unbroken = 0;
  /** When the subscriber last asked for an event, and whether it is waiting for one now. */
  private lastPull = Date.now();
  private pulling = false;
  /** Set when live events stopped travelling (Redis lost): the next read throws it. */
  private failure: Error | null = null;
  private offDown: () => void = () => undefined;
  /** Where live batches go while the consumer waits in next() (live/direct.ts). */
  private sink: DirectSink<LogBatchData> | null = null;
  /** Settles once the last batch given to the sink is written: next() returns nothing before. */
  private directWritten: Promise<void> | null = null;

  private constructor(private readonly hub: LiveHub, private readonly args: LogFollowerArgs) {
    this.lastSeq = args.afterSeq;
  }

  /** Joins the run's live feed, then checks the run exists; throws NOT_FOUND otherwise. */
  static async open(hub: LiveHub, args: LogFollowerArgs): Promise<LogFollower> {
    const s = new LogFollower(hub, args);
    const handle = await hub.feeds.acquire(args.provider, args.runKey);
    s.handle = handle;
    s.offDown = hub.onTransportDown((e) => { s.failure = e; s.wake(); });
    handle.onLog((lines) => s.onLines(lines));
    handle.onRun((run) => { if (TERMINAL_RUN_STATES.has(run.state)) { s.runEnded = true; s.wake(); } });
    try {
      const run = await args.provider.getRun!(args.runKey);
      if (!run) throw notFound('BuildRun', args.runKey);
      if (TERMINAL_RUN_STATES.has(run.state)) s.runEnded = true;
    } catch (e) {
      s.finish();
      throw e;
    }
    return s;
  }

  private onLines(lines: LogLineData[]): void {
    if (this.finished || this.behind) return;
    const key = this.args.stepRunKey;
    const batch = key ? lines.filter((l) => l.stepRunKey === key) : lines;
    if (!batch.length || batch[batch.length - 1]!.seq <= this.lastSeq) return;
    if (this.offerDirect(batch)) return;
    this.live.push(batch); // shared with the other subscribers: never mutated
    this.liveCount += batch.length;
    const { maxBufferedLines, maxSocketBufferedBytes } = this.hub.settings;
    const socketFull = (this.args.socket?.bufferedAmount ?? 0) > maxSocketBufferedBytes;
    if (this.liveCount > maxBufferedLines || socketFull) {
      // Storage has every published line: a subscriber that keeps reading catches up from
      // there at its own pace, however fast the run writes. Only one that stopped reading is cut.
      this.live = [];
      this.liveCount = 0;
      if (this.stalled()) this.fallBehind();
      else {
        this.reread = true;
        if (this.phase === 'live') this.phase = 'replay';
      }
    }
    this.wake();
  }

  /**
   * Hands a batch straight to the sink when nothing is queued before it: the consumer waits
   * in next() for live lines, the batch follows the last line delivered, and the socket keeps
   * up. A socket with more than DIRECT_MAX_BUFFERED_BYTES unsent is left to the usual path,
   * which writes one event after the other has gone out (so a client reading slowly has
   * little queued before its keep-alive ping) and decides between re-reading and fellBehind.
   */
  private offerDirect(batch: LogLineData[]): boolean {
    if (this.sink === null || this.phase !== 'live' || this.wakeFn === null || this.live.length || this.failure || this.runEnded) return false;
    if (batch.length > this.hub.settings.pageLines) return false;
    if (this.args.stepRunKey ? batch[0]!.seq <= this.lastSeq : batch[0]!.seq !== this.lastSeq + 1) return false;
    if ((this.args.socket?.bufferedAmount ?? 0) > DIRECT_MAX_BUFFERED_BYTES) return false;
    const lastSeq = batch[batch.length - 1]!.seq;
    const written = this.sink({ lines: batch, lastSeq, fellBehind: false });
    if (written === null) return false;
    this.lastSeq = lastSeq;
    this.directWritten = written; // no lastPull here: a clock read per subscriber per batch, and it waits in next() (pulling) anyway
    return true;
  }

  [DIRECT](sink: DirectSink<LogBatchData> | null): void {
    this.sink = sink;
  }

  /** Not waiting for an event, and none asked for in `stalledClientMs`: a client that stopped reading. */
  private stalled(): boolean {
    return !this.pulling && Date.now() - this.lastPull > this.hub.settings.stalledClientMs;
  }

  private fallBehind(): void {
    if (this.phase === 'final' || this.behind) return;
    this.behind = true;
    this.live = [];
    this.liveCount = 0;
    this.handle?.release(); // its memory and its share of the feed go now, not when it reads again
  }

  private wake() {
    const w = this.wakeFn;
    this.wakeFn = null;
    w?.();
  }

  /** Buffered lines after the last delivered one, at most a page; 'gap' when one is missing. */
  private drain(): LogLineData[] | 'gap' {
    const out: LogLineData[] = [];
    const max = this.hub.settings.pageLines;
    let cursor = this.lastSeq;
    while (this.live.length && out.length < max) {
      const b = this.live[0]!;
      // A whole batch that follows on directly goes out as the very array every subscriber
      // got, so identical subscriptions can share one execution (live/shared-execution.ts).
      if (out.length === 0 && b.length <= max && (this.args.stepRunKey ? b[0]!.seq > cursor : b[0]!.seq === cursor + 1)) {
        this.live.shift();
        this.liveCount -= b.length;
        return b;
      }
      let i = 0;
      for (; i < b.length && out.length < max; i++) {
        const l = b[i]!;
        if (l.seq <= cursor) continue;
        if (!this.args.stepRunKey && l.seq !== cursor + 1 && !this.gapRetried) {
          if (out.length) break;
          this.gapRetried = true;
          return 'gap';
        }
        out.push(l);
        cursor = l.seq;
      }
      if (i >= b.length) { this.live.shift(); this.liveCount -= b.length; } else { this.live[0] = b.slice(i); this.liveCount -= i; break; }
    }
    return out;
  }

  private batch(lines: LogLineData[]): IteratorResult<LogBatchData> {
    this.lastSeq = lines[lines.length - 1]!.seq;
    return { done: false, value: { lines, lastSeq: this.lastSeq, fellBehind: false } };
  }

  private finish(): void {
    this.finished = true;
    this.sink = null;
    this.live = [];
    this.offDown();
    this.handle?.release();
    this.wake();
  }

  async next(): Promise<IteratorResult<LogBatchData>> {
    this.pulling = true;
    try {
      const r = await this.produce();
      // Batches given to the sink while this call waited go out before what it returns.
      const written = this.directWritten;
      if (written) {
        this.directWritten = null;
        await written;
      }
      return r;
    } finally {
      this.pulling = false;
      this.lastPull = Date.now();
    }
  }

  private async produce(): Promise<IteratorResult<LogBatchData>> {
    // A subscriber catching up (a backlog of live batches, or a long replay from SQLite, whose
    // reads resolve at once) would otherwise hand out events, and graphql-ws write them, in
    // one unbroken chain of microtasks: the event loop would not read sockets, pongs or the
    // build's output until every such subscriber is done (a backlog at 10,000 subscribers
    // stalled it for 18 s and keep-alive then closed half the sockets). Every few events, let
    // it turn.
    if (++this.unbroken > 4) {
      this.unbroken = 0;
      await nextTurn();
    }
    for (;;) {
      if (this.finished) return DONE;
      if (this.failure) { this.finish(); throw this.failure; }
      if (this.endAfterThis) { this.finish(); return DONE; }
      if (this.behind) {
        this.finish();
        return { done: false, value: { lines: [], lastSeq: this.lastSeq, fellBehind: true } };
      }
      if (this.phase === 'live') {
        const lines = this.drain();
        if (lines === 'gap') { this.phase = 'replay'; continue; }
        if (lines.length) { this.gapRetried = false; return this.batch(lines); }
        if (this.runEnded) { this.phase = 'final'; continue; }
        await new Promise<void>((r) => { this.wakeFn = r; });
        this.unbroken = 0;
        continue;
      }
      // replay / final: read from storage after the last delivered line
      this.reread = false;
      const page = await this.handle!.readLog({ stepRunKey: this.args.stepRunKey, afterSeq: this.lastSeq, limit: this.hub.settings.pageLines });
      if (this.finished) return DONE;
      if (this.firstRead && page.lines.length === 0 && page.lastSeq < this.lastSeq) this.lastSeq = page.lastSeq; // afterSeq past the end: live only
      this.firstRead = false;
      const fresh = page.lines.filter((l) => l.seq > this.lastSeq);
      if ((!page.hasMore || !fresh.length) && !this.reread) {
        if (this.phase === 'final') this.endAfterThis = true;
        else this.phase = 'live';
      }
      if (fresh.length) return this.batch(fresh);
    }
  }

  async return(): Promise<IteratorResult<LogBatchData>> {
    this.finish();
    return DONE;
  }

  async throw(e?: unknown): Promise<IteratorResult<LogBatchData>> {
    this.finish();
    throw e;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
