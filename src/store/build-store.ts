import { type Kysely, type Selectable, type Transaction } from 'kysely';
import type { SecretBox } from './crypto.js';
import type { BuildStepTable, BuildTable, Database, PreparedRead, Store } from './db.js';
import type {
  BuildData, BuildInputData, BuildListArgs, BuildSort, BuildStatsData, BuildStepData, Page, SortOrder, StepConfig, StepType,
} from '../model.js';
import { byKey, ids } from './run-store.js';
import { lazy } from './lazy.js';
import { carryOverSecrets, mergeStepSecrets, splitStepSecrets, stepSecretValues, stepTarget, type PreviousStep, type StepSecrets } from './step-secrets.js';

/** Build secrets (TLS material for the build server) kept apart from the row's public columns. */
interface BuildSecrets { buildServerCacrt?: string; buildServerClientCert?: string; buildServerClientKey?: string }
const BUILD_SECRET_KEYS = ['buildServerCacrt', 'buildServerClientCert', 'buildServerClientKey'] as const;

const parseJson = <T>(s: string | null, fallback: T): T => {
  if (!s) return fallback;
  try { return JSON.parse(s) as T; } catch { return fallback; }
};

/** The secrets columns are sealed (src/store/crypto.ts); rows from before encryption are plain JSON. */
const openSecrets = <T>(box: SecretBox, table: 'builds' | 'build_steps', s: string | null, fallback: T): T =>
  parseJson<T>(s === null ? null : box.open(s, `${table}.secrets`), fallback);
const sealSecrets = (box: SecretBox, table: 'builds' | 'build_steps', secrets: object) => box.seal(JSON.stringify(secrets), `${table}.secrets`);
const NO_STEP_SECRETS: StepSecrets = { fields: {}, headers: {} };

function toStep(row: Selectable<BuildStepTable>, box: SecretBox): BuildStepData {
  return lazy({
    key: String(row.id),
    stepType: row.step_type as StepType,
    stepOrder: row.step_order,
    useFlag: row.use_flag === 1,
  }, 'config', () => mergeStepSecrets(parseJson<StepConfig>(row.config, { stepType: row.step_type } as StepConfig), openSecrets<StepSecrets>(box, 'build_steps', row.secrets, NO_STEP_SECRETS)));
}

function toBuild(row: Selectable<BuildTable>, steps: BuildStepData[] | null, box: SecretBox): BuildData {
  // Opened when one of the has* flags is read, once for all three.
  let opened: BuildSecrets | undefined;
  const secret = (k: keyof BuildSecrets) => () => !!(opened ??= openSecrets<BuildSecrets>(box, 'builds', row.secrets, {}))[k];
  const build = {
    key: String(row.id),
    name: row.name,
    description: row.description,
    accountSeq: row.account_seq,
    registryName: row.registry_name,
    registryProjectId: row.registry_project_id,
    externalRegistrySeq: row.external_registry_seq,
    imageName: row.image_name,
    tagName: row.tag_name,
    autotag: { enabled: row.autotag_use === 1, prefix: row.autotag_prefix, seqType: row.autotag_seq_type as 'DATETIME' | 'SEQUENCE' | null },
    buildServerHost: row.build_server_host,
    buildServerTlsVerify: row.build_server_tls_verify === 1,
    steps,
    createdAt: new Date(Number(row.created_at)),
    updatedAt: new Date(Number(row.updated_at)),
  };
  return lazy(lazy(lazy(build, 'hasBuildServerCacrt', secret('buildServerCacrt')),
    'hasBuildServerClientCert', secret('buildServerClientCert')), 'hasBuildServerClientKey', secret('buildServerClientKey'));
}

function buildColumns(input: BuildInputData, previousSecrets: BuildSecrets, box: SecretBox) {
  const secrets: BuildSecrets = { ...previousSecrets };
  for (const k of BUILD_SECRET_KEYS) {
    const v = input[k];
    if (v === undefined) continue; // keep stored value
    if (v === null || v === '') delete secrets[k];
    else secrets[k] = v;
  }
  return {
    name: input.name.trim(),
    description: input.description ?? null,
    account_seq: input.accountSeq ?? null,
    registry_name: input.registryName ?? null,
    registry_project_id: input.registryProjectId ?? null,
    external_registry_seq: input.externalRegistrySeq ?? null,
    image_name: input.imageName ?? null,
    tag_name: input.tagName ?? null,
    autotag_use: input.autotag?.enabled ? 1 : 0,
    autotag_prefix: input.autotag?.prefix ?? null,
    autotag_seq_type: input.autotag?.seqType ?? null,
    build_server_host: input.buildServerHost ?? null,
    build_server_tls_verify: input.buildServerTlsVerify ? 1 : 0,
    secrets: sealSecrets(box, 'builds', secrets),
  };
}

/** The step rows of an input; throws (carryOverSecrets) before anything is written when a stored secret may not be kept. */
function stepRows(input: BuildInputData, previous: Map<string, PreviousStep>, box: SecretBox) {
  return input.steps.map((s, i) => ({
    step_order: s.stepOrder,
    step_type: s.config.stepType,
    use_flag: s.useFlag ? 1 : 0,
    config: JSON.stringify(splitStepSecrets(s.config).publicConfig),
    secrets: sealSecrets(box, 'build_steps', carryOverSecrets(s.config, s.key ? previous.get(s.key) : undefined, `steps[${i}].config`)),
  })).sort((a, b) => a.step_order - b.step_order);
}

async function insertSteps(trx: Transaction<Database>, buildId: number, rows: ReturnType<typeof stepRows>) {
  for (const row of rows) await trx.insertInto('build_steps').values({ build_id: buildId, ...row }).execute();
}

/*
 * Reads as prepared statements (constant texts; see PreparedRead): a page of builds is one
 * statement, their steps one more, a count only when asked; statistics of a page one.
 */
const BUILDS_BY_ID: PreparedRead = { name: 'bg_builds_by_id', text: 'select * from builds where id in (select id from {ids:1} k)' };
const STEPS_OF_BUILDS: PreparedRead = {
  name: 'bg_steps_of_builds', text: 'select * from build_steps where build_id in (select id from {ids:1} k) order by build_id, step_order, id',
};
const LATEST_RUN = `(select x.id from build_runs x where x.build_id = b.id and x.run_type = 'BUILD' order by x.id desc limit 1)`;
/** The sort value of each build, as the merged list compares it too (see BuildListArgs). */
const SORT_VALUE: Record<BuildSort, string> = {
  NAME: 'lower(b.name) collate "C"',
  LAST_RUN_TIME: `coalesce((select coalesce(r.begin_time, r.created_at) from build_runs r where r.id = ${LATEST_RUN}), 0)`,
};
/** $1 name pattern, $2 latest-run states (JSON/array), $3 + $4 start after [sort value, id], $5 limit, $6 offset. */
const FILTERED = `from (select b.*, ${'{sort}'} as sort_value, (select r.state from build_runs r where r.id = ${LATEST_RUN}) as last_state from builds b) b
  where ($1::text is null or lower(b.name) like $1::text escape '\\')
    and ($2::text[] is null or b.last_state in (select value from {list:2}))`;
const listBuilds = (sort: BuildSort, order: SortOrder): PreparedRead => ({
  name: `bg_builds_${sort}_${order}`.toLowerCase(),
  text: `select b.* ${FILTERED.replace('{sort}', SORT_VALUE[sort])}
    and ($3::${sort === 'NAME' ? 'text' : 'bigint'} is null or (b.sort_value, b.id) ${order === 'ASC' ? '>' : '<'} ($3::${sort === 'NAME' ? 'text' : 'bigint'}, $4::bigint))
    order by b.sort_value ${order}, b.id ${order} limit $5 offset $6`,
});
const LIST_BUILDS = Object.fromEntries((['NAME', 'LAST_RUN_TIME'] as const).flatMap((sort) =>
  (['ASC', 'DESC'] as const).map((order) => [`${sort}_${order}`, listBuilds(sort, order)]))) as Record<`${BuildSort}_${SortOrder}`, PreparedRead>;
const COUNT_BUILDS: PreparedRead = { name: 'bg_builds_count', text: `select count(*) as n ${FILTERED.replace('{sort}', '0')}` };
/** Statistics of many builds in one statement: aggregates over their BUILD runs, tag counts, the latest run. */
const STATS: PreparedRead = {
  name: 'bg_build_stats',
  text: `select b.id as build_id, a.n, a.running, a.done, a.error, a.time_avg, a.size_avg,
      (select count(*) from image_tags t where t.build_id = b.id) as tag_count,
      l.begin_time as l_begin, l.end_time as l_end, l.image_size as l_size
    from {ids:1} b
    left join (select build_id, count(*) as n,
        sum(case when state = 'RUNNING' then 1 else 0 end) as running,
        sum(case when state = 'DONE' then 1 else 0 end) as done,
        sum(case when state = 'ERROR' then 1 else 0 end) as error,
        avg(case when state = 'DONE' and end_time is not null and begin_time is not null then (end_time - begin_time) / 1000.0 end) as time_avg,
        avg(case when state = 'DONE' then image_size end) as size_avg
      from build_runs where build_id in (select id from {ids:1} k) and run_type = 'BUILD' group by build_id) a on a.build_id = b.id
    left join build_runs l on l.id = ${LATEST_RUN}`,
};
interface StatsRow {
  build_id: number; n: number | null; running: number | null; done: number | null; error: number | null; time_avg: number | string | null;
  size_avg: number | string | null; tag_count: number; l_begin: number | null; l_end: number | null; l_size: number | null;
}

export class BuildStore {
  private readonly db: Kysely<Database>;
  constructor(private readonly store: Store, readonly box: SecretBox, private readonly now: () => number = Date.now) {
    this.db = store.db;
  }

  async create(input: BuildInputData): Promise<BuildData> {
    const steps = stepRows(input, new Map(), this.box);
    const id = await this.db.transaction().execute(async (trx) => {
      const t = this.now();
      const row = await trx.insertInto('builds')
        .values({ ...buildColumns(input, {}, this.box), next_build_no: 1, created_at: t, updated_at: t })
        .returning('id').executeTakeFirstOrThrow();
      await insertSteps(trx, Number(row.id), steps);
      return Number(row.id);
    });
    return (await this.get(String(id)))!;
  }

  /** Replaces the definition; steps named by `key` keep secrets the input leaves out. */
  async update(key: string, input: BuildInputData): Promise<BuildData | null> {
    const id = Number(key);
    const done = await this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('builds').select(['secrets']).where('id', '=', id).executeTakeFirst();
      if (!row) return false;
      const oldSteps = await trx.selectFrom('build_steps').select(['id', 'step_type', 'config', 'secrets']).where('build_id', '=', id).execute();
      // The public config keeps each URL's scheme and host (only credentials are masked there).
      const previous = new Map(oldSteps.map((s) => [String(s.id), {
        secrets: openSecrets<StepSecrets>(this.box, 'build_steps', s.secrets, NO_STEP_SECRETS),
        target: stepTarget(parseJson<StepConfig>(s.config, { stepType: s.step_type } as StepConfig)),
      }]));
      const steps = stepRows(input, previous, this.box);
      await trx.updateTable('builds')
        .set({ ...buildColumns(input, openSecrets<BuildSecrets>(this.box, 'builds', row.secrets, {}), this.box), updated_at: this.now() })
        .where('id', '=', id).execute();
      await trx.deleteFrom('build_steps').where('build_id', '=', id).execute();
      await insertSteps(trx, id, steps);
      return true;
    });
    return done ? this.get(key) : null;
  }

  async delete(key: string): Promise<boolean> {
    const id = Number(key);
    if (!Number.isSafeInteger(id)) return false;
    const res = await this.db.deleteFrom('builds').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async get(key: string): Promise<BuildData | null> {
    return (await this.getMany([key]))[0]!;
  }

  /** Builds by keys with their steps: two statements however many. */
  async getMany(keys: readonly string[]): Promise<Array<BuildData | null>> {
    const rows = await this.store.read<Selectable<BuildTable>>(BUILDS_BY_ID, [ids(keys)]);
    return this.withSteps(keys, rows);
  }

  private async withSteps(keys: readonly string[], rows: Array<Selectable<BuildTable>>): Promise<Array<BuildData | null>> {
    const steps = rows.length ? await this.store.read<Selectable<BuildStepTable>>(STEPS_OF_BUILDS, [ids(keys)]) : [];
    const stepsOf = byKey(keys, steps, (s) => s.build_id);
    const found = byKey(keys, rows, (r) => r.id);
    return keys.map((_k, i) => (found[i]![0] ? toBuild(found[i]![0]!, stepsOf[i]!.map((st) => toStep(st, this.box)), this.box) : null));
  }

  /** Every secret value stored for a build and its wire forms (for masking its log lines). */
  async secretValues(key: string): Promise<string[]> {
    const id = Number(key);
    const row = await this.db.selectFrom('builds').select('secrets').where('id', '=', id).executeTakeFirst();
    const steps = await this.db.selectFrom('build_steps').select(['step_type', 'config', 'secrets']).where('build_id', '=', id).execute();
    const out = Object.values(openSecrets<BuildSecrets>(this.box, 'builds', row?.secrets ?? null, {}));
    for (const s of steps) {
      const config = mergeStepSecrets(parseJson<StepConfig>(s.config, { stepType: s.step_type } as StepConfig), openSecrets(this.box, 'build_steps', s.secrets, NO_STEP_SECRETS));
      out.push(...stepSecretValues(config));
    }
    // Longest first: a secret inside a longer one must not break the longer one's mask.
    return [...new Set(out)].filter((v): v is string => typeof v === 'string' && v.length >= 3).sort((a, b) => b.length - a.length);
  }

  /**
   * A page of builds in one statement (+ one for their steps, + one for the count when asked).
   * Keyset: `after` is `[sortValue, key]` (see BuildListArgs); `cursors` give each row's.
   */
  async list(args: BuildListArgs): Promise<Page<BuildData>> {
    const f = args.filter;
    const sort = args.sort ?? 'NAME';
    const order = (args.backward ? (args.order === 'DESC' ? 'ASC' : 'DESC') : args.order ?? 'ASC') as SortOrder;
    const pattern = f?.nameContains ? `%${f.nameContains.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
    const states = f?.lastRunStates?.length ? f.lastRunStates : null;
    const after = args.after ? parseAfter(args.after, sort) : null;
    const [rows, count] = await Promise.all([
      this.store.read<Selectable<BuildTable> & { sort_value: string | number }>(LIST_BUILDS[`${sort}_${order}`],
        [pattern, states, after?.[0] ?? null, after?.[1] ?? null, args.limit + 1, args.offset]),
      args.withTotal === false ? null : this.store.read<{ n: number }>(COUNT_BUILDS, [pattern, states]),
    ]);
    const page = rows.slice(0, args.limit);
    const keys = page.map((r) => String(r.id));
    const items = (await this.withSteps(keys, page)) as BuildData[];
    return {
      items, hasMore: rows.length > args.limit, totalCount: count ? Number(count[0]?.n ?? 0) : null,
      cursors: page.map((r) => JSON.stringify([sort === 'NAME' ? String(r.sort_value) : Number(r.sort_value), String(r.id)])),
    };
  }

  /** Statistics of many builds in one statement (aggregates: right for any number of runs). */
  async statsOfBuilds(keys: readonly string[]): Promise<BuildStatsData[]> {
    const rows = await this.store.read<StatsRow>(STATS, [ids(keys)]);
    const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    return byKey(keys, rows, (r) => r.build_id).map(([r]) => ({
      buildCount: Number(r?.n ?? 0),
      runningCount: Number(r?.running ?? 0),
      doneCount: Number(r?.done ?? 0),
      errorCount: Number(r?.error ?? 0),
      tagCount: Number(r?.tag_count ?? 0),
      buildTimeAvg: r?.time_avg == null ? null : Math.round(Number(r.time_avg)),
      imgSizeAvg: r?.size_avg == null ? null : Math.round(Number(r.size_avg)),
      latestBuildTime: r?.l_begin && r.l_end ? Math.round((Number(r.l_end) - Number(r.l_begin)) / 1000) : null,
      latestImgSize: num(r?.l_size),
      latestExecTime: r?.l_begin ? new Date(Number(r.l_begin)) : null,
    }));
  }

  async stats(key: string): Promise<BuildStatsData> {
    return (await this.statsOfBuilds([key]))[0]!;
  }

}

/** `after` of a build list: `[sortValue, key]` whose value fits the sort (anything else starts from the top). */
function parseAfter(after: string, sort: BuildSort): [string | number, number] | null {
  try {
    const v = JSON.parse(after) as unknown;
    if (!Array.isArray(v) || v.length !== 2) return null;
    const key = Number(v[1]);
    if (!Number.isSafeInteger(key)) return null;
    if (sort === 'NAME' ? typeof v[0] !== 'string' : typeof v[0] !== 'number') return null;
    return [v[0] as string | number, key];
  } catch {
    return null;
  }
}
