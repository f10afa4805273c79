import { z } from 'zod';
import { actionNotAllowed, ErrorCode, notFound, UpstreamError } from '../../errors.js';
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
import { assertCallbackAllowed, CallbackDelivery, runSummary, type CallbackSettings } from '../../engine/callback.js';
import type { ProviderPush, PushNotice } from '../types.js';
import { CocktailCallbacks } from './push.js';
import type { CancelState } from './map.js';

/** Forwarding of users' callbacks when the config gives no `engine.callback` (its defaults). */
const DEFAULT_CALLBACK: CallbackSettings = { attempts: 10, initialDelayMs: 2000, maxDelayMs: 300_000, timeoutMs: 10_000 };
/** Runs whose user callback was forwarded, remembered so a repeated Cocktail callback is not forwarded again. */
const FORWARDED_MAX = 10_000;
const TERMINAL = new Set(['DONE', 'ERROR', 'CANCELED']);
/** Reads again after a callback while a run's cancel is pending: how often, how many times. */
const SETTLE_RETRY_MS = 2000;
const SETTLE_RETRIES = 5;

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
  /** Push: our signed callback URL registered with every run, when a webhook secret and a public URL are configured. */
  private readonly callbacks: CocktailCallbacks | null;
  readonly push: ProviderPush | null;
  private readonly delivery: CallbackDelivery;
  private readonly allowPrivateHosts: readonly string[];
  private readonly forwarded = new Set<string>();
  /** Where the forwarding of each run's user callback stands (`callbackStatus` in the run's details). */
  private readonly callbackStatus = new Map<string, string>();
  private readonly settleRetries = new Set<NodeJS.Timeout>();
  private readonly logger: ProviderDeps['logger'];
  private closing = false;

  constructor(instance: ProviderInstanceConfig, deps: ProviderDeps) {
    this.id = instance.id;
    this.baseUrl = instance.baseUrl;
    this.options = parseCocktailOptions(instance.id, instance.options);
    this.cacheTtlMs = instance.cacheTtlMs;
    const headers: Record<string, string> = { ...this.options.headers };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    this.client = clientForInstance(instance, deps, { headers, secrets: instance.webhook ? [instance.webhook.secret] : [], routes: COCKTAIL_ROUTES });
    this.callbacks = instance.webhook && deps.publicUrl ? new CocktailCallbacks(this.id, instance.webhook.secret, deps.publicUrl) : null;
    this.push = this.callbacks?.push((n) => this.settle(n)) ?? null;
    this.allowPrivateHosts = deps.allowPrivateHosts ?? [];
    this.logger = deps.logger;
    this.delivery = new CallbackDelivery(deps.callback ?? DEFAULT_CALLBACK, this.allowPrivateHosts, deps.logger, async (runSeq, status) => {
      this.callbackStatus.set(String(runSeq), status);
    });
  }

  health(): ProviderHealthData {
    return this.client.health();
  }
  async close(): Promise<void> {
    this.closing = true;
    for (const t of this.settleRetries) clearTimeout(t);
    this.settleRetries.clear();
    await this.delivery.stop();
    await this.client.close();
  }

  /** A run as shown: our registered callback URL stands for the user's own one. */
  private runData(r: RunWire, cancel?: CancelState): RunData {
    const run = toRunData(r, cancel);
    if (!this.callbacks) return run;
    const status = this.callbackStatus.get(String(r.buildRunSeq));
    return { ...run, callbackUrl: this.callbacks.shown(r.callbackUrl), details: { ...run.details, ...(status ? { callbackStatus: status } : {}) } };
  }

  /**
   * After Cocktail called back for a build: the build's runs are read from the API (never
   * from the callback's body) and each ended run registered with a user callback has it
   * POSTed once, with the run summary native runs send (retried with backoff, at least once).
   */
  private async settle(n: PushNotice, attempt = 0): Promise<void> {
    const buildSeq = parseBuildKey(n.buildKey);
    // Queries after the callback read Cocktail again (the build list carries run counters too).
    await this.client.invalidate('/v1/build');
    this.listedStats = null;
    const runs = await this.runsRaw(buildSeq, true);
    if (!runs || !this.callbacks) return;
    const cancels = cancelStates(runs);
    let cancelPending = false;
    for (const r of runs) {
      const target = r.callbackUrl ? this.callbacks.parse(r.callbackUrl) : null;
      const run = toRunData(r, cancels.get(r.buildRunSeq));
      if (!target?.forward || target.buildSeq !== buildSeq || this.forwarded.has(run.key)) continue;
      if (!TERMINAL.has(run.state)) {
        if (r.runState === 'DONE' || r.runState === 'ERROR') cancelPending = true;
        continue;
      }
      if (this.forwarded.size >= FORWARDED_MAX) this.forwarded.delete(this.forwarded.values().next().value!);
      this.forwarded.add(run.key);
      void this.delivery.deliver(r.buildRunSeq, target.forward, { ...runSummary(run, r.buildName ?? null), buildRunSeq: r.buildRunSeq, buildSeq: r.buildSeq });
    }
    // Cocktail ended a run whose cancel is still pending (it is CANCELED only once its CANCEL run is
    // DONE, and Cocktail calls back once): read again shortly rather than never forward its callback.
    if (cancelPending && attempt < SETTLE_RETRIES && !this.closing) {
      const t = setTimeout(() => {
        this.settleRetries.delete(t);
        this.settle(n, attempt + 1).catch((e: unknown) => this.logger.warn({ err: e, buildKey: n.buildKey }, 'forwarding run callbacks failed'));
      }, SETTLE_RETRY_MS);
      t.unref();
      this.settleRetries.add(t);
    }
  }

  // ---- builds -------------------------------------------------------------------------

  /** The build list, each row read on its own: a row that cannot be read is an error naming it, not the end of the whole list. */
  private async buildsRaw(): Promise<Array<BuildWire | UpstreamError>> {
    const rows = await this.client.get('/v1/build', { searchParams: { accountSeq: this.options.accountSeq }, schema: z.array(z.unknown()) });
    return rows.map((row, i) => {
      const r = buildWire.safeParse(row);
      if (r.success) return r.data;
      const seq = (row as { buildSeq?: unknown } | null)?.buildSeq;
      const id = typeof seq === 'number' || typeof seq === 'string' ? String(seq) : null;
      const issue = r.error.issues[0]!;
      return new UpstreamError(ErrorCode.UPSTREAM_BAD_RESPONSE, this.id,
        `build ${id ?? `#${i + 1}`} of the build list cannot be read: ${issue.path.join('.') || '(row)'}: ${issue.message}`, id ? { id } : {});
    });
  }
  private buildRaw(buildSeq: number, fresh = false): Promise<BuildWire | null> {
    return nullIfNotFound(this.client.get<BuildWire>(`/v1/build/${buildSeq}`, { schema: oneOf(buildWire), cache: !fresh }));
  }

  /**
   * Unpaged upstream: filtered, sorted and paged here. Rows that cannot be read — a malformed
   * list row, or (filtering by last run state) a build whose runs cannot be read — are errors
   * naming them (every page carries them), and totalCount counts them: rows + errors.
   */
  async listBuilds(args: PageArgs & { filter?: BuildFilter; sort?: BuildSort; order?: SortOrder }): Promise<Page<BuildData>> {
    const rows = await this.buildsRaw();
    let builds = rows.filter((b): b is BuildWire => !(b instanceof UpstreamError));
    const errors: UpstreamError[] = rows.filter((b): b is UpstreamError => b instanceof UpstreamError);
    if (this.cacheTtlMs > 0) this.listedStats = { at: Date.now(), byKey: new Map(builds.map((b) => [String(b.buildSeq), toBuildStats(b)])) };
    const needle = args.filter?.nameContains?.toLowerCase();
    if (needle) builds = builds.filter((b) => b.buildName.toLowerCase().includes(needle));
    const states = args.filter?.lastRunStates;
    if (states?.length) {
      const latest = await Promise.all(builds.map(async (b) => {
        const runs = await this.runsData(b.buildSeq).catch((e: unknown) => e as Error);
        if (runs instanceof UpstreamError) return new UpstreamError(runs.code, this.id, `the runs of build ${b.buildSeq} cannot be read: ${runs.message.replace(/^\[[^\]]*\] /, '')}`, { id: String(b.buildSeq) });
        if (runs instanceof Error) throw runs;
        if (runs === null) return new UpstreamError(ErrorCode.UPSTREAM_NOT_FOUND, this.id, `build ${b.buildSeq} is listed but its runs are not found`, { id: String(b.buildSeq) });
        return runs.find((r) => r.runType === 'BUILD') ?? null;
      }));
      errors.push(...latest.filter((l): l is UpstreamError => l instanceof UpstreamError));
      builds = builds.filter((_b, i) => { const l = latest[i]; return l && !(l instanceof UpstreamError) && states.includes(l.state); });
    }
    const data = builds.map(toBuildData);
    const stats = new Map(builds.map((b) => [String(b.buildSeq), toBuildStats(b).latestExecTime]));
    const dir = args.order === 'DESC' ? -1 : 1;
    if (args.sort === 'LAST_RUN_TIME') data.sort((a, b) => dir * byTime(stats.get(a.key), stats.get(b.key)));
    else if (args.sort === 'NAME') data.sort((a, b) => dir * a.name.localeCompare(b.name));
    const paged = page(data, args);
    return errors.length ? { ...paged, totalCount: data.length + errors.length, errors } : paged;
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
    return runs.map((r) => this.runData(r, cancels.get(r.buildRunSeq)));
  }

  async listRuns(buildKey: string, args: PageArgs): Promise<Page<RunData>> {
    const runs = await this.runsData(parseBuildKey(buildKey));
    if (!runs) throw notFound('Build', buildKey);
    return page(runs, args);
  }

  private async findRun(ref: RunRef, fresh = false): Promise<RunData | null> {
    const runs = await this.runsData(ref.buildSeq, fresh);
    const run = runs?.find((r) => r.key === runKeyOf(ref)) ?? null;
    // A run missing from a cached list may be newer than the list (started elsewhere): ask Cocktail once more.
    if (!run && runs && !fresh) return this.findRun(ref, true);
    return run;
  }

  // async: a malformed key must reject (BAD_USER_INPUT), not throw inside a DataLoader batch.
  async getRun(key: string): Promise<RunData | null> {
    return this.findRun(parseRunKey(key));
  }

  async latestRun(buildKey: string): Promise<RunData | null> {
    const runs = await this.runsData(parseBuildKey(buildKey));
    return runs?.find((r) => r.runType === 'BUILD') ?? null;
  }

  /**
   * With push configured, the run is registered with buildgate's own signed callback URL,
   * which carries the user's (checked by the SSRF guard now, as for native runs): buildgate
   * hears of the end at once and POSTs the user's callback itself.
   */
  async runBuild(buildKey: string, opts: RunBuildOptions): Promise<RunData> {
    const buildSeq = parseBuildKey(buildKey);
    if (this.callbacks && opts.callbackUrl) await assertCallbackAllowed(opts.callbackUrl, this.allowPrivateHosts);
    const callbackUrl = this.callbacks ? this.callbacks.urlFor(buildSeq, opts.callbackUrl ?? null) : opts.callbackUrl ?? undefined;
    const run = await this.client.post<RunWire>(`/v1/build/run/${buildSeq}`, {
      searchParams: { tagName: opts.tagName ?? undefined, description: opts.description ?? undefined, callbackUrl },
      schema: oneOf(runWire),
    });
    await this.client.invalidate('/v1/build');
    this.listedStats = null;
    return this.runData(run);
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
    return this.runData(cancel);
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
    args: { stepRunKey?: string | null; afterSeq?: number | null; limit: number; tail?: boolean },
  ): Promise<{ lines: LogLineData[]; lastSeq: number; hasMore: boolean }> {
    const ref = parseRunKey(runKey);
    const log = await this.runLog(ref);
    if (!log) throw notFound('BuildRun', runKey);
    let lines = toLogLines(ref, log.buildStepRuns);
    if (args.stepRunKey) lines = lines.filter((l) => l.stepRunKey === args.stepRunKey);
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
