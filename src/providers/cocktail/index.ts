import { actionNotAllowed, ErrorCode, notFound } from '../../errors.js';
import { validateBuildInput } from '../build-rules.js';
import type { ProviderFactory, ProviderInstanceConfig, ProviderDeps } from '../factory.js';
import type {
  BuildData, BuildFilter, BuildInputData, BuildRecordData, BuildSort, BuildStatsData, Capability, ImageTagData,
  ImageTagSort, LogLineData, Page, PageArgs, Provider, ProviderHealthData, RunBuildOptions, RunData, SortOrder, StepRunData,
} from '../types.js';
import { clientForInstance, type UpstreamClient } from '../upstream/client.js';
import { nullIfNotFound } from '../upstream/failures.js';
import {
  cancelStates, parseBuildKey, parseChildKey, parseRunKey, parseTime, runKeyOf, toBuildBody, toBuildData, toBuildStats,
  toLogLines, toRunData, toStepRuns, type RunRef,
} from './map.js';
import { parseCocktailOptions, type CocktailOptions } from './options.js';
import { buildWire, imagesWire, listOf, oneOf, runLogWire, runWire, type BuildWire, type RunWire } from './wire.js';

export const COCKTAIL_CAPABILITIES: readonly Capability[] = [
  'BUILD_LIST', 'BUILD_GET', 'BUILD_CREATE', 'BUILD_DELETE', 'BUILD_STATS',
  'RUN_LIST', 'RUN_GET', 'RUN_START', 'RUN_CANCEL',
  'STEP_RUNS', 'LOGS', 'LOGS_LIVE', 'IMAGE_TAGS', 'BUILD_RECORD',
];

function page<T>(all: T[], args: PageArgs): Page<T> {
  const items = all.slice(args.offset, args.offset + args.limit);
  return { items, totalCount: all.length, hasMore: args.offset + items.length < all.length };
}

const byTime = (a: Date | null | undefined, b: Date | null | undefined) => (a?.getTime() ?? -Infinity) - (b?.getTime() ?? -Infinity);

/** The Cocktail API routes this adapter calls (metric labels and span names). */
const COCKTAIL_ROUTES = [
  '/v1/build', '/v1/build/:buildSeq', '/v1/build/:buildSeq/runs', '/v1/build/:buildSeq/images',
  '/v1/build/run/:buildSeq', '/v1/build/run/log/:buildRunSeq',
];

/** Cocktail Cloud build API v1 (seeds 000/001). Lists are unpaged upstream: paging happens here. */
export class CocktailProvider implements Provider {
  readonly kind = 'COCKTAIL' as const;
  readonly id: string;
  readonly baseUrl: string;
  readonly capabilities: ReadonlySet<Capability> = new Set(COCKTAIL_CAPABILITIES);
  readonly client: UpstreamClient;
  private readonly options: CocktailOptions;
  private readonly cacheTtlMs: number;
  /** Stats of the rows of the latest build list: the list carries them, so a list page asking `stats` costs no call per build. */
  private listedStats: { at: number; byKey: Map<string, BuildStatsData> } | null = null;

  constructor(instance: ProviderInstanceConfig, deps: ProviderDeps) {
    this.id = instance.id;
    this.baseUrl = instance.baseUrl;
    this.options = parseCocktailOptions(instance.id, instance.options);
    this.cacheTtlMs = instance.cacheTtlMs;
    const headers: Record<string, string> = { ...this.options.headers };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    this.client = clientForInstance(instance, deps, { headers, routes: COCKTAIL_ROUTES });
  }

  health(): ProviderHealthData {
    return this.client.health();
  }
  close(): Promise<void> {
    return this.client.close();
  }

  // ---- builds -------------------------------------------------------------------------

  private buildsRaw(): Promise<BuildWire[]> {
    return this.client.get('/v1/build', { searchParams: { accountSeq: this.options.accountSeq }, schema: listOf(buildWire) });
  }
  private buildRaw(buildSeq: number, fresh = false): Promise<BuildWire | null> {
    return nullIfNotFound(this.client.get<BuildWire>(`/v1/build/${buildSeq}`, { schema: oneOf(buildWire), cache: !fresh }));
  }

  async listBuilds(args: PageArgs & { filter?: BuildFilter; sort?: BuildSort; order?: SortOrder }): Promise<Page<BuildData>> {
    let builds = await this.buildsRaw();
    if (this.cacheTtlMs > 0) this.listedStats = { at: Date.now(), byKey: new Map(builds.map((b) => [String(b.buildSeq), toBuildStats(b)])) };
    const needle = args.filter?.nameContains?.toLowerCase();
    if (needle) builds = builds.filter((b) => b.buildName.toLowerCase().includes(needle));
    const states = args.filter?.lastRunStates;
    if (states?.length) {
      const latest = await Promise.all(builds.map((b) => this.latestRun(String(b.buildSeq))));
      builds = builds.filter((_b, i) => latest[i] && states.includes(latest[i]!.state));
    }
    const data = builds.map(toBuildData);
    const stats = new Map(builds.map((b) => [String(b.buildSeq), toBuildStats(b).latestExecTime]));
    const dir = args.order === 'DESC' ? -1 : 1;
    if (args.sort === 'LAST_RUN_TIME') data.sort((a, b) => dir * byTime(stats.get(a.key), stats.get(b.key)));
    else if (args.sort === 'NAME') data.sort((a, b) => dir * a.name.localeCompare(b.name));
    return page(data, args);
  }

  async getBuild(key: string): Promise<BuildData | null> {
    const b = await this.buildRaw(parseBuildKey(key));
    return b && toBuildData(b);
  }

  async getBuildStats(buildKey: string): Promise<BuildStatsData> {
    const listed = this.listedStats && Date.now() - this.listedStats.at < this.cacheTtlMs ? this.listedStats.byKey.get(buildKey) : undefined;
    if (listed) return listed;
    const b = await this.buildRaw(parseBuildKey(buildKey));
    if (!b) throw notFound('Build', buildKey);
    return toBuildStats(b);
  }

  async createBuild(input: BuildInputData): Promise<BuildData> {
    validateBuildInput(input, { maxSteps: this.options.maxSteps });
    const created = await this.client.post<BuildWire>('/v1/build', { json: toBuildBody(input, this.options.accountSeq), schema: oneOf(buildWire) });
    await this.client.invalidate('/v1/build');
    this.listedStats = null;
    return toBuildData(created);
  }

  async deleteBuild(key: string): Promise<boolean> {
    const ok = await nullIfNotFound(this.client.delete(`/v1/build/${parseBuildKey(key)}`, { responseType: 'text' }));
    await this.client.invalidate('/v1/build');
    this.listedStats = null;
    return ok !== null;
  }

  // ---- runs ---------------------------------------------------------------------------

  /** All runs of a build, newest first (GET /v1/build/{buildSeq}/runs, unpaged upstream). */
  private async runsRaw(buildSeq: number, fresh = false): Promise<RunWire[] | null> {
    const runs = await nullIfNotFound(this.client.get<RunWire[]>(`/v1/build/${buildSeq}/runs`, { schema: listOf(runWire), cache: !fresh }));
    if (!runs) return null;
    return [...runs].sort((a, b) => byTime(parseTime(b.beginTime), parseTime(a.beginTime)) || b.buildRunSeq - a.buildRunSeq);
  }

  private async runsData(buildSeq: number, fresh = false): Promise<RunData[] | null> {
    const runs = await this.runsRaw(buildSeq, fresh);
    if (!runs) return null;
    const cancels = cancelStates(runs);
    return runs.map((r) => toRunData(r, cancels.get(r.buildRunSeq)));
  }

  async listRuns(buildKey: string, args: PageArgs): Promise<Page<RunData>> {
    const runs = await this.runsData(parseBuildKey(buildKey));
    if (!runs) throw notFound('Build', buildKey);
    return page(runs, args);
  }

  private async findRun(ref: RunRef, fresh = false): Promise<RunData | null> {
    const runs = await this.runsData(ref.buildSeq, fresh);
    return runs?.find((r) => r.key === runKeyOf(ref)) ?? null;
  }

  // async: a malformed key must reject (BAD_USER_INPUT), not throw inside a DataLoader batch.
  async getRun(key: string): Promise<RunData | null> {
    return this.findRun(parseRunKey(key));
  }

  async latestRun(buildKey: string): Promise<RunData | null> {
    const runs = await this.runsData(parseBuildKey(buildKey));
    return runs?.find((r) => r.runType === 'BUILD') ?? null;
  }

  async runBuild(buildKey: string, opts: RunBuildOptions): Promise<RunData> {
    const buildSeq = parseBuildKey(buildKey);
    const run = await this.client.post<RunWire>(`/v1/build/run/${buildSeq}`, {
      searchParams: { tagName: opts.tagName ?? undefined, description: opts.description ?? undefined, callbackUrl: opts.callbackUrl ?? undefined },
      schema: oneOf(runWire),
    });
    await this.client.invalidate('/v1/build');
    this.listedStats = null;
    return toRunData(run);
  }

  /**
   * A cancel is a new run (runType CANCEL) naming the canceled one; that new run is returned.
   * A run already canceled, or being canceled, is returned as it is (no second CANCEL run).
   */
  async cancelRun(key: string): Promise<RunData> {
    const ref = parseRunKey(key);
    const run = await this.findRun(ref, true);
    if (!run) throw notFound('BuildRun', key);
    if (run.details?.cancel) return run;
    const allowed = run.possibleActions ?? [];
    if (!allowed.includes('CANCEL')) throw actionNotAllowed('CANCEL', run.rawState, allowed);
    const path = this.options.cancelPath.replace('{buildRunSeq}', String(ref.buildRunSeq));
    const cancel = await this.client.post<RunWire>(path, { schema: oneOf(runWire) });
    await this.client.invalidate('/v1/build');
    this.listedStats = null;
    return toRunData(cancel);
  }

  // ---- steps and logs -----------------------------------------------------------------

  private async runLog(ref: RunRef) {
    const log = await nullIfNotFound(this.client.get(`/v1/build/run/log/${ref.buildRunSeq}`, { schema: oneOf(runLogWire) }));
    // A forged key could pair a run with another build: the log names its own build.
    return log && log.buildSeq === ref.buildSeq ? log : null;
  }

  async listStepRuns(runKey: string): Promise<StepRunData[]> {
    const ref = parseRunKey(runKey);
    const [log, run] = await Promise.all([this.runLog(ref), this.findRun(ref)]);
    if (!log) throw notFound('BuildRun', runKey);
    return toStepRuns(ref, log.buildStepRuns, run?.state === 'CANCELED');
  }

  async getStepRun(key: string): Promise<StepRunData | null> {
    const { rest: _index, ...ref } = parseChildKey(key, 'step run');
    const steps = await this.listStepRuns(runKeyOf(ref)).catch((err: unknown) => {
      if ((err as { code?: string }).code === ErrorCode.NOT_FOUND) return [];
      throw err;
    });
    return steps.find((s) => s.key === key) ?? null;
  }

  async getLogs(
    runKey: string,
    args: { stepKey?: string | null; afterSeq?: number | null; limit: number; tail?: boolean },
  ): Promise<{ lines: LogLineData[]; lastSeq: number; hasMore: boolean }> {
    const ref = parseRunKey(runKey);
    const log = await this.runLog(ref);
    if (!log) throw notFound('BuildRun', runKey);
    let lines = toLogLines(ref, log.buildStepRuns);
    if (args.stepKey) lines = lines.filter((l) => l.stepKey === args.stepKey);
    const after = lines.filter((l) => l.seq > (args.afterSeq ?? 0));
    const out = args.tail ? after.slice(-args.limit) : after.slice(0, args.limit);
    return {
      lines: out,
      // Nothing after afterSeq: resume after the last line there is, not after a seq that does not exist.
      lastSeq: out.length ? out[out.length - 1]!.seq : Math.min(args.afterSeq ?? 0, lines.at(-1)?.seq ?? 0),
      hasMore: !args.tail && after.length > out.length,
    };
  }

  // ---- image tags and records ---------------------------------------------------------

  async listImageTags(buildKey: string, args: PageArgs & { sort: ImageTagSort; order: SortOrder }): Promise<Page<ImageTagData>> {
    const buildSeq = parseBuildKey(buildKey);
    // Parameter names are not in the seed (values and defaults are); sorting again here keeps the order right either way.
    const groups = await nullIfNotFound(this.client.get(`/v1/build/${buildSeq}/images`, {
      searchParams: { orderColumn: args.sort, order: args.order }, schema: imagesWire,
    }));
    if (!groups) throw notFound('Build', buildKey);
    const tags: ImageTagData[] = groups.flatMap((g) => g.tags.map((t) => ({
      key: `${buildSeq}:${t.buildRunSeq}:${t.tag}`,
      buildKey,
      runKey: runKeyOf({ buildSeq, buildRunSeq: t.buildRunSeq }),
      tag: t.tag,
      imageName: g.imageName ?? null,
      imageUrl: t.imageUrl ?? null,
      registryImagePath: g.registryImagePath ?? null,
      registryName: g.registryName ?? null,
      digest: t.imageDigest ?? null,
      size: t.imageSize ?? null,
      beginTime: parseTime(t.beginTime),
      endTime: parseTime(t.endTime),
      runDescription: t.runDesc ?? null,
    })));
    const dir = args.order === 'ASC' ? 1 : -1;
    const cmp: Record<ImageTagSort, (a: ImageTagData, b: ImageTagData) => number> = {
      TAG: (a, b) => a.tag.localeCompare(b.tag, undefined, { numeric: true }),
      IMAGE_SIZE: (a, b) => (a.size ?? -1) - (b.size ?? -1),
      END_TIME: (a, b) => byTime(a.endTime, b.endTime),
    };
    tags.sort((a, b) => dir * cmp[args.sort](a, b));
    return page(tags, args);
  }

  async getImageTag(key: string): Promise<ImageTagData | null> {
    const { buildSeq } = parseChildKey(key, 'image tag');
    const all = await this.listImageTags(String(buildSeq), { offset: 0, limit: Number.MAX_SAFE_INTEGER, sort: 'END_TIME', order: 'DESC' })
      .catch((err: unknown) => {
        if ((err as { code?: string }).code === ErrorCode.NOT_FOUND) return null;
        throw err;
      });
    return all?.items.find((t) => t.key === key) ?? null;
  }

  /** Derived from the run: Cocktail keeps no separate history record. */
  async getBuildRecord(runKey: string): Promise<BuildRecordData | null> {
    const run = await this.getRun(runKey);
    if (!run) return null;
    const secs = (run.details?.runTimeBySec as number | null) ?? null;
    return {
      key: run.key, runKey: run.key, buildKey: run.buildKey, buildNo: run.buildNo,
      status: run.rawState, state: run.state, triggerType: null,
      tag: run.tagName, createTime: run.createdAt ?? null, startTime: run.beginTime, finishTime: run.endTime,
      durationMs: secs != null ? secs * 1000 : run.beginTime && run.endTime ? run.endTime.getTime() - run.beginTime.getTime() : null,
      errorMessage: run.errorMessage ?? null,
      details: { runType: run.runType, imageUrl: run.imageUrl ?? null, imageDigest: run.imageDigest ?? null },
    };
  }
}

export const createCocktailProvider: ProviderFactory = (instance, deps) => new CocktailProvider(instance, deps);
