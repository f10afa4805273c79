import type { LogLineData, LogStream } from '../providers/types.js';
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
}

interface Pending { stepRunId: number | null; stream: LogStream; time: number; text: string }
interface StepBudget { bytes: number; dropped: number; capped: boolean }

/** Writes one batch and bumps the run's last_seq in the same transaction. */
type BatchWriter = (runId: number, firstSeq: number, rows: Pending[]) => Promise<void> | void;

function sqliteWriter(store: Store): BatchWriter {
  const db = store.sqlite!;
  const insert = db.prepare('insert into log_lines (run_id, seq, step_run_id, stream, time, text) values (?, ?, ?, ?, ?, ?)');
  const bump = db.prepare('update build_runs set last_seq = ? where id = ?');
  const tx = db.transaction((runId: number, firstSeq: number, rows: Pending[]) => {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      insert.run(runId, firstSeq + i, r.stepRunId, r.stream, r.time, r.text);
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
  private flushing: Promise<void> = Promise.resolve();
  private readonly budgets = new Map<number | null, StepBudget>();
  private readonly write: BatchWriter;
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private failure: Error | null = null;

  constructor(
    store: Store,
    private readonly runId: number,
    lastSeq: number,
    private readonly opts: LogWriterOptions,
    private readonly onCommitted: (lines: LogLineData[]) => void = () => undefined,
  ) {
    this.nextSeq = lastSeq + 1;
    this.write = store.dialect === 'sqlite' ? sqliteWriter(store) : postgresWriter(store);
    this.flushMs = opts.flushMs ?? 25;
    this.maxBatch = opts.maxBatch ?? 4096;
  }

  /** Adds one output line (no newline). Never throws; storage errors surface on flush(). */
  line(stepRunId: number | null, stream: LogStream, text: string): void {
    const budget = this.budgets.get(stepRunId) ?? { bytes: 0, dropped: 0, capped: false };
    this.budgets.set(stepRunId, budget);
    if (budget.capped) { budget.dropped++; return; }
    budget.bytes += Buffer.byteLength(text) + 1;
    if (budget.bytes > this.opts.maxBytesPerStep && stream !== 'SYSTEM') {
      budget.capped = true;
      budget.dropped++;
      this.push(stepRunId, 'SYSTEM', `[buildgate] output of this step passed ${this.opts.maxBytesPerStep} bytes; further lines are not stored`);
      return;
    }
    const masked = this.mask(text);
    const max = this.opts.maxLineLength;
    if (masked.length <= max) this.push(stepRunId, stream, masked);
    else for (let i = 0; i < masked.length; i += max) this.push(stepRunId, stream, masked.slice(i, i + max));
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
    const rows = this.buffer;
    if (rows.length === 0) return this.flushing;
    this.buffer = [];
    this.flushing = this.flushing.then(async () => {
      const first = this.nextSeq;
      try {
        await this.write(this.runId, first, rows);
      } catch (e) {
        this.failure ??= e as Error;
        return;
      }
      this.nextSeq = first + rows.length;
      this.onCommitted(rows.map((r, i) => ({
        seq: first + i, stepKey: r.stepRunId === null ? null : String(r.stepRunId), stream: r.stream, time: new Date(r.time), text: r.text,
      })));
    });
    return this.flushing;
  }

  /** Flushes and reports the first storage failure, if any. */
  async close(): Promise<void> {
    await this.flush();
    await this.flushing;
    if (this.failure) throw this.failure;
  }

  get lastSeq(): number {
    return this.nextSeq - 1;
  }
}
