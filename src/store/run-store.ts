import { type Insertable, type Kysely, type Selectable } from 'kysely';
import type { BuildRunTable, Database, ImageTagTable, PreparedRead, StepRunTable, Store } from './db.js';
import type {
  BuildRecordData, BuildStepData, ImageTagData, ImageTagSort, LogLineData, LogSource, Page, PageArgs, RunData, RunState, RunType, SortOrder, StepConfig, StepRunData, StepState,
} from '../model.js';
import { CALLBACK_URL_CONTEXT, sealCallbackUrl, type SecretBox } from './crypto.js';
import { splitStepSecrets } from './step-secrets.js';
import { lazy } from './lazy.js';

const date = (v: number | null) => (v === null || v === undefined ? null : new Date(Number(v)));

function toRun(r: Selectable<BuildRunTable>, box: SecretBox): RunData {
  return {
    key: String(r.id), buildKey: String(r.build_id), buildNo: r.build_no, runType: r.run_type as RunType,
    state: r.state as RunState, rawState: r.state, description: r.description, tagName: r.tag_name,
    callbackUrl: r.callback_url === null ? null : box.open(r.callback_url, CALLBACK_URL_CONTEXT), imageUrl: r.image_url, imageSize: r.image_size === null ? null : Number(r.image_size),
    imageDigest: r.image_digest, trigger: r.trigger, triggeredBy: r.triggered_by, sourceRevision: r.source_revision,
    errorMessage: r.error_message, beginTime: date(r.begin_time), endTime: date(r.end_time), createdAt: date(r.created_at),
    details: { lastSeq: Number(r.last_seq), callbackStatus: r.callback_status },
  };
}

export function toStepRun(s: Selectable<StepRunTable>): StepRunData {
  return lazy({
    key: String(s.id), runKey: String(s.run_id), buildStepKey: s.build_step_id === null ? null : String(s.build_step_id),
    stepType: s.step_type, stepOrder: s.step_order, title: s.title, state: s.state as StepState, rawState: s.state,
    beginTime: date(s.begin_time), endTime: date(s.end_time), errorMessage: s.error_message, useFlag: s.use_flag === 1,
  }, 'config', () => JSON.parse(s.config) as StepConfig);
}

function toTag(t: Selectable<ImageTagTable>, runDesc: string | null): ImageTagData {
  return {
    key: String(t.id), buildKey: String(t.build_id), runKey: t.run_id === null ? null : String(t.run_id), tag: t.tag,
    imageName: t.image_name, imageUrl: t.image_url, registryImagePath: t.registry_image_path, registryName: t.registry_name,
    digest: t.digest, size: t.size === null ? null : Number(t.size), beginTime: date(t.begin_time), endTime: date(t.end_time),
    runDescription: runDesc,
  };
}

const id = (key: string) => {
  const n = Number(key);
  return Number.isSafeInteger(n) && n > 0 ? n : -1;
};

/** What the engine changes on a run row (state transitions, results). */
export type RunPatch = Partial<Pick<BuildRunTable,
  'begin_time' | 'end_time' | 'error_message' | 'source_revision' | 'image_url' | 'image_size' | 'image_digest' | 'callback_status'>> & { state?: RunState };
/** What the engine changes on a step run row. */
export type StepRunPatch = Partial<Pick<StepRunTable, 'begin_time' | 'end_time' | 'error_message'>> & { state?: StepState };
/** A new run as the engine creates it; the build number is taken from the build's counter. */
export type NewRun = Omit<Insertable<BuildRunTable>, 'id' | 'build_id' | 'build_no' | 'tag_name' | 'state' | 'last_seq'> & { state: RunState };

/** Keys as store ids; a key that is no id matches nothing. */
export const ids = (keys: readonly string[]) => keys.map(id);

/** Groups rows by a numeric column, in the order of `keys`. */
export function byKey<R>(keys: readonly string[], rows: R[], col: (r: R) => number | string): R[][] {
  const groups = new Map<string, R[]>();
  for (const r of rows) {
    const k = String(col(r));
    let g = groups.get(k);
    if (!g) groups.set(k, g = []);
    g.push(r);
  }
  return keys.map((k) => groups.get(String(id(k))) ?? []);
}

/*
 * Batch reads: one statement per level whatever the number of keys (`{ids:N}` takes them
 * all), each an index seek per key; texts are constant, so each is prepared once.
 */
const RUNS_BY_ID: PreparedRead = { name: 'bg_runs_by_id', text: 'select * from build_runs where id in (select id from {ids:1} k)' };
const LATEST_RUNS: PreparedRead = {
  name: 'bg_latest_runs',
  text: `select r.* from {ids:1} b join build_runs r on r.id = (select x.id from build_runs x where x.build_id = b.id and x.run_type = 'BUILD' order by x.id desc limit 1)`,
};
/** A page of each build's runs, newest first (backward: oldest first); $2 limit, $3 offset, $4 start after this run id (null: from the start). */
const runPages = (backward: boolean): PreparedRead => ({
  name: `bg_run_pages_${backward ? 'asc' : 'desc'}`,
  text: `select r.* from {ids:1} b join build_runs r on r.id in (select x.id from build_runs x where x.build_id = b.id
    and ($4::bigint is null or x.id ${backward ? '>' : '<'} $4::bigint) order by x.id ${backward ? 'asc' : 'desc'} limit $2 offset $3)
    order by r.build_id, r.id ${backward ? 'asc' : 'desc'}`,
});
const RUN_PAGES = { desc: runPages(false), asc: runPages(true) };
const RUN_COUNTS: PreparedRead = {
  name: 'bg_run_counts',
  text: 'select build_id, count(*) as n from build_runs where build_id in (select id from {ids:1} k) group by build_id',
};
const STEP_RUNS_OF_RUNS: PreparedRead = {
  name: 'bg_step_runs_of_runs',
  text: 'select * from step_runs where run_id in (select id from {ids:1} k) order by run_id, step_order, id',
};

/** Image tags sort on a value that is never null (absent sizes and times first), so keyset and order agree on both dialects. */
const TAG_SORT: Record<ImageTagSort, { expr: (t: string) => string; type: 'text' | 'bigint' }> = {
  TAG: { expr: (t) => `${t}.tag collate "C"`, type: 'text' },
  IMAGE_SIZE: { expr: (t) => `coalesce(${t}.size, -1)`, type: 'bigint' },
  END_TIME: { expr: (t) => `coalesce(${t}.end_time, -1)`, type: 'bigint' },
};
/** A page of each build's image tags; $2 limit, $3 offset, $4 + $5 start after [sort value, id]. */
const tagPages = (sort: ImageTagSort, order: SortOrder): PreparedRead => {
  const { expr, type } = TAG_SORT[sort];
  const dir = order === 'ASC' ? 'asc' : 'desc';
  return {
    name: `bg_tag_pages_${sort}_${dir}`.toLowerCase(),
    text: `select t.*, r.description as run_desc, ${expr('t')} as sort_value from {ids:1} b
      join image_tags t on t.id in (select x.id from image_tags x where x.build_id = b.id
        and ($4::${type} is null or (${expr('x')}, x.id) ${dir === 'asc' ? '>' : '<'} ($4::${type}, $5::bigint))
        order by ${expr('x')} ${dir}, x.id ${dir} limit $2 offset $3)
      left join build_runs r on r.id = t.run_id
      order by t.build_id, sort_value ${dir}, t.id ${dir}`,
  };
};
const TAG_PAGES = new Map<string, PreparedRead>();
const TAG_COUNTS: PreparedRead = {
  name: 'bg_tag_counts',
  text: 'select build_id, count(*) as n from image_tags where build_id in (select id from {ids:1} k) group by build_id',
};

/** Runs, step runs, log lines and image tags of the native store: the engine's writes and everyone's reads. */
export class RunStore {
  readonly db: Kysely<Database>;
  constructor(private readonly store: Store, private readonly box: SecretBox) {
    this.db = store.db;
  }

  async getRuns(keys: readonly string[]): Promise<Array<RunData | null>> {
    const rows = await this.store.read<Selectable<BuildRunTable>>(RUNS_BY_ID, [ids(keys)]);
    return byKey(keys, rows, (r) => r.id).map((g) => (g[0] ? toRun(g[0], this.box) : null));
  }

  async latestRuns(buildKeys: readonly string[]): Promise<Array<RunData | null>> {
    const rows = await this.store.read<Selectable<BuildRunTable>>(LATEST_RUNS, [ids(buildKeys)]);
    return byKey(buildKeys, rows, (r) => r.build_id).map((g) => (g[0] ? toRun(g[0], this.box) : null));
  }

  /**
   * The same page of each build's runs in one statement (two with totals). Keyset: `after` is
   * a run id (runs are ordered by id), so a run started or removed meanwhile moves no other.
   */
  async listRunsOfBuilds(buildKeys: readonly string[], page: PageArgs): Promise<Array<Page<RunData>>> {
    const after = page.after == null ? null : id(page.after);
    const [rows, counts] = await Promise.all([
      this.store.read<Selectable<BuildRunTable>>(page.backward ? RUN_PAGES.asc : RUN_PAGES.desc, [ids(buildKeys), page.limit + 1, page.offset, after]),
      page.withTotal === false ? null : this.store.read<{ build_id: number; n: number }>(RUN_COUNTS, [ids(buildKeys)]),
    ]);
    const totals = counts ? new Map(counts.map((c) => [Number(c.build_id), Number(c.n)])) : null;
    return byKey(buildKeys, rows, (r) => r.build_id).map((g, i) => {
      const items = g.slice(0, page.limit).map((r) => toRun(r, this.box));
      return {
        items, hasMore: g.length > page.limit, cursors: items.map((r) => r.key),
        totalCount: totals ? totals.get(id(buildKeys[i]!)) ?? 0 : null,
      };
    });
  }

  /** The same page of each build's image tags: one statement (two with totals); keyset on [sort value, id]. */
  async listImageTagsOfBuilds(buildKeys: readonly string[], args: PageArgs & { sort: ImageTagSort; order: SortOrder }): Promise<Array<Page<ImageTagData>>> {
    const order: SortOrder = args.backward ? (args.order === 'ASC' ? 'DESC' : 'ASC') : args.order;
    const key = `${args.sort}_${order}`;
    let q = TAG_PAGES.get(key);
    if (!q) TAG_PAGES.set(key, q = tagPages(args.sort, order));
    const after = parseTagAfter(args.after, TAG_SORT[args.sort].type);
    const [rows, counts] = await Promise.all([
      this.store.read<Selectable<ImageTagTable> & { run_desc: string | null; sort_value: string | number }>(q,
        [ids(buildKeys), args.limit + 1, args.offset, after?.[0] ?? null, after?.[1] ?? null]),
      args.withTotal === false ? null : this.store.read<{ build_id: number; n: number }>(TAG_COUNTS, [ids(buildKeys)]),
    ]);
    const totals = counts ? new Map(counts.map((c) => [Number(c.build_id), Number(c.n)])) : null;
    return byKey(buildKeys, rows, (r) => r.build_id).map((g, i) => {
      const page = g.slice(0, args.limit);
      return {
        items: page.map((r) => toTag(r, r.run_desc)), hasMore: g.length > args.limit,
        cursors: page.map((r) => JSON.stringify([TAG_SORT[args.sort].type === 'text' ? String(r.sort_value) : Number(r.sort_value), Number(r.id)])),
        totalCount: totals ? totals.get(id(buildKeys[i]!)) ?? 0 : null,
      };
    });
  }

  async listStepRunsOfRuns(runKeys: readonly string[]): Promise<StepRunData[][]> {
    const rows = await this.store.read<Selectable<StepRunTable>>(STEP_RUNS_OF_RUNS, [ids(runKeys)]);
    return byKey(runKeys, rows, (r) => r.run_id).map((g) => g.map(toStepRun));
  }

  /**
   * Creates a run (with the next build number of its build) and its step runs in one
   * transaction: WAIT, or SKIPPED for disabled steps. `tagFor` picks the tag once the number is known.
   */
  async createRun(buildKey: string, run: NewRun, steps: BuildStepData[], tagFor: (buildNo: number) => string | null): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const b = await trx.updateTable('builds').set((eb) => ({ next_build_no: eb('next_build_no', '+', 1) }))
        .where('id', '=', id(buildKey)).returning('next_build_no').executeTakeFirstOrThrow();
      const buildNo = Number(b.next_build_no) - 1;
      const row = await trx.insertInto('build_runs').values({
        ...run, callback_url: sealCallbackUrl(this.box, run.callback_url), build_id: id(buildKey), build_no: buildNo, tag_name: tagFor(buildNo), last_seq: 0,
      }).returning('id').executeTakeFirstOrThrow();
      for (const s of steps) {
        await trx.insertInto('step_runs').values({
          run_id: Number(row.id), build_step_id: Number(s.key), step_order: s.stepOrder, step_type: s.stepType,
          title: s.config.stepTitle ?? null, state: s.useFlag ? 'WAIT' : 'SKIPPED', use_flag: s.useFlag ? 1 : 0,
          config: JSON.stringify(splitStepSecrets(s.config).publicConfig), begin_time: null, end_time: null, error_message: null,
        }).execute();
      }
      return Number(row.id);
    });
  }

  async updateRun(runRowId: number, patch: RunPatch): Promise<void> {
    await this.db.updateTable('build_runs').set(patch).where('id', '=', runRowId).execute();
  }

  /** Moves a run from `from` to the patch's state only if it is still in `from`; false when another writer won. */
  async updateRunIfState(runRowId: number, from: RunState, patch: RunPatch): Promise<boolean> {
    const res = await this.db.updateTable('build_runs').set(patch).where('id', '=', runRowId).where('state', '=', from).executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async updateStepRun(stepId: number, patch: StepRunPatch): Promise<void> {
    await this.db.updateTable('step_runs').set(patch).where('id', '=', stepId).execute();
  }

  /**
   * Ends a run that is still QUEUED or RUNNING with one last log line, in one transaction:
   * the conditional update claims the end (of several gateways and agents noticing a lost run
   * at once, one wins) and the line is stored before the end state can be read. Returns the
   * line's seq, or null when the run had already ended.
   */
  async endUnlessEnded(runRowId: number, state: 'ERROR' | 'CANCELED', line: string, reason: string, now: number): Promise<number | null> {
    return this.db.transaction().execute(async (trx) => {
      const claimed = await trx.updateTable('build_runs').set((eb) => ({ state, end_time: now, error_message: reason, last_seq: eb('last_seq', '+', 1) }))
        .where('id', '=', runRowId).where('state', 'in', ['QUEUED', 'RUNNING']).returning('last_seq').executeTakeFirst();
      if (!claimed) return null;
      const seq = Number(claimed.last_seq);
      await trx.insertInto('log_lines').values({ run_id: runRowId, seq, step_run_id: null, stream: 'SYSTEM', time: now, text: line, continued: 0 }).execute();
      await trx.updateTable('step_runs').set({ state, end_time: now, error_message: reason }).where('run_id', '=', runRowId).where('state', '=', 'RUNNING').execute();
      await trx.updateTable('step_runs').set({ state: state === 'CANCELED' ? 'CANCELED' : 'SKIPPED' }).where('run_id', '=', runRowId).where('state', '=', 'WAIT').execute();
      return seq;
    });
  }

  /** Sets every step run of a run that is in state `from`. */
  async updateStepRunsInState(runRowId: number, from: StepState, patch: StepRunPatch): Promise<void> {
    await this.db.updateTable('step_runs').set(patch).where('run_id', '=', runRowId).where('state', '=', from).execute();
  }

  async addImageTag(tag: Omit<Insertable<ImageTagTable>, 'id'>): Promise<void> {
    await this.db.insertInto('image_tags').values(tag).execute();
  }

  async imageTagsOfRun(runRowId: number): Promise<Array<Selectable<ImageTagTable>>> {
    return this.db.selectFrom('image_tags').selectAll().where('run_id', '=', runRowId).execute();
  }

  /** Records of the same tag pushed after `tag` (same repository path) by other runs, newest first. */
  async laterPushesOfTag(tag: Pick<Selectable<ImageTagTable>, 'id' | 'tag' | 'registry_image_path'>, exceptRunId: number): Promise<Array<{ run_id: number | null; image_url: string | null }>> {
    return this.db.selectFrom('image_tags').select(['run_id', 'image_url'])
      .where('tag', '=', tag.tag).where('registry_image_path', '=', tag.registry_image_path ?? '').where('id', '>', tag.id)
      .where((eb) => eb.or([eb('run_id', 'is', null), eb('run_id', '!=', exceptRunId)])).orderBy('id', 'desc').execute();
  }

  /** Deletes a run with its log lines, step runs and image tag records. */
  async deleteRun(runRowId: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('log_lines').where('run_id', '=', runRowId).execute();
      await trx.deleteFrom('step_runs').where('run_id', '=', runRowId).execute();
      await trx.deleteFrom('image_tags').where('run_id', '=', runRowId).execute();
      await trx.deleteFrom('build_runs').where('id', '=', runRowId).execute();
    });
  }

  async getRun(key: string): Promise<RunData | null> {
    return (await this.getRuns([key]))[0]!;
  }

  async listRuns(buildKey: string, page: PageArgs): Promise<Page<RunData>> {
    return (await this.listRunsOfBuilds([buildKey], page))[0]!;
  }

  async latestRun(buildKey: string): Promise<RunData | null> {
    return (await this.latestRuns([buildKey]))[0]!;
  }

  async runsInState(states: RunState[]): Promise<RunData[]> {
    const rows = await this.db.selectFrom('build_runs').selectAll().where('state', 'in', states).orderBy('id').execute();
    return rows.map((r) => toRun(r, this.box));
  }

  /** Ended runs whose callbackStatus starts with `prefix` (callbacks a stopped process was still trying). */
  async endedRunsWithCallbackStatus(prefix: string): Promise<RunData[]> {
    const rows = await this.db.selectFrom('build_runs').selectAll().where('callback_status', 'like', `${prefix}%`)
      .where('state', 'in', ['DONE', 'ERROR', 'CANCELED']).orderBy('id').execute();
    return rows.map((r) => toRun(r, this.box));
  }

  async listStepRuns(runKey: string): Promise<StepRunData[]> {
    return (await this.listStepRunsOfRuns([runKey]))[0]!;
  }

  async getStepRun(key: string): Promise<StepRunData | null> {
    const r = await this.db.selectFrom('step_runs').selectAll().where('id', '=', id(key)).executeTakeFirst();
    return r ? toStepRun(r) : null;
  }

  /** Lines after `afterSeq` in order, or the last `limit` lines (`tail`). */
  async getLogs(runKey: string, args: { stepRunKey?: string | null; afterSeq?: number | null; limit: number; tail?: boolean }) {
    const runRowId = id(runKey);
    let q = this.db.selectFrom('log_lines').where('run_id', '=', runRowId);
    if (args.stepRunKey) q = q.where('step_run_id', '=', id(args.stepRunKey));
    if (args.afterSeq) q = q.where('seq', '>', args.afterSeq);
    const rows = args.tail
      ? (await q.selectAll().orderBy('seq', 'desc').limit(args.limit + 1).execute()).reverse()
      : await q.selectAll().orderBy('seq', 'asc').limit(args.limit + 1).execute();
    const run = await this.db.selectFrom('build_runs').select('last_seq').where('id', '=', runRowId).executeTakeFirst();
    const hasMore = rows.length > args.limit;
    const page = args.tail ? rows.slice(hasMore ? 1 : 0) : rows.slice(0, args.limit);
    const lines: LogLineData[] = page.map((l) => ({
      seq: Number(l.seq), stepRunKey: l.step_run_id === null ? null : String(l.step_run_id), source: l.stream as LogSource,
      time: new Date(Number(l.time)), text: l.text, continued: Number(l.continued) === 1,
    }));
    return { lines, lastSeq: Number(run?.last_seq ?? 0), hasMore: args.tail ? false : hasMore };
  }

  async listImageTags(buildKey: string, args: PageArgs & { sort: ImageTagSort; order: SortOrder }): Promise<Page<ImageTagData>> {
    return (await this.listImageTagsOfBuilds([buildKey], args))[0]!;
  }

  async getImageTag(key: string): Promise<ImageTagData | null> {
    const r = await this.db.selectFrom('image_tags').leftJoin('build_runs', 'build_runs.id', 'image_tags.run_id')
      .selectAll('image_tags').select('build_runs.description as run_desc').where('image_tags.id', '=', id(key)).executeTakeFirst();
    return r ? toTag(r, r.run_desc) : null;
  }

  /** The native BuildRecord is derived from the run and its CODE_DOWN step. */
  async getBuildRecord(runKey: string): Promise<BuildRecordData | null> {
    const run = await this.getRun(runKey);
    if (!run) return null;
    const steps = await this.listStepRuns(runKey);
    const code = steps.find((s) => s.config?.stepType === 'CODE_DOWN')?.config;
    const repo = code?.stepType === 'CODE_DOWN' ? code : null;
    return {
      key: run.key, runKey: run.key, buildKey: run.buildKey, buildNo: run.buildNo, status: run.rawState, state: run.state,
      triggerType: run.trigger ?? null, triggeredBy: run.triggeredBy ?? null, repository: repo?.repositoryUrl ?? null,
      branch: repo?.branchName ?? null, commit: run.sourceRevision ?? null, createTime: run.createdAt ?? null,
      queuedTime: run.createdAt ?? null, startTime: run.beginTime, finishTime: run.endTime,
      durationMs: run.beginTime && run.endTime ? run.endTime.getTime() - run.beginTime.getTime() : null,
      errorMessage: run.errorMessage ?? null,
    };
  }
}

function parseTagAfter(after: string | null | undefined, type: 'text' | 'bigint'): [string | number, number] | null {
  if (!after) return null;
  try {
    const v = JSON.parse(after) as unknown;
    if (!Array.isArray(v) || v.length !== 2 || !Number.isSafeInteger(v[1]) || typeof v[0] !== (type === 'text' ? 'string' : 'number')) return null;
    return [v[0] as string | number, v[1] as number];
  } catch {
    return null;
  }
}
