import type { LogLineData, LogSource } from '../model.js';
import type { Store } from '../store/db.js';

export interface LogWriterOptions {
  /**
   * Longer lines are stored in pieces of at most this many UTF-8 bytes, cut between
   * characters; every piece after a line's first is marked `continued`.
   */
  maxLineBytes: number;
  /** Beyond this many bytes per step, one marker line is stored and the rest dropped. */
  maxBytesPerStep: number;
  /** Values replaced by *** in every stored line. */
  secrets: readonly string[];
  /** Flush at least this often while lines arrive (ms). */
  flushMs?: number;
  /** Flush as soon as this many lines are buffered. */
  maxBatch?: number;
  /** Lines waiting for storage beyond which the producer is asked to pause. */
  highWater?: number;
  /** Waits before each new attempt at a batch the store refused (ms); then its lines are given up. */
  retryDelaysMs?: readonly number[];
}

interface Pending { stepRunRowId: number | null; stream: LogSource; time: number; text: string; continued: boolean }
/** The unstored end of a line that goes on (partial pieces); kept until the line ends. */
interface OpenLine { text: string; continued: boolean }
interface StepBudget { bytes: number; dropped: number; capped: boolean }

/** Largest batch written in one transaction. */
const MAX_WRITE_BATCH = 16384;

/** Writes one batch and bumps the run's last_seq in the same transaction. */
type BatchWriter = (runRowId: number, firstSeq: number, rows: Pending[]) => Promise<void> | void;

/** Rows per INSERT statement: fewer statement executions per batch (SQLite allows 32766 parameters). */
const SQLITE_ROWS_PER_INSERT = 256;

/** Prepared once per store: preparing the 256-row statement costs more than a small batch. */
const sqliteWriters = new WeakMap<Store, BatchWriter>();

function sqliteWriter(store: Store): BatchWriter {
  const cached = sqliteWriters.get(store);
  if (cached) return cached;
  const writer = makeSqliteWriter(store);
  sqliteWriters.set(store, writer);
  return writer;
}

function makeSqliteWriter(store: Store): BatchWriter {
  const db = store.sqlite!;
  const insertMany = (n: number) => db.prepare(`insert into log_lines (run_id, seq, step_run_id, stream, time, text, continued) values ${'(?, ?, ?, ?, ?, ?, ?),'.repeat(n).slice(0, -1)}`);
  const full = insertMany(SQLITE_ROWS_PER_INSERT);
  const one = insertMany(1);
  const bump = db.prepare('update build_runs set last_seq = ? where id = ?');
  const params: unknown[] = new Array(SQLITE_ROWS_PER_INSERT * 7);
  const tx = db.transaction((runRowId: number, firstSeq: number, rows: Pending[]) => {
    let i = 0;
    for (; i + SQLITE_ROWS_PER_INSERT <= rows.length; i += SQLITE_ROWS_PER_INSERT) {
      for (let j = 0; j < SQLITE_ROWS_PER_INSERT; j++) {
        const r = rows[i + j]!;
        const k = j * 7;
        params[k] = runRowId; params[k + 1] = firstSeq + i + j; params[k + 2] = r.stepRunRowId;
        params[k + 3] = r.stream; params[k + 4] = r.time; params[k + 5] = r.text; params[k + 6] = r.continued ? 1 : 0;
      }
      full.run(params);
    }
    for (; i < rows.length; i++) {
      const r = rows[i]!;
      one.run(runRowId, firstSeq + i, r.stepRunRowId, r.stream, r.time, r.text, r.continued ? 1 : 0);
    }
    bump.run(firstSeq + rows.length - 1, runRowId);
  });
  return (runRowId, firstSeq, rows) => tx(runRowId, firstSeq, rows);
}

function postgresWriter(store: Store): BatchWriter {
  const pool = store.pgPool!;
  return async (runRowId, firstSeq, rows) => {
    const client = await pool.connect();
    try {
      await client.query('begin');
      // One statement per batch: arrays unnested server-side. The `continued` array only
      // when a batch holds pieces of long lines: most batches have none (column default 0).
      const pieces = rows.some((r) => r.continued);
      const params = [runRowId, rows.map((_r, i) => firstSeq + i), rows.map((r) => r.stepRunRowId), rows.map((r) => r.stream), rows.map((r) => r.time), rows.map((r) => r.text)];
      await client.query(pieces
        ? `insert into log_lines (run_id, seq, step_run_id, stream, time, text, continued)
           select $1, s, st, sm, t, x, c from unnest($2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::text[], $7::integer[]) as u(s, st, sm, t, x, c)`
        : `insert into log_lines (run_id, seq, step_run_id, stream, time, text)
           select $1, s, st, sm, t, x from unnest($2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::text[]) as u(s, st, sm, t, x)`,
      pieces ? [...params, rows.map((r) => (r.continued ? 1 : 0))] : params);
      await client.query('update build_runs set last_seq = $1 where id = $2', [firstSeq + rows.length - 1, runRowId]);
      await client.query('commit');
    } catch (e) {
      await client.query('rollback').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  };
}

/** What NUL becomes in stored text: PostgreSQL's text cannot hold U+0000, SQLite's can; both store this. */
export const NUL_STANDIN = '\u2400';

/**
 * The text as both stores keep it, identically: NUL as U+2400 (SYMBOL FOR NULL, visible and
 * one character, where an escape like `\0` could not be told from output that printed it),
 * unpaired UTF-16 surrogates as U+FFFD (invalid UTF-8 from a process is U+FFFD already when
 * decoded).
 */
export function storableText(text: string): string {
  const t = (text.includes('\0') ? text.replaceAll('\0', NUL_STANDIN) : text) as string & WellFormed;
  return t.isWellFormed() ? t : t.toWellFormed();
}
/** ES2024 string methods (Node 20 has them; the project's TypeScript lib is ES2023). */
interface WellFormed { isWellFormed(): boolean; toWellFormed(): string }

/** UTF-8 bytes of `text` from `from` up to the char index where `maxBytes` would be exceeded (never inside a surrogate pair). */
function cutIndex(text: string, from: number, maxBytes: number): number {
  let bytes = 0;
  let i = from;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < text.length;
    const n = c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
    if (bytes + n > maxBytes) break;
    bytes += n;
    i += pair ? 2 : 1;
  }
  // A first character larger than maxBytes still makes progress.
  return i === from ? from + (text.charCodeAt(from) >= 0xd800 && text.charCodeAt(from) <= 0xdbff ? 2 : 1) : i;
}

/**
 * Buffers a run's log lines and stores them in batches. Sequence numbers are assigned
 * when a batch commits, in the same transaction that moves the run's last_seq: a line is
 * acknowledged once committed, and a crash can only lose unacknowledged lines, never
 * leave a gap or a duplicate. After each commit `onCommitted` gets the stored lines.
 * A batch the store refuses is tried again (`retryDelaysMs`); one it keeps refusing is
 * given up, noted in the log, and reported by `storageError` and close().
 */
export class LogWriter {
  private buffer: Pending[] = [];
  private nextSeq: number;
  private timer: NodeJS.Timeout | null = null;
  private draining: Promise<void> | null = null;
  private readonly budgets = new Map<number | null, StepBudget>();
  private readonly open = new Map<string, OpenLine>();
  private readonly write: BatchWriter;
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private failure: Error | null = null;
  private lostLines = 0;
  /** The last line saying that lines could not be stored. */
  private lossNote: Pending | null = null;
  private inFlight = 0;
  private readonly highWater: number;
  private readonly retryDelaysMs: readonly number[];
  /** Characters kept back at the end of a line that goes on: a secret's start may be among them. */
  private readonly keepBack: number;

  constructor(
    store: Store,
    private readonly runRowId: number,
    lastSeq: number,
    private readonly opts: LogWriterOptions,
    private readonly onCommitted: (lines: LogLineData[]) => void = () => undefined,
  ) {
    this.nextSeq = lastSeq + 1;
    this.write = store.dialect === 'sqlite' ? sqliteWriter(store) : postgresWriter(store);
    this.flushMs = opts.flushMs ?? 10;
    this.maxBatch = opts.maxBatch ?? 4096;
    this.highWater = opts.highWater ?? 65536;
    this.retryDelaysMs = opts.retryDelaysMs ?? [100, 500, 2000];
    this.keepBack = Math.max(0, ...opts.secrets.map((x) => x.length - 1));
  }

  /**
   * Adds one output line (no newline), or with `partial` a piece of one that goes on in the
   * next call for the same step and stream. Never throws; storage errors surface on flush().
   * Returns a promise when more than `highWater` lines wait for storage: the producer
   * should pause until it resolves (runProcess pauses the child's pipes), so a store slower
   * than the build's output bounds memory instead of buffering without limit.
   */
  line(stepRunRowId: number | null, stream: LogSource, text: string, partial = false): Promise<void> | undefined {
    const budget = this.budgets.get(stepRunRowId) ?? { bytes: 0, dropped: 0, capped: false };
    this.budgets.set(stepRunRowId, budget);
    if (budget.capped) { if (!partial) budget.dropped++; return undefined; }
    const bytes = Buffer.byteLength(text);
    budget.bytes += bytes + (partial ? 0 : 1);
    if (budget.bytes > this.opts.maxBytesPerStep && stream !== 'SYSTEM') {
      this.endOpenLines(stepRunRowId);
      budget.capped = true;
      budget.dropped++;
      this.push(stepRunRowId, 'SYSTEM', `[buildgate] output of this step passed ${this.opts.maxBytesPerStep} bytes; further lines are not stored`, false);
      return undefined;
    }
    // Most lines: no line open anywhere, short enough at 3 bytes per character at most.
    const clean = storableText(text);
    if (!partial && this.open.size === 0) {
      const masked = this.mask(clean);
      if (masked.length * 3 <= this.opts.maxLineBytes || Buffer.byteLength(masked) <= this.opts.maxLineBytes) {
        this.push(stepRunRowId, stream, masked, false);
        return this.buffer.length + this.inFlight > this.highWater ? this.flush() : undefined;
      }
    }
    const key = `${stepRunRowId}|${stream}`;
    const open = this.open.get(key);
    this.cut(stepRunRowId, stream, key, (open?.text ?? '') + clean, open?.continued ?? false, partial);
    return this.buffer.length + this.inFlight > this.highWater ? this.flush() : undefined;
  }

  /**
   * Stores a long line (or the known part of one that goes on) in pieces of at most
   * maxLineBytes. Masking runs over the joined text, and the last `keepBack` characters of
   * a line that goes on wait for the next piece: a secret is never split by a cut unmasked.
   */
  private cut(stepRunRowId: number | null, stream: LogSource, key: string, text: string, continued: boolean, partial: boolean) {
    const masked = this.mask(text);
    const max = this.opts.maxLineBytes;
    const limit = masked.length - (partial ? this.keepBack : 0);
    let pos = 0;
    for (;;) {
      const end = cutIndex(masked, pos, max);
      // The rest fits in one piece (stored at the line's end), or would store characters kept back.
      if (end >= masked.length || end > limit) break;
      this.push(stepRunRowId, stream, masked.slice(pos, end), continued);
      continued = true;
      pos = end;
    }
    const rest = masked.slice(pos);
    if (partial) { this.open.set(key, { text: rest, continued }); return; }
    this.open.delete(key);
    // An empty end of a line whose pieces are stored adds nothing; an empty line is a line.
    if (rest || !continued) this.push(stepRunRowId, stream, rest, continued);
  }

  /** Stores what waits of lines that never got their end (their producer stopped). */
  private endOpenLines(stepRunRowId?: number | null) {
    for (const [key, o] of this.open) {
      const [sid, stream] = key.split('|') as [string, LogSource];
      const id = sid === 'null' ? null : Number(sid);
      if (stepRunRowId !== undefined && id !== stepRunRowId) continue;
      this.open.delete(key);
      if (o.text || !o.continued) this.push(id, stream, o.text, o.continued);
    }
  }

  /** Ends a step's budget: notes how many lines were dropped. */
  stepEnded(stepRunRowId: number): void {
    this.endOpenLines(stepRunRowId);
    const b = this.budgets.get(stepRunRowId);
    if (b?.dropped) this.push(stepRunRowId, 'SYSTEM', `[buildgate] ${b.dropped} lines of this step were not stored (output limit)`, false);
  }

  private mask(text: string): string {
    let out = text;
    for (const s of this.opts.secrets) if (out.includes(s)) out = out.split(s).join('***');
    return out;
  }

  private push(stepRunRowId: number | null, stream: LogSource, text: string, continued: boolean) {
    this.buffer.push({ stepRunRowId, stream, time: Date.now(), text, continued });
    if (this.buffer.length >= this.maxBatch) void this.flush();
    else if (!this.timer) this.timer = setTimeout(() => { this.timer = null; void this.flush(); }, this.flushMs);
  }

  /** Stores everything buffered so far; resolves when committed. */
  flush(): Promise<void> {
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    // One drain loop at a time; lines that arrive meanwhile join its next, larger batch.
    this.draining ??= this.drain().finally(() => { this.draining = null; });
    return this.draining;
  }

  private async drain(): Promise<void> {
    while (this.buffer.length) {
      const rows = this.buffer.length <= MAX_WRITE_BATCH ? this.buffer : this.buffer.slice(0, MAX_WRITE_BATCH);
      this.buffer = rows === this.buffer ? [] : this.buffer.slice(MAX_WRITE_BATCH);
      this.inFlight = rows.length;
      const first = this.nextSeq;
      try {
        await this.writeRetrying(first, rows);
      } catch (e) {
        // Never acknowledged, so no client saw these lines; the log says they are missing
        // (in the next batch) and the run ends ERROR with the reason.
        this.failure ??= e as Error;
        this.lostLines += rows.length;
        // Unless the store refused the note itself: then it stops here.
        if (!(rows.length === 1 && rows[0] === this.lossNote)) {
          this.lossNote = { stepRunRowId: null, stream: 'SYSTEM', time: Date.now(), continued: false,
            text: `[buildgate] ${rows.length} log lines could not be stored: ${(e as Error).message}` };
          this.buffer.unshift(this.lossNote);
        }
        continue;
      } finally {
        this.inFlight = 0;
      }
      this.nextSeq = first + rows.length;
      this.onCommitted(rows.map((r, i) => ({
        seq: first + i, stepRunKey: r.stepRunRowId === null ? null : String(r.stepRunRowId), source: r.stream, time: new Date(r.time), text: r.text, continued: r.continued,
      })));
    }
  }

  private async writeRetrying(first: number, rows: Pending[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.write(this.runRowId, first, rows);
        return;
      } catch (e) {
        const wait = this.retryDelaysMs[attempt];
        if (wait === undefined) throw e;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /** The first batch the store refused for good (its lines are missing from the log), or null. */
  get storageError(): Error | null {
    if (!this.failure) return null;
    return new Error(`${this.lostLines} log lines could not be stored: ${this.failure.message}`);
  }

  /** Stores everything, including lines still waiting for their end, and reports the first storage failure, if any. */
  async close(): Promise<void> {
    this.endOpenLines();
    await this.flush();
    const e = this.storageError;
    if (e) throw e;
  }

  get lastSeq(): number {
    return this.nextSeq - 1;
  }
}
