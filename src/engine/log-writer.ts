import type { LogLineData, LogStream } from '../model.js';
import type { Store } from '../store/db.js';

export interface LogWriterOptions {
  /** Longer lines are split into pieces of this many characters. */
  maxLineLength: number;
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
}

interface Pending { stepRunId: number | null; stream: LogStream; time: number; text: string }
interface StepBudget { bytes: number; dropped: number; capped: boolean }

/** Largest batch written in one transaction. */
const MAX_WRITE_BATCH = 16384;

/** Writes one batch and bumps the run's last_seq in the same transaction. */
type BatchWriter = (runId: number, firstSeq: number, rows: Pending[]) => Promise<void> | void;

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
  const insertMany = (n: number) => db.prepare(`insert into log_lines (run_id, seq, step_run_id, stream, time, text) values ${'(?, ?, ?, ?, ?, ?),'.repeat(n).slice(0, -1)}`);
  const full = insertMany(SQLITE_ROWS_PER_INSERT);
  const one = insertMany(1);
  const bump = db.prepare('update build_runs set last_seq = ? where id = ?');
  const params: unknown[] = new Array(SQLITE_ROWS_PER_INSERT * 6);
  const tx = db.transaction((runId: number, firstSeq: number, rows: Pending[]) => {
    let i = 0;
    for (; i + SQLITE_ROWS_PER_INSERT <= rows.length; i += SQLITE_ROWS_PER_INSERT) {
      for (let j = 0; j < SQLITE_ROWS_PER_INSERT; j++) {
        const r = rows[i + j]!;
        const k = j * 6;
        params[k] = runId; params[k + 1] = firstSeq + i + j; params[k + 2] = r.stepRunId;
        params[k + 3] = r.stream; params[k + 4] = r.time; params[k + 5] = r.text;
      }
      full.run(params);
    }
    for (; i < rows.length; i++) {
      const r = rows[i]!;
      one.run(runId, firstSeq + i, r.stepRunId, r.stream, r.time, r.text);
    }
    bump.run(firstSeq + rows.length - 1, runId);
  });
  return (runId, firstSeq, rows) => tx(runId, firstSeq, rows);
}

function postgresWriter(store: Store): BatchWriter {
  const pool = store.pgPool!;
  return async (runId, firstSeq, rows) => {
    const client = await pool.connect();
    try {
      await client.query('begin');
      // One statement per batch: arrays unnested server-side.
      await client.query(
        `insert into log_lines (run_id, seq, step_run_id, stream, time, text)
         select $1, s, st, sm, t, x from unnest($2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::text[]) as u(s, st, sm, t, x)`,
        [runId, rows.map((_r, i) => firstSeq + i), rows.map((r) => r.stepRunId), rows.map((r) => r.stream), rows.map((r) => r.time), rows.map((r) => r.text)],
      );
      await client.query('update build_runs set last_seq = $1 where id = $2', [firstSeq + rows.length - 1, runId]);
      await client.query('commit');
    } catch (e) {
      await client.query('rollback').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  };
}

/**
 * Buffers a run's log lines and stores them in batches. Sequence numbers are assigned
 * when a batch commits, in the same transaction that moves the run's last_seq: a line is
 * acknowledged once committed, and a crash can only lose unacknowledged lines, never
 * leave a gap or a duplicate. After each commit `onCommitted` gets the stored lines.
 */
export class LogWriter {
  private buffer: Pending[] = [];
  private nextSeq: number;
  private timer: NodeJS.Timeout | null = null;
  private draining: Promise<void> | null = null;
  private readonly budgets = new Map<number | null, StepBudget>();
  private readonly write: BatchWriter;
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private failure: Error | null = null;
  private inFlight = 0;
  private readonly highWater: number;

  constructor(
    store: Store,
    private readonly runId: number,
    lastSeq: number,
    private readonly opts: LogWriterOptions,
    private readonly onCommitted: (lines: LogLineData[]) => void = () => undefined,
  ) {
    this.nextSeq = lastSeq + 1;
    this.write = store.dialect === 'sqlite' ? sqliteWriter(store) : postgresWriter(store);
    this.flushMs = opts.flushMs ?? 10;
    this.maxBatch = opts.maxBatch ?? 4096;
    this.highWater = opts.highWater ?? 65536;
  }

  /**
   * Adds one output line (no newline). Never throws; storage errors surface on flush().
   * Returns a promise when more than `highWater` lines wait for storage: the producer
   * should pause until it resolves (runProcess pauses the child's pipes), so a store slower
   * than the build's output bounds memory instead of buffering without limit.
   */
  line(stepRunId: number | null, stream: LogStream, text: string): Promise<void> | undefined {
    const budget = this.budgets.get(stepRunId) ?? { bytes: 0, dropped: 0, capped: false };
    this.budgets.set(stepRunId, budget);
    if (budget.capped) { budget.dropped++; return undefined; }
    budget.bytes += Buffer.byteLength(text) + 1;
    if (budget.bytes > this.opts.maxBytesPerStep && stream !== 'SYSTEM') {
      budget.capped = true;
      budget.dropped++;
      this.push(stepRunId, 'SYSTEM', `[buildgate] output of this step passed ${this.opts.maxBytesPerStep} bytes; further lines are not stored`);
      return undefined;
    }
    const masked = this.mask(text);
    const max = this.opts.maxLineLength;
    if (masked.length <= max) this.push(stepRunId, stream, masked);
    else for (let i = 0; i < masked.length; i += max) this.push(stepRunId, stream, masked.slice(i, i + max));
    return this.buffer.length + this.inFlight > this.highWater ? this.flush() : undefined;
  }

  /** Ends a step's budget: notes how many lines were dropped. */
  stepEnded(stepRunId: number): void {
    const b = this.budgets.get(stepRunId);
    if (b?.dropped) this.push(stepRunId, 'SYSTEM', `[buildgate] ${b.dropped} lines of this step were not stored (output limit)`);
  }

  private mask(text: string): string {
    let out = text;
    for (const s of this.opts.secrets) if (out.includes(s)) out = out.split(s).join('***');
    return out;
  }

  private push(stepRunId: number | null, stream: LogStream, text: string) {
    this.buffer.push({ stepRunId, stream, time: Date.now(), text });
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
        await this.write(this.runId, first, rows);
      } catch (e) {
        // Never acknowledged, so nothing a client saw is lost; the run reports the failure.
        this.failure ??= e as Error;
        continue;
      } finally {
        this.inFlight = 0;
      }
      this.nextSeq = first + rows.length;
      this.onCommitted(rows.map((r, i) => ({
        seq: first + i, stepKey: r.stepRunId === null ? null : String(r.stepRunId), stream: r.stream, time: new Date(r.time), text: r.text,
      })));
    }
  }

  /** Flushes and reports the first storage failure, if any. */
  async close(): Promise<void> {
    await this.flush();
    if (this.failure) throw this.failure;
  }

  get lastSeq(): number {
    return this.nextSeq - 1;
  }
}
