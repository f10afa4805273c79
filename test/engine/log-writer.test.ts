import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import pg from 'pg';
import { LogWriter, NUL_STANDIN } from '../../src/engine/log-writer.js';
import { lineReader, READ_PIECE_BYTES, runProcess } from '../../src/engine/process.js';
import type { LogLineData } from '../../src/providers/types.js';
import { openStore, type Store } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrations.js';
import { CreateBuildDocument, RunPageDocument } from '../generated/graphql.js';
import { PG_URL, startGateway, type TestGateway } from '../support/gateway.js';

/** Makes the store refuse (with a real database error) any log line containing `refuse-me`. */
async function refuseMarkedLines(store: Store): Promise<void> {
  if (store.dialect === 'sqlite') {
    await sql`create trigger refuse_marked before insert on log_lines when new.text like '%refuse-me%'
      begin select raise(abort, 'line refused by the test trigger'); end`.execute(store.db);
    return;
  }
  await sql`create function refuse_marked() returns trigger language plpgsql as $$
    begin if new.text like '%refuse-me%' then raise exception 'line refused by the test trigger'; end if; return new; end $$`.execute(store.db);
  await sql`create trigger refuse_marked before insert on log_lines for each row execute function refuse_marked()`.execute(store.db);
}

describe('lineReader', () => {
  let redraws: string[] = [];
  const read = (chunks: Buffer[]) => {
    redraws = [];
    const out: Array<[string, boolean]> = [];
    const r = lineReader((text, partial, redraw) => { out.push([text, partial]); if (redraw) redraws.push(text); });
    for (const c of chunks) r.push(c);
    r.flush();
    return out;
  };
  const input = Buffer.concat([
    Buffer.from('plain\r\ncrlf\rcr\r\r\n\nblank above\n'),
    Buffer.from('é€😀 multibyte\n'),
    Buffer.from([0xff, 0xfe, 0x20, 0x69, 0x6e, 0x0a, 0xe2, 0x82, 0x0a]),
    Buffer.from(`${'x'.repeat(READ_PIECE_BYTES - 1)}😀tail\nlast, unterminated`),
  ]);

  /** Lines with their pieces joined. */
  const lines = (out: Array<[string, boolean]>) => out.reduce<{ acc: string[]; open: boolean }>(({ acc, open }, [t, partial]) => {
    if (open) acc[acc.length - 1] += t; else acc.push(t);
    return { acc, open: partial };
  }, { acc: [], open: false }).acc;

  it('gives the same lines whatever the chunks (one chunk, or every byte on its own), a held line in pieces cut between characters', () => {
    const whole = read([input]);
    expect(redraws).toEqual(['crlf', 'cr']);
    expect(lines(whole).map((t) => (t.length > 40 ? `${t.slice(0, 3)}…${t.length}` : t))).toEqual([
      'plain', 'crlf', 'cr', '', 'blank above', 'é€😀 multibyte', '\uFFFD\uFFFD in', '\uFFFD', `xxx…${READ_PIECE_BYTES - 1 + 2 + 4}`, 'last, unterminated',
    ]);
    const bytes = read([...input].map((b) => Buffer.from([b])));
    expect(lines(bytes)).toEqual(lines(whole));
    // Byte by byte the long line is held past READ_PIECE_BYTES: its first piece stops before the emoji.
    expect(bytes.filter(([, partial]) => partial).map(([t]) => t)).toEqual(['x'.repeat(READ_PIECE_BYTES - 1)]);
  });
});

describe.each(['sqlite', 'postgres'] as const)('LogWriter (real %s store)', (dialect) => {
  let store: Store;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-lw-'));
  const pgSchema = `bg_lw_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  let runId = 0;
  beforeAll(async () => {
    if (dialect === 'postgres') {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`create schema ${pgSchema}`);
      await c.end();
      store = openStore(PG_URL, { pgSchema });
    } else {
      store = openStore(`sqlite:${path.join(dir, 'db.sqlite')}`);
    }
    await migrateToLatest(store.db, store.dialect);
    const now = Date.now();
    await store.db.insertInto('builds').values({ name: 'b', description: null, account_seq: null, registry_name: null, registry_project_id: null, external_registry_seq: null, image_name: null, tag_name: null, autotag_use: 0, autotag_prefix: null, autotag_seq_type: null, build_server_host: null, build_server_tls_verify: 0, secrets: '{}', next_build_no: 1, created_at: now, updated_at: now }).execute();
  });
  afterAll(async () => {
    await store.close();
    if (dialect === 'postgres') {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop schema if exists ${pgSchema} cascade`);
      await c.end();
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const newRun = async () => {
    const r = await store.db.insertInto('build_runs').values({ build_id: 1, build_no: ++runId, run_type: 'BUILD', state: 'RUNNING', description: null, tag_name: null, callback_url: null, callback_status: null, image_url: null, image_size: null, image_digest: null, trigger: 'API', triggered_by: null, source_revision: null, error_message: null, begin_time: null, end_time: null, created_at: Date.now(), last_seq: 0 }).returning('id').executeTakeFirstOrThrow();
    return Number(r.id);
  };
  const stored = (run: number) => store.db.selectFrom('log_lines').selectAll().where('run_id', '=', run).orderBy('seq').execute();
  /** Stored lines with their pieces joined back (what the text download does). */
  const joined = (rows: Array<{ text: string; continued: number }>) => rows.reduce<string[]>((acc, r) => {
    if (Number(r.continued) === 1) acc[acc.length - 1] += r.text; else acc.push(r.text);
    return acc;
  }, []);
  /** Runs a shell command with its output going through the writer, as a SHELL step's does. */
  const capture = async (w: LogWriter, command: string) => {
    const res = await runProcess('/bin/sh', ['-c', command], { cwd: dir, signal: new AbortController().signal, onLine: (stream, text, partial) => w.line(1, stream, text, partial) });
    w.stepEnded(1);
    await w.close();
    expect(res.exitCode).toBe(0);
  };

  it('cuts long lines into byte-bounded pieces marked continued, masks secrets, caps a step with a marker and reports dropped lines', async () => {
    const run = await newRun();
    const committed: LogLineData[] = [];
    const w = new LogWriter(store, run, 0, { maxLineBytes: 10, maxBytesPerStep: 60, secrets: ['hunter2'] }, (l) => committed.push(...l));
    w.line(7, 'STDOUT', 'abcdefghijKLMNOPQRSTuv');
    w.line(7, 'STDERR', 'pw=hunter2');
    for (let i = 0; i < 20; i++) w.line(7, 'STDOUT', `x${i}`);
    w.stepEnded(7);
    await w.close();
    const rows = await stored(run);
    expect(rows.slice(0, 4).map((r) => [r.text, Number(r.continued)])).toEqual([['abcdefghij', 0], ['KLMNOPQRST', 1], ['uv', 1], ['pw=***', 0]]);
    expect(rows.some((r) => r.stream === 'SYSTEM' && /passed 60 bytes/.test(r.text))).toBe(true);
    expect(rows[rows.length - 1]!.text).toMatch(/lines of this step were not stored/);
    expect(rows.map((r) => Number(r.seq))).toEqual(rows.map((_r, i) => i + 1));
    expect(committed.map((l) => l.seq)).toEqual(rows.map((r) => Number(r.seq)));
    expect(committed.slice(0, 3).map((l) => l.continued)).toEqual([false, true, true]);
    const last = await store.db.selectFrom('build_runs').select('last_seq').where('id', '=', run).executeTakeFirstOrThrow();
    expect(Number(last.last_seq)).toBe(rows.length);
  });

  it('cuts between UTF-8 characters: an emoji on a cut stays whole', async () => {
    const run = await newRun();
    const w = new LogWriter(store, run, 0, { maxLineBytes: 10, maxBytesPerStep: 1e6, secrets: [] });
    w.line(1, 'STDOUT', 'abcdefgh😀xyzé€');
    await w.close();
    const rows = await stored(run);
    expect(rows.map((r) => r.text)).toEqual(['abcdefgh', '😀xyzé', '€']);
    for (const r of rows) expect(Buffer.byteLength(r.text)).toBeLessThanOrEqual(10);
    expect(rows.map((r) => r.text).join('')).not.toContain('\uFFFD');
  });

  it('stores a line longer than the reader holds (no newline at all) in pieces that join back exactly, emoji and secrets across every cut intact', async () => {
    const run = await newRun();
    // An emoji across the reader's first cut; a secret across both a writer's cut (maxLineBytes
    // 65,534: the second at 131,068) and the reader's second cut (131,072).
    const emoji = `${'x'.repeat(READ_PIECE_BYTES - 2)}😀${'z'.repeat(100_000)}`;
    const secret = `${'y'.repeat(2 * READ_PIECE_BYTES - 5)}hunter2${'z'.repeat(50_000)}`;
    fs.writeFileSync(path.join(dir, 'long.txt'), `${emoji}\nshort\n${secret}`);
    const w = new LogWriter(store, run, 0, { maxLineBytes: 65_534, maxBytesPerStep: 1e9, secrets: ['hunter2'] });
    await capture(w, 'cat long.txt');
    const rows = await stored(run);
    expect(joined(rows)).toEqual([emoji, 'short', secret.replace('hunter2', '***')]);
    for (const r of rows) expect(Buffer.byteLength(r.text)).toBeLessThanOrEqual(65_534);
    expect(rows.filter((r) => Number(r.continued) === 0).length).toBe(3);
    expect(rows.length).toBeGreaterThan(3);
    expect(rows.map((r) => r.text).join('')).not.toContain('\uFFFD');
  });

  it('stores NUL as U+2400 and invalid UTF-8 as U+FFFD, the same on SQLite and PostgreSQL', async () => {
    const run = await newRun();
    const w = new LogWriter(store, run, 0, { maxLineBytes: 65536, maxBytesPerStep: 1e9, secrets: [] });
    // \377\376: no UTF-8; \342\202: a character cut short; then a lone UTF-16 surrogate from a step's own message.
    await capture(w, "printf 'a\\0b\\n\\377\\376x\\n\\342\\202y\\n'; seq 100");
    const w2 = new LogWriter(store, run, w.lastSeq, { maxLineBytes: 65536, maxBytesPerStep: 1e9, secrets: [] });
    w2.line(null, 'SYSTEM', 'half \uD83D pair');
    await w2.close();
    const rows = await stored(run);
    expect(rows.map((r) => r.text)).toEqual([`a${NUL_STANDIN}b`, '\uFFFD\uFFFDx', '\uFFFDy', ...Array.from({ length: 100 }, (_v, i) => String(i + 1)), 'half \uFFFD pair']);
  });

  it('ends lines at \\n, \\r\\n and a lone \\r (progress redraws), without empty lines from \\r', async () => {
    const run = await newRun();
    const w = new LogWriter(store, run, 0, { maxLineBytes: 65536, maxBytesPerStep: 1e9, secrets: [] });
    await capture(w, "printf 'a\\r\\nb\\rc\\r\\r\\n\\nd\\r'; printf '\\n10%%\\r20%%\\r'; sleep 0.05; printf '\\ndone\\n'; printf 'tail'");
    expect((await stored(run)).map((r) => r.text)).toEqual(['a', 'b', 'c', '', 'd', '10%', '20%', 'done', 'tail']);
  });

  it('writes a batch the store refused once on the next attempt: nothing lost, no error', async () => {
    const run = await newRun();
    // The first row the store sees after this fails, with a real database error.
    if (dialect === 'sqlite') {
      let calls = 0;
      store.sqlite!.function('fail_once', () => (++calls === 1 ? 1 : 0));
      await sql`create trigger fail_once before insert on log_lines when fail_once() = 1
        begin select raise(abort, 'refused once by the test trigger'); end`.execute(store.db);
    } else {
      await sql`create sequence fail_once`.execute(store.db);
      await sql`create function fail_once() returns trigger language plpgsql as $$
        begin if nextval('fail_once') = 1 then raise exception 'refused once by the test trigger'; end if; return new; end $$`.execute(store.db);
      await sql`create trigger fail_once before insert on log_lines for each row execute function fail_once()`.execute(store.db);
    }
    try {
      const w = new LogWriter(store, run, 0, { maxLineBytes: 100, maxBytesPerStep: 1e6, secrets: [], retryDelaysMs: [20] });
      for (let i = 1; i <= 10; i++) w.line(null, 'STDOUT', `line ${i}`);
      await w.close();
      expect(w.storageError).toBeNull();
      expect((await stored(run)).map((r) => [Number(r.seq), r.text])).toEqual(Array.from({ length: 10 }, (_v, i) => [i + 1, `line ${i + 1}`]));
    } finally {
      await sql`drop trigger fail_once${sql.raw(dialect === 'postgres' ? ' on log_lines' : '')}`.execute(store.db);
    }
  });

  it('continues numbering after the stored last_seq (a restarted writer never reuses a seq)', async () => {
    const run = await newRun();
    const a = new LogWriter(store, run, 0, { maxLineBytes: 100, maxBytesPerStep: 1e6, secrets: [] });
    a.line(null, 'STDOUT', 'one');
    a.line(null, 'STDOUT', 'two');
    await a.close();
    const b = new LogWriter(store, run, a.lastSeq, { maxLineBytes: 100, maxBytesPerStep: 1e6, secrets: [] });
    b.line(null, 'STDOUT', 'three');
    await b.close();
    expect((await stored(run)).map((r) => [Number(r.seq), r.text])).toEqual([[1, 'one'], [2, 'two'], [3, 'three']]);
  });

  it('pauses a fast producer when storage is behind (bounded buffer) and still stores every line', async () => {
    const run = await newRun();
    const w = new LogWriter(store, run, 0, { maxLineBytes: 100, maxBytesPerStep: 1e9, secrets: [], highWater: 1000, maxBatch: 500 });
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

describe.each(['sqlite', 'postgres'] as const)('run logs through a gateway (%s)', (database) => {
  let gw: TestGateway;
  beforeAll(async () => { gw = await startGateway({ database, config: { engine: { maxConcurrentRuns: 1 } } }); });
  afterAll(async () => { await gw?.close(); });

  const runShell = async (command: string) => {
    const b = await gw.gql(CreateBuildDocument, { build: { name: `logs-${Math.random()}`, steps: [{ stepOrder: 1, stepType: 'SHELL', shell: { command } }] } });
    expect(b.errors).toBeUndefined();
    const r = await gw.gql(`mutation($id: ID!) { runBuild(input: { buildId: $id }) { run { id } } }`, { id: b.data!.createBuild.build!.id });
    const id = (r.data as { runBuild: { run: { id: string } } }).runBuild.run.id;
    for (let i = 0; i < 600; i++) {
      const p = await gw.gql(RunPageDocument, { id, logLines: 5000 });
      if (['DONE', 'ERROR', 'CANCELED'].includes(p.data!.run!.state)) return p.data!.run!;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error('run did not end');
  };

  it("stores a whole log with a NUL byte in it (PostgreSQL refused the step's log before)", async () => {
    const run = await runShell("printf 'a\\0b\\n'; seq 100");
    expect([run.state, run.errorMessage]).toEqual(['DONE', null]);
    const out = run.log.lines.filter((l) => l.source === 'STDOUT').map((l) => l.text);
    expect(out).toEqual([`a${NUL_STANDIN}b`, ...Array.from({ length: 100 }, (_v, i) => String(i + 1))]);
  });

  it('a run whose log lines the store refuses ends ERROR with the reason, and the log says lines are missing', async () => {
    await refuseMarkedLines(gw.server.store);
    const run = await runShell('echo before; echo refuse-me; echo after');
    expect(run.state).toBe('ERROR');
    expect(run.errorMessage).toMatch(/^log storage failed: \d+ log lines could not be stored: .*line refused by the test trigger/);
    expect(run.log.lines.some((l) => /log lines could not be stored/.test(l.text))).toBe(true);
    expect(run.log.lines.map((l) => l.seq)).toEqual(run.log.lines.map((_l, i) => i + 1));
  }, 30_000);

  it('serves long lines as continued pieces in GraphQL and joined back in the text download', async () => {
    const run = await runShell("head -c 150000 /dev/zero | tr '\\0' x; echo; echo end");
    expect(run.state).toBe('DONE');
    const out = run.log.lines.filter((l) => l.source === 'STDOUT');
    expect(out.map((l) => [l.text.length, l.continued])).toEqual([[65536, false], [65536, true], [150000 - 2 * 65536, true], [3, false]]);
    const txt = await (await fetch(gw.url.replace(/\/graphql$/, '') + run.logUrl)).text();
    expect(txt.split('\n')).toContain('x'.repeat(150000));
    expect(txt.split('\n').slice(0, -1)).toEqual(run.log.lines.reduce<string[]>((acc, l) => (l.continued ? (acc[acc.length - 1] += l.text) : acc.push(l.text), acc), []));
    expect(txt.endsWith('end\n') || txt.includes('end\n')).toBe(true);
  });
});
