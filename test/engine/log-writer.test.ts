import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LogWriter } from '../../src/engine/log-writer.js';
import { runProcess } from '../../src/engine/process.js';
import type { LogLineData } from '../../src/providers/types.js';
import { openStore, type Store } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrations.js';

describe('LogWriter (real SQLite store)', () => {
  let store: Store;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-lw-'));
  let runId = 0;
  beforeAll(async () => {
    store = openStore(`sqlite:${path.join(dir, 'db.sqlite')}`);
    await migrateToLatest(store.db, store.dialect);
    const now = Date.now();
    await store.db.insertInto('builds').values({ name: 'b', description: null, account_seq: null, registry_name: null, registry_project_id: null, external_registry_seq: null, image_name: null, tag_name: null, autotag_use: 0, autotag_prefix: null, autotag_seq_type: null, build_server_host: null, build_server_tls_verify: 0, secrets: '{}', next_build_no: 1, created_at: now, updated_at: now }).execute();
  });
  afterAll(async () => { await store.close(); fs.rmSync(dir, { recursive: true, force: true }); });

  const newRun = async () => {
    const r = await store.db.insertInto('build_runs').values({ build_id: 1, build_no: ++runId, run_type: 'BUILD', state: 'RUNNING', description: null, tag_name: null, callback_url: null, callback_status: null, image_url: null, image_size: null, image_digest: null, trigger: 'API', triggered_by: null, source_revision: null, error_message: null, begin_time: null, end_time: null, created_at: Date.now(), last_seq: 0 }).returning('id').executeTakeFirstOrThrow();
    return Number(r.id);
  };
  const stored = (run: number) => store.db.selectFrom('log_lines').selectAll().where('run_id', '=', run).orderBy('seq').execute();

  it('splits long lines, masks secrets, caps a step with a marker and reports dropped lines', async () => {
    const run = await newRun();
    const committed: LogLineData[] = [];
    const w = new LogWriter(store, run, 0, { maxLineLength: 10, maxBytesPerStep: 60, secrets: ['hunter2'] }, (l) => committed.push(...l));
    w.line(7, 'STDOUT', 'abcdefghijKLMNOPQRSTuv');
    w.line(7, 'STDERR', 'pw=hunter2');
    for (let i = 0; i < 20; i++) w.line(7, 'STDOUT', `x${i}`);
    w.stepEnded(7);
    await w.close();
    const rows = await stored(run);
    expect(rows.slice(0, 4).map((r) => r.text)).toEqual(['abcdefghij', 'KLMNOPQRST', 'uv', 'pw=***']);
    expect(rows.some((r) => r.stream === 'SYSTEM' && /passed 60 bytes/.test(r.text))).toBe(true);
    expect(rows[rows.length - 1]!.text).toMatch(/lines of this step were not stored/);
    expect(rows.map((r) => Number(r.seq))).toEqual(rows.map((_r, i) => i + 1));
    expect(committed.map((l) => l.seq)).toEqual(rows.map((r) => Number(r.seq)));
    const last = await store.db.selectFrom('build_runs').select('last_seq').where('id', '=', run).executeTakeFirstOrThrow();
    expect(Number(last.last_seq)).toBe(rows.length);
  });

  it('continues numbering after the stored last_seq (a restarted writer never reuses a seq)', async () => {
    const run = await newRun();
    const a = new LogWriter(store, run, 0, { maxLineLength: 100, maxBytesPerStep: 1e6, secrets: [] });
    a.line(null, 'STDOUT', 'one');
    a.line(null, 'STDOUT', 'two');
    await a.close();
    const b = new LogWriter(store, run, a.lastSeq, { maxLineLength: 100, maxBytesPerStep: 1e6, secrets: [] });
    b.line(null, 'STDOUT', 'three');
    await b.close();
    expect((await stored(run)).map((r) => [Number(r.seq), r.text])).toEqual([[1, 'one'], [2, 'two'], [3, 'three']]);
  });

  it('pauses a fast producer when storage is behind (bounded buffer) and still stores every line', async () => {
    const run = await newRun();
    const w = new LogWriter(store, run, 0, { maxLineLength: 100, maxBytesPerStep: 1e9, secrets: [], highWater: 1000, maxBatch: 500 });
    let pauses = 0;
    const res = await runProcess('seq', ['1', '200000'], {
      cwd: dir, signal: new AbortController().signal,
      onLine: (stream, text) => { const p = w.line(1, stream, text); if (p) pauses++; return p; },
    });
    await w.close();
    expect(res.exitCode).toBe(0);
    expect(pauses).toBeGreaterThan(0);
    const n = await store.db.selectFrom('log_lines').select((eb) => eb.fn.countAll<number>().as('n')).where('run_id', '=', run).executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(200000);
  });
});
