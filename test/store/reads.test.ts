import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BuildStore } from '../../src/store/build-store.js';
import { SecretBox } from '../../src/store/crypto.js';
import type { Insertable } from 'kysely';
import { openStore, type BuildRunTable, type Store } from '../../src/store/db.js';
import { migrateToLatest } from '../../src/store/migrations.js';
import { RunStore } from '../../src/store/run-store.js';
import { PG_URL } from '../support/gateway.js';

/** A store of its own: a fresh SQLite file or a fresh PostgreSQL schema. */
async function freshStore(database: 'sqlite' | 'postgres'): Promise<{ store: Store; drop(): Promise<void> }> {
  if (database === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-store-'));
    const store = openStore(`sqlite:${path.join(dir, 'b.db')}`);
    await migrateToLatest(store.db, store.dialect);
    return { store, drop: async () => { await store.close(); fs.rmSync(dir, { recursive: true, force: true }); } };
  }
  const schema = `bg_store_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`create schema ${schema}`);
  await c.end();
  const store = openStore(PG_URL, { pgSchema: schema });
  await migrateToLatest(store.db, store.dialect);
  return {
    store,
    drop: async () => {
      await store.close();
      const d = new pg.Client({ connectionString: PG_URL });
      await d.connect();
      await d.query(`drop schema if exists ${schema} cascade`);
      await d.end();
    },
  };
}

const STATES = ['DONE', 'ERROR', 'RUNNING', 'CANCELED', 'QUEUED'] as const;

describe.each(['sqlite', 'postgres'] as const)('native store batch reads (%s)', (database) => {
  let s: { store: Store; drop(): Promise<void> };
  let builds: BuildStore;
  let runs: RunStore;
  beforeAll(async () => {
    s = await freshStore(database);
    const box = new SecretBox(Buffer.alloc(32, 7));
    builds = new BuildStore(s.store, box);
    runs = new RunStore(s.store, box);
  });
  afterAll(async () => { await s?.drop(); });

  it('statistics of a build with thousands of runs equal a brute-force computation over its rows', async () => {
    const [big, small, empty] = await Promise.all(['big', 'small', 'empty'].map((name) => builds.create({ name, steps: [] })));
    // Deterministic pseudo-random runs: states, times and sizes, some without times or sizes.
    let seed = 7;
    const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
    const rows: Array<Insertable<BuildRunTable> & { build_id: number; state: string; begin_time: number | null; end_time: number | null; image_size: number | null }> = [];
    for (let i = 0; i < 3000; i++) {
      const buildId = i % 10 === 0 ? Number(small!.key) : Number(big!.key);
      const state = STATES[Math.floor(rnd() * STATES.length)]!;
      const begin = rnd() < 0.9 ? 1_700_000_000_000 + i * 60_000 : null;
      const end = begin !== null && rnd() < 0.9 ? begin + Math.floor(rnd() * 600_000) : null;
      rows.push({
        build_id: buildId, build_no: i + 1, run_type: 'BUILD', state, description: null, tag_name: null, callback_url: null, callback_status: null,
        image_url: null, image_size: rnd() < 0.8 ? Math.floor(rnd() * 1e9) : null, image_digest: null, trigger: 'API', triggered_by: null,
        source_revision: null, error_message: null, begin_time: begin, end_time: end, created_at: 1_700_000_000_000 + i, last_seq: 0,
      });
    }
    for (let i = 0; i < rows.length; i += 500) await s.store.db.insertInto('build_runs').values(rows.slice(i, i + 500)).execute();
    await s.store.db.insertInto('image_tags').values(Array.from({ length: 37 }, (_v, i) => ({
      build_id: Number(big!.key), run_id: null, tag: `t${i}`, image_name: null, image_url: null, registry_image_path: null, registry_name: null,
      digest: null, size: i, begin_time: null, end_time: i % 3 ? i : null,
    }))).execute();

    const brute = (buildId: number) => {
      const mine = rows.filter((r) => r.build_id === buildId);
      const done = mine.filter((r) => r.state === 'DONE');
      const timed = done.filter((r) => r.begin_time !== null && r.end_time !== null);
      const sized = done.filter((r) => r.image_size !== null);
      const latest = mine[mine.length - 1];
      const avg = (xs: number[]) => (xs.length ? Math.round(xs.reduce((a, b) => a + b, 0) / xs.length) : null);
      return {
        buildCount: mine.length, runningCount: mine.filter((r) => r.state === 'RUNNING').length, doneCount: done.length,
        errorCount: mine.filter((r) => r.state === 'ERROR').length, tagCount: buildId === Number(big!.key) ? 37 : 0,
        buildTimeAvg: avg(timed.map((r) => (r.end_time! - r.begin_time!) / 1000)), imgSizeAvg: avg(sized.map((r) => r.image_size!)),
        latestBuildTime: latest?.begin_time && latest.end_time ? Math.round((latest.end_time - latest.begin_time) / 1000) : null,
        latestImgSize: latest?.image_size ?? null, latestExecTime: latest?.begin_time ? new Date(latest.begin_time) : null,
      };
    };
    const before = s.store.statements.count;
    const stats = await builds.statsOfBuilds([big!.key, small!.key, empty!.key, 'nope']);
    expect(s.store.statements.count - before).toBe(1);
    expect(stats[0]).toEqual(brute(Number(big!.key)));
    expect(stats[1]).toEqual(brute(Number(small!.key)));
    expect(stats[2]).toMatchObject({ buildCount: 0, tagCount: 0, buildTimeAvg: null, latestExecTime: null });
    expect(stats[3]).toMatchObject({ buildCount: 0 });
    expect(await builds.stats(big!.key)).toEqual(stats[0]);

    // Pages of runs of many builds: one statement (two with totals), newest first, keyset after a run id.
    const c0 = s.store.statements.count;
    const pages = await runs.listRunsOfBuilds([big!.key, small!.key, empty!.key], { offset: 0, limit: 3, withTotal: false });
    expect(s.store.statements.count - c0).toBe(1);
    const bigIds = rows.map((r, i) => ({ r, id: i + 1 })).filter((x) => x.r.build_id === Number(big!.key)).map((x) => x.id).reverse();
    expect(pages[0]!.items.map((r) => Number(r.key))).toEqual(bigIds.slice(0, 3));
    expect(pages[0]!.hasMore).toBe(true);
    expect(pages[0]!.totalCount).toBeNull();
    expect(pages[2]).toMatchObject({ items: [], hasMore: false });
    const next = await runs.listRunsOfBuilds([big!.key], { offset: 0, limit: 3, after: pages[0]!.cursors![2], withTotal: true });
    expect(next[0]!.items.map((r) => Number(r.key))).toEqual(bigIds.slice(3, 6));
    expect(next[0]!.totalCount).toBe(bigIds.length);
    const latest = await runs.latestRuns([big!.key, small!.key, empty!.key]);
    expect(latest.map((r) => r && Number(r.key))).toEqual([bigIds[0], 2991, null]);

    // Image tags: keyset on [sort value, id], one statement for many builds.
    const tags1 = await runs.listImageTagsOfBuilds([big!.key, small!.key], { offset: 0, limit: 20, sort: 'END_TIME', order: 'DESC', withTotal: true });
    const tags2 = await runs.listImageTagsOfBuilds([big!.key], { offset: 0, limit: 20, sort: 'END_TIME', order: 'DESC', after: tags1[0]!.cursors![19] });
    const all = [...tags1[0]!.items, ...tags2[0]!.items].map((t) => t.tag);
    expect(new Set(all).size).toBe(37);
    expect(tags1[0]!.totalCount).toBe(37);
    expect(tags1[1]!.items).toEqual([]);
  });

  it('reads builds, runs and step runs of many keys with one statement per level', async () => {
    const b = await builds.create({ name: 'with-steps', steps: [1, 2, 3].map((n) => ({ stepOrder: n, useFlag: true, config: { stepType: 'SHELL' as const, shellType: 'COMMAND' as const, command: `echo ${n}` } })) });
    const ids = await Promise.all([1, 2].map(() => runs.createRun(b.key, {
      run_type: 'BUILD', state: 'QUEUED', description: null, callback_url: null, callback_status: null, image_url: null, image_size: null, image_digest: null,
      trigger: 'API', triggered_by: null, source_revision: null, error_message: null, begin_time: null, end_time: null, created_at: Date.now(),
    }, b.steps!, () => null)));
    const c0 = s.store.statements.count;
    const got = await builds.getMany([b.key, 'x', '999999']);
    expect(s.store.statements.count - c0).toBe(2);
    expect(got[0]!.steps!.map((st) => st.stepOrder)).toEqual([1, 2, 3]);
    expect(got.slice(1)).toEqual([null, null]);
    const c1 = s.store.statements.count;
    const steps = await runs.listStepRunsOfRuns([String(ids[1]), String(ids[0]), '0']);
    expect(s.store.statements.count - c1).toBe(1);
    expect(steps.map((l) => l.length)).toEqual([3, 3, 0]);
    expect(steps[0]!.every((st) => st.runKey === String(ids[1]))).toBe(true);
  });
});

/**
 * The plans of BuildsList's statements on SQLite (bench/README.md, "At scale"): the name-sorted
 * page is read in index order (no sort of every build), statistics and each build's latest run
 * come from one covering index, seeked without sorting a build's runs.
 */
describe('BuildsList query plans (sqlite)', () => {
  let s: { store: Store; drop(): Promise<void> };
  beforeAll(async () => { s = await freshStore('sqlite'); });
  afterAll(async () => { await s?.drop(); });

  it('page in index order, stats and latest runs from the covering index, no temporary sort', async () => {
    const box = new SecretBox(Buffer.alloc(32, 7));
    const builds = new BuildStore(s.store, box);
    const created = await Promise.all(Array.from({ length: 30 }, (_v, i) => builds.create({ name: `b-${i}`, steps: [] })));
    const insert = s.store.sqlite!.prepare(`insert into build_runs (build_id, build_no, run_type, state, trigger, begin_time, end_time, created_at, last_seq)
      values (?, ?, 'BUILD', 'DONE', 'API', 1, 2, 1, 0)`);
    for (const b of created) for (let n = 1; n <= 20; n++) insert.run(Number(b.key), n);
    s.store.sqlite!.exec('analyze');
    // The statements the store prepares for a page and its statistics, as it runs them.
    const seen = new Map<string, unknown[]>();
    const sqlite = s.store.sqlite!;
    const prepare = sqlite.prepare.bind(sqlite);
    (sqlite as { prepare: unknown }).prepare = (source: string) => {
      const stmt = prepare(source);
      const all = stmt.all.bind(stmt);
      (stmt as { all: unknown }).all = (...params: unknown[]) => { seen.set(source, params); return all(...params); };
      return stmt;
    };
    const page = await builds.list({ offset: 0, limit: 10, sort: 'NAME', order: 'ASC', withTotal: false });
    await builds.statsOfBuilds(page.items.map((b) => b.key));
    const plans = [...seen].map(([source, params]) => ({
      source,
      plan: (prepare(`explain query plan ${source}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail),
    }));
    const list = plans.find((p) => /order by b\.sort_value/.test(p.source))!;
    expect(list.plan).toContain('SCAN b USING INDEX builds_sort_name');
    const stats = plans.find((p) => /as tag_count/.test(p.source))!;
    expect(stats.plan).toContain('SEARCH build_runs USING COVERING INDEX build_runs_stats (build_id=? AND run_type=?)');
    for (const p of plans) expect([p.source, p.plan.filter((d) => d.includes('TEMP B-TREE'))]).toEqual([p.source, []]);
  });
});
