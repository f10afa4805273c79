import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { SecretBox } from './crypto.js';
import type { BuildStepTable, BuildTable, Database } from './db.js';
import type {
  BuildData, BuildFilter, BuildInputData, BuildSort, BuildStatsData, BuildStepData, Page, PageArgs, SortOrder, StepConfig, StepType,
} from '../model.js';
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
  const secrets = openSecrets<StepSecrets>(box, 'build_steps', row.secrets, NO_STEP_SECRETS);
  return {
    key: String(row.id),
    stepType: row.step_type as StepType,
    stepOrder: row.step_order,
    useFlag: row.use_flag === 1,
    config: mergeStepSecrets(parseJson<StepConfig>(row.config, { stepType: row.step_type } as StepConfig), secrets),
  };
}

function toBuild(row: Selectable<BuildTable>, steps: BuildStepData[] | null, box: SecretBox): BuildData {
  const secrets = openSecrets<BuildSecrets>(box, 'builds', row.secrets, {});
  return {
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
    hasBuildServerCacrt: !!secrets.buildServerCacrt,
    hasBuildServerClientCert: !!secrets.buildServerClientCert,
    hasBuildServerClientKey: !!secrets.buildServerClientKey,
    steps,
    createdAt: new Date(Number(row.created_at)),
    updatedAt: new Date(Number(row.updated_at)),
  };
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

/** Latest BUILD run per build, as a subquery usable for filters and sorts. */
const latestRunState = sql<string>`(select r.state from build_runs r where r.build_id = builds.id and r.run_type = 'BUILD' order by r.id desc limit 1)`;
const latestRunTime = sql<number>`(select coalesce(r.begin_time, r.created_at) from build_runs r where r.build_id = builds.id and r.run_type = 'BUILD' order by r.id desc limit 1)`;

export class BuildStore {
  constructor(private readonly db: Kysely<Database>, readonly box: SecretBox, private readonly now: () => number = Date.now) {}

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
    const id = Number(key);
    if (!Number.isSafeInteger(id)) return null;
    const row = await this.db.selectFrom('builds').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return null;
    const steps = await this.db.selectFrom('build_steps').selectAll().where('build_id', '=', id).orderBy('step_order').execute();
    return toBuild(row, steps.map((s) => toStep(s, this.box)), this.box);
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

  async list(args: PageArgs & { filter?: BuildFilter; sort?: BuildSort; order?: SortOrder }): Promise<Page<BuildData>> {
    let q = this.db.selectFrom('builds');
    const f = args.filter;
    if (f?.nameContains) {
      const needle = `%${f.nameContains.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      q = q.where(sql<boolean>`lower(builds.name) like ${needle} escape '\\'`);
    }
    if (f?.lastRunStates?.length) q = q.where(latestRunState, 'in', f.lastRunStates);
    const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const dir = args.order === 'DESC' ? 'desc' : 'asc';
    let rowsQ = q.selectAll('builds');
    rowsQ = args.sort === 'LAST_RUN_TIME'
      ? rowsQ.orderBy(sql`coalesce(${latestRunTime}, 0)`, dir).orderBy('builds.id', dir)
      : rowsQ.orderBy(sql`lower(builds.name)`, dir).orderBy('builds.id', dir);
    const rows = await rowsQ.limit(args.limit).offset(args.offset).execute();
    const ids = rows.map((r) => r.id);
    const steps = ids.length
      ? await this.db.selectFrom('build_steps').selectAll().where('build_id', 'in', ids).orderBy('step_order').execute()
      : [];
    const byBuild = new Map<number, BuildStepData[]>();
    for (const s of steps) {
      const list = byBuild.get(Number(s.build_id)) ?? [];
      list.push(toStep(s, this.box));
      byBuild.set(Number(s.build_id), list);
    }
    const totalCount = Number(total.n);
    return {
      items: rows.map((r) => toBuild(r, byBuild.get(Number(r.id)) ?? [], this.box)),
      totalCount,
      hasMore: args.offset + rows.length < totalCount,
    };
  }

  async stats(key: string): Promise<BuildStatsData> {
    const id = Number(key);
    const agg = await this.db.selectFrom('build_runs')
      .where('build_id', '=', id).where('run_type', '=', 'BUILD')
      .select((eb) => [
        eb.fn.countAll<number>().as('buildCount'),
        sql<number>`sum(case when state = 'RUNNING' then 1 else 0 end)`.as('runningCount'),
        sql<number>`sum(case when state = 'DONE' then 1 else 0 end)`.as('doneCount'),
        sql<number>`sum(case when state = 'ERROR' then 1 else 0 end)`.as('errorCount'),
        sql<number | null>`avg(case when state = 'DONE' and end_time is not null and begin_time is not null then (end_time - begin_time) / 1000.0 end)`.as('buildTimeAvg'),
        sql<number | null>`avg(case when state = 'DONE' then image_size end)`.as('imgSizeAvg'),
      ]).executeTakeFirstOrThrow();
    const tags = await this.db.selectFrom('image_tags').where('build_id', '=', id)
      .select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const latest = await this.db.selectFrom('build_runs').selectAll()
      .where('build_id', '=', id).where('run_type', '=', 'BUILD').orderBy('id', 'desc').limit(1).executeTakeFirst();
    const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    return {
      buildCount: Number(agg.buildCount),
      runningCount: Number(agg.runningCount ?? 0),
      doneCount: Number(agg.doneCount ?? 0),
      errorCount: Number(agg.errorCount ?? 0),
      tagCount: Number(tags.n),
      buildTimeAvg: agg.buildTimeAvg === null ? null : Math.round(Number(agg.buildTimeAvg)),
      imgSizeAvg: agg.imgSizeAvg === null ? null : Math.round(Number(agg.imgSizeAvg)),
      latestBuildTime: latest?.begin_time && latest.end_time ? Math.round((Number(latest.end_time) - Number(latest.begin_time)) / 1000) : null,
      latestImgSize: num(latest?.image_size),
      latestExecTime: latest?.begin_time ? new Date(Number(latest.begin_time)) : null,
    };
  }
}
