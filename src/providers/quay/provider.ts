import type { z } from 'zod';
import { gunzipSync } from 'node:zlib';
import { actionNotAllowed, badInput, ErrorCode, notFound, unsupported, UpstreamError } from '../../errors.js';
import type { ProviderDeps, ProviderInstanceConfig } from '../factory.js';
import type {
  BuildData, BuildFilter, BuildRecordData, BuildSort, Capability, ImageTagData, ImageTagSort, LogLineData, Page,
  PageArgs, Provider, ProviderExtensions, ProviderHealthData, RepositoryBuildRequest, RunBuildOptions, RunData, SortOrder, StepRunData,
} from '../types.js';
import { clientForInstance, type UpstreamClient } from '../upstream/client.js';
import { nullIfNotFound } from '../upstream/failures.js';
import { parseChildKey, parseRunKey, parseRfc2822, runKeyOf, toLogLines, toRunData, toStepRuns, withPhaseEnd, type RunRef } from './map.js';
import { parseQuayOptions, type QuayOptions } from './options.js';
import {
  buildListWire, buildViewWire, classifyQuayError, describeQuayError, logPageWire, logsWire, repositoryWire, tagPageWire,
  type BuildView, type LogEntry, type TagView,
} from './wire.js';
import { allPages } from '../upstream/paging.js';
import type { ProviderPush } from '../types.js';
import { quayPush } from './push.js';

/** A Quay build request (seed 004 requestRepoBuild); unset fields come from the repository's options. */
export type QuayBuildRequest = RepositoryBuildRequest;

export const QUAY_CAPABILITIES: readonly Capability[] = [
  'BUILD_LIST', 'BUILD_GET', 'RUN_LIST', 'RUN_GET', 'RUN_START', 'RUN_CANCEL',
  'STEP_RUNS', 'LOGS', 'LOGS_LIVE', 'IMAGE_TAGS', 'BUILD_RECORD',
];

/** Archived build logs kept in memory per provider (a run list page reads one per archived row). */
const ARCHIVES_KEPT = 100;
/** Finished builds whose end time is remembered per provider. */
const ENDS_KEPT = 5000;
/** Quay's tag API pages by at most 100. */
const TAG_PAGE_MAX = 100;
/** Run part of the key of a tag no listed build is known to have pushed. */
const NO_RUN = '-';

const byTime = (a: Date | null | undefined, b: Date | null | undefined) => (a?.getTime() ?? -Infinity) - (b?.getTime() ?? -Infinity);

/**
/** The Quay API routes this adapter calls (metric labels and span names). */
const QUAY_ROUTES = [
  '/api/v1/repository/:namespace/:repository', '/api/v1/repository/:namespace/:repository/build/',
  '/api/v1/repository/:namespace/:repository/build/:uuid', '/api/v1/repository/:namespace/:repository/build/:uuid/logs',
  '/api/v1/repository/:namespace/:repository/tag/',
];

/**
 * Quay (seed 004). A Build is a configured repository; its runs are repository builds;
 * steps are Quay's build phases; image tags are the tags complete builds pushed.
 */
export class QuayProvider implements Provider {
  readonly kind = 'QUAY' as const;
  readonly id: string;
  readonly baseUrl: string;
  readonly capabilities: ReadonlySet<Capability> = new Set(QUAY_CAPABILITIES);
  readonly extensions: ProviderExtensions = { repositoryBuilds: { requestBuild: (buildKey, req) => this.requestBuild(buildKey, req) } };
  readonly client: UpstreamClient;
  private readonly options: QuayOptions;
  private readonly registryHost: string;
  readonly push: ProviderPush | null;
  /** Archived logs read lately (a download, which the GET cache does not keep): kept for cacheTtlMs, at most ARCHIVES_KEPT. */
  private readonly archives = new Map<string, { at: number; entries: LogEntry[] }>();
  private readonly cacheTtlMs: number;
  /** End time and failure of finished builds, by run key and terminal phase. */
  private readonly ends = new Map<string, { endTime: Date; errorMessage: string | null }>();

  constructor(instance: ProviderInstanceConfig, deps: ProviderDeps) {
    this.id = instance.id;
    this.cacheTtlMs = instance.cacheTtlMs;
    this.baseUrl = instance.baseUrl;
    this.options = parseQuayOptions(instance.id, instance.options);
    this.registryHost = new URL(instance.baseUrl).host;
    this.client = clientForInstance(instance, deps, {
      headers: { authorization: `Bearer ${this.options.token}` }, secrets: instance.webhook ? [instance.webhook.secret] : [],
      describeError: describeQuayError, classifyError: classifyQuayError, routes: QUAY_ROUTES,
    });
    // A notification also drops the repository's cached builds: a query after it reads Quay again.
    this.push = instance.webhook
      ? quayPush(instance.webhook.secret, (repo) => this.configured(repo) !== null, (n) => this.client.invalidate(`${this.repoPath(n.buildKey)}/build/`))
      : null;
  }

  health(): ProviderHealthData {
    return this.client.health();
  }
  close(): Promise<void> {
    return this.client.close();
  }

  private repoPath(repo: string): string {
    const [ns, name] = repo.split('/');
    return `/api/v1/repository/${encodeURIComponent(ns!)}/${encodeURIComponent(name!)}`;
  }
  private configured(repo: string) {
    return this.options.repositories.get(repo) ?? null;
  }

  // ---- builds = repositories ----------------------------------------------------------

  private async toBuild(repo: string): Promise<BuildData | null> {
    const info = await nullIfNotFound(this.client.get(this.repoPath(repo), { schema: repositoryWire }));
    if (!info) return null;
    return this.buildOf(repo, info);
  }

  private buildOf(repo: string, info: z.output<typeof repositoryWire>): BuildData {
    const cfg = this.configured(repo)!;
    return {
      key: repo, name: repo, description: info.description ?? null, imageName: repo, registryName: this.registryHost,
      tagName: cfg.tags?.join(',') ?? 'latest', steps: null,
      details: { namespace: info.namespace, name: info.name, isPublic: info.is_public ?? null, kind: info.kind ?? null,
        runnable: !!cfg.archiveUrl, dockerfilePath: cfg.dockerfilePath ?? null, context: cfg.context ?? null },
      // Quay builds only from an archive URL: a repository configured without one cannot be run from here.
      possibleActions: cfg.archiveUrl ? ['VIEW', 'BUILD'] : ['VIEW'],
    };
  }

  async listBuilds(args: PageArgs & { filter?: BuildFilter; sort?: BuildSort; order?: SortOrder }): Promise<Page<BuildData>> {
    let repos = [...this.options.repositories.keys()];
    const needle = args.filter?.nameContains?.toLowerCase();
    if (needle) repos = repos.filter((r) => r.toLowerCase().includes(needle));
    const dir = args.order === 'DESC' ? -1 : 1;
    if (args.filter?.lastRunStates?.length || args.sort === 'LAST_RUN_TIME') {
      const latest = new Map(await Promise.all(repos.map(async (r) => [r, await this.latestRun(r)] as const)));
      const states = args.filter?.lastRunStates;
      if (states?.length) repos = repos.filter((r) => latest.get(r) && states.includes(latest.get(r)!.state));
      if (args.sort === 'LAST_RUN_TIME') repos.sort((a, b) => dir * byTime(latest.get(a)?.beginTime, latest.get(b)?.beginTime));
    } else if (args.sort === 'NAME') {
      repos.sort((a, b) => dir * a.localeCompare(b));
    }
    const slice = repos.slice(args.offset, args.offset + args.limit);
    // A configured repository Quay will not show (unknown, or unreadable with this token) is
    // an error naming it, not a silently shorter page: rows + errors = the page.
    const read = await Promise.all(slice.map(async (repo) => {
      const info = await nullIfNotFound(this.client.get(this.repoPath(repo), { schema: repositoryWire }));
      return info ? this.buildOf(repo, info) : unreadableRepository(this.id, repo);
    }));
    const items = read.filter((b): b is BuildData => !(b instanceof UpstreamError));
    const errors = read.filter((b): b is UpstreamError => b instanceof UpstreamError);
    return { items, totalCount: repos.length, hasMore: args.offset + slice.length < repos.length, ...(errors.length ? { errors } : {}) };
  }

  async getBuild(key: string): Promise<BuildData | null> {
    return this.configured(key) ? this.toBuild(key) : null;
  }

  // ---- runs = repository builds -------------------------------------------------------

  private builds(repo: string, limit: number, fresh = false): Promise<BuildView[]> {
    return this.client.get(`${this.repoPath(repo)}/build/`, { searchParams: { limit }, schema: buildListWire, cache: !fresh })
      .then((r) => r.builds);
  }

  /**
   * Quay pages only by `limit` (newest first) and `since`: the newest `maxRuns` are read and
   * sliced. Always that one URL, so the build screen's runs page and its image tags (which link
   * tags to runs from the same list) are one upstream call, not two; the total is known when
   * the repository has fewer builds than that. Finished rows get their end time and failure
   * from their phase log, as on the run page (one log read per finished row, cached while
   * fresh; a finished log does not change).
   */
  async listRuns(buildKey: string, args: PageArgs): Promise<Page<RunData>> {
    if (!this.configured(buildKey)) throw notFound('Build', buildKey);
    const all = await this.builds(buildKey, this.options.maxRuns);
    const rows = all.slice(args.offset, args.offset + args.limit);
    const items = await Promise.all(rows.map((b) => this.withEnd({ repo: buildKey, uuid: b.id }, b)));
    return { items, totalCount: all.length < this.options.maxRuns ? all.length : null, hasMore: all.length > args.offset + items.length };
  }

  async latestRun(buildKey: string): Promise<RunData | null> {
    if (!this.configured(buildKey)) return null;
    const [b] = await this.builds(buildKey, 1);
    // Not withEnd: a builds list would pay one log read per row for it (see bench/README.md, calls per screen).
    return b ? toRunData(buildKey, b) : null;
  }

  /** One run with its end time and failure from its phase log when it has finished (one more read, cached while fresh). */
  private async withEnd(ref: RunRef, b: BuildView): Promise<RunData> {
    const run = toRunData(ref.repo, b);
    if (run.state !== 'DONE' && run.state !== 'ERROR' && run.state !== 'CANCELED') return run;
    // A finished build's end never changes: pollers reading lists past the cache read each log once.
    const key = `${run.key}|${b.phase}`;
    const known = this.ends.get(key);
    if (known) return { ...run, ...known };
    const entries = await nullIfNotFound(this.logEntries(ref));
    if (!entries) return run;
    const ended = withPhaseEnd(run, b, entries);
    if (ended.endTime) {
      if (this.ends.size >= ENDS_KEPT) this.ends.delete(this.ends.keys().next().value!);
      this.ends.set(key, { endTime: ended.endTime, errorMessage: ended.errorMessage ?? null });
    }
    return ended;
  }

  private async view(ref: RunRef, fresh = false): Promise<BuildView | null> {
    if (!this.configured(ref.repo)) return null;
    return nullIfNotFound(this.client.get(`${this.repoPath(ref.repo)}/build/${encodeURIComponent(ref.uuid)}`, { schema: buildViewWire, cache: !fresh }));
  }

  async getRun(key: string): Promise<RunData | null> {
    const ref = parseRunKey(key);
    const b = await this.view(ref);
    return b && this.withEnd(ref, b);
  }

  /**
   * tagName -> docker_tags (comma-separated for several; default the repository's `tags` or
   * ["latest"]); archive_url, dockerfile_path, context and pull_robot come from the
   * repository's options. Quay keeps no description and calls no callback: asking for
   * either is refused rather than dropped.
   */
  async runBuild(buildKey: string, opts: RunBuildOptions): Promise<RunData> {
    if (opts.description) throw unsupported(this.id, 'a run description (Quay builds have none)');
    if (opts.callbackUrl) throw unsupported(this.id, 'a run callbackUrl (use Quay repository notifications)');
    const tags = opts.tagName ? opts.tagName.split(',').map((t) => t.trim()).filter(Boolean) : undefined;
    return this.requestBuild(buildKey, { tags });
  }

  /**
   * Quay's requestRepoBuild with every field of seed 004; what the request leaves out comes
   * from the repository's options (archiveUrl, dockerfilePath, context, tags, pullRobot).
   */
  async requestBuild(buildKey: string, req: QuayBuildRequest): Promise<RunData> {
    const cfg = this.configured(buildKey);
    if (!cfg) throw notFound('Build', buildKey);
    const archiveUrl = req.archiveUrl ?? cfg.archiveUrl;
    if (!archiveUrl) {
      throw badInput(`repository ${buildKey} has no archiveUrl in the options of provider "${this.id}" and the request gives none: Quay needs one to build`, 'archiveUrl');
    }
    if (!/^https?:\/\//i.test(archiveUrl)) throw badInput('archiveUrl must start with http or https', 'archiveUrl');
    const tags = req.tags?.length ? req.tags : cfg.tags ?? ['latest'];
    const created = await this.client.post(`${this.repoPath(buildKey)}/build/`, {
      json: {
        archive_url: archiveUrl, docker_tags: tags, dockerfile_path: req.dockerfilePath ?? cfg.dockerfilePath,
        context: req.context ?? cfg.context, pull_robot: req.pullRobot ?? cfg.pullRobot,
      },
      schema: buildViewWire,
    });
    await this.client.invalidate(`${this.repoPath(buildKey)}/build/`);
    return toRunData(buildKey, created);
  }

  async cancelRun(key: string): Promise<RunData> {
    const ref = parseRunKey(key);
    const before = await this.view(ref, true);
    if (!before) throw notFound('BuildRun', key);
    const run = toRunData(ref.repo, before);
    if (!run.possibleActions!.includes('CANCEL')) throw actionNotAllowed('CANCEL', before.phase, run.possibleActions!);
    await this.client.delete(`${this.repoPath(ref.repo)}/build/${encodeURIComponent(ref.uuid)}`); // 201 "Okay"
    await this.client.invalidate(`${this.repoPath(ref.repo)}/build/`);
    const after = await this.view(ref, true);
    return toRunData(ref.repo, after ?? before);
  }

  // ---- phases as steps, logs ----------------------------------------------------------

  /** All log entries from index 0: live from Redis, or the archived gzip JSON once archived. */
  private async logEntries(ref: RunRef): Promise<LogEntry[]> {
    const page = await this.client.get(`${this.repoPath(ref.repo)}/build/${encodeURIComponent(ref.uuid)}/logs`, {
      searchParams: { start: 0 }, schema: logsWire,
    });
    if (typeof page.logs_url !== 'string') return (page as { logs: LogEntry[] }).logs;
    const kept = this.archives.get(ref.uuid);
    if (kept && Date.now() - kept.at < this.cacheTtlMs) return kept.entries;
    const entries = await this.readArchive(page.logs_url);
    if (this.cacheTtlMs > 0) {
      this.archives.delete(ref.uuid);
      if (this.archives.size >= ARCHIVES_KEPT) this.archives.delete(this.archives.keys().next().value!);
      this.archives.set(ref.uuid, { at: Date.now(), entries });
    }
    return entries;
  }

  private async readArchive(logsUrl: string): Promise<LogEntry[]> {
    const raw = await this.client.get<Buffer>(logsUrl, { responseType: 'buffer' });
    let archived: unknown;
    try {
      const buf = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
      archived = JSON.parse(buf.toString('utf8'));
    } catch {
      throw new UpstreamError(ErrorCode.UPSTREAM_BAD_RESPONSE, this.id, 'archived build log is not gzip JSON');
    }
    return this.client.parse(logPageWire, archived, 'archived build log').logs;
  }

  async listStepRuns(runKey: string): Promise<StepRunData[]> {
    const ref = parseRunKey(runKey);
    const b = await this.view(ref);
    if (!b) throw notFound('BuildRun', runKey);
    // The view has the phase (…/status answers the very same body, so it is not read again); the log gives phase times.
    return toStepRuns(ref, b, await this.logEntries(ref));
  }

  async getStepRun(key: string): Promise<StepRunData | null> {
    const { last: _phase, ...ref } = parseChildKey(key, 'step run');
    if (!(await this.view(ref))) return null;
    return (await this.listStepRuns(runKeyOf(ref))).find((s) => s.key === key) ?? null;
  }

  /**
   * Quay answers every entry from `start` on; lines are read from 0 so each line's phase
   * (its step) is known, then sliced here. seq = upstream index + 1, stable.
   */
  async getLogs(
    runKey: string,
    args: { stepRunKey?: string | null; afterSeq?: number | null; limit: number; tail?: boolean },
  ): Promise<{ lines: LogLineData[]; lastSeq: number; hasMore: boolean }> {
    const ref = parseRunKey(runKey);
    if (!this.configured(ref.repo)) throw notFound('BuildRun', runKey);
    const entries = await nullIfNotFound(this.logEntries(ref));
    if (!entries) throw notFound('BuildRun', runKey);
    let lines = toLogLines(ref, entries);
    if (args.stepRunKey) lines = lines.filter((l) => l.stepRunKey === args.stepRunKey);
    const after = lines.filter((l) => l.seq > (args.afterSeq ?? 0));
    const out = args.tail ? after.slice(-args.limit) : after.slice(0, args.limit);
    // Nothing after afterSeq: resume after the last line there is, not after a seq that does not exist.
    return { lines: out, lastSeq: out.length ? out[out.length - 1]!.seq : Math.min(args.afterSeq ?? 0, lines.at(-1)?.seq ?? 0), hasMore: !args.tail && after.length > out.length };
  }

  // ---- image tags and records ---------------------------------------------------------

  /** Live tags of a repository from Quay's tag API (size, digest, push time), newest push first; at most maxRuns. */
  private async activeTags(repo: string, specificTag?: string): Promise<TagView[]> {
    return allPages(TAG_PAGE_MAX, async (i, size) => {
      const r = await this.client.get(`${this.repoPath(repo)}/tag/`, {
        searchParams: { limit: size, page: i + 1, onlyActiveTags: true, specificTag }, schema: tagPageWire,
      });
      // Quay gives no total: one more page exists when it says so.
      return { items: r.tags, total: (i + 1) * size + (r.has_additional ? 1 : 0) };
    }, this.options.maxRuns);
  }

  /**
   * A tag as an ImageTag; `run` is the newest complete build that asked for this tag and
   * started before it was pushed (the tag API does not name the build).
   */
  private tagData(repo: string, t: TagView, runs: BuildView[]): ImageTagData {
    const pushed = t.start_ts != null ? new Date(t.start_ts * 1000) : parseRfc2822(t.last_modified);
    const run = runs.find((b) => b.phase === 'complete' && (b.tags ?? []).includes(t.name)
      && (pushed === null || (parseRfc2822(b.started)?.getTime() ?? 0) <= pushed.getTime()));
    const runKey = run ? runKeyOf({ repo, uuid: run.id }) : null;
    return {
      key: `${runKey ?? `${repo}/${NO_RUN}`}/${t.name}`, buildKey: repo, runKey, tag: t.name, imageName: repo,
      imageUrl: `${this.registryHost}/${repo}:${t.name}`, registryImagePath: repo, registryName: this.registryHost,
      digest: t.manifest_digest ?? null, size: t.size ?? null,
      beginTime: run ? parseRfc2822(run.started) : null, endTime: pushed, runDescription: run?.display_name ?? null,
    };
  }

  /** The repository's live tags (Quay's tag API), sorted here: the API pages newest push first and sorts nothing else. */
  async listImageTags(buildKey: string, args: PageArgs & { sort: ImageTagSort; order: SortOrder }): Promise<Page<ImageTagData>> {
    if (!this.configured(buildKey)) throw notFound('Build', buildKey);
    const [raw, runs] = await Promise.all([this.activeTags(buildKey), this.builds(buildKey, this.options.maxRuns)]);
    const tags = raw.map((t) => this.tagData(buildKey, t, runs));
    const dir = args.order === 'ASC' ? 1 : -1;
    const num = (v: number | null | undefined) => v ?? -Infinity;
    if (args.sort === 'TAG') tags.sort((a, b) => dir * a.tag.localeCompare(b.tag, undefined, { numeric: true }));
    else if (args.sort === 'IMAGE_SIZE') tags.sort((a, b) => dir * (num(a.size) - num(b.size)) || a.tag.localeCompare(b.tag));
    else tags.sort((a, b) => dir * byTime(a.endTime, b.endTime) || a.tag.localeCompare(b.tag));
    const items = tags.slice(args.offset, args.offset + args.limit);
    return { items, totalCount: tags.length, hasMore: args.offset + items.length < tags.length };
  }

  async getImageTag(key: string): Promise<ImageTagData | null> {
    const { last: tag, ...ref } = parseChildKey(key, 'image tag');
    if (!this.configured(ref.repo)) return null;
    const [raw, runs] = await Promise.all([this.activeTags(ref.repo, tag), this.builds(ref.repo, this.options.maxRuns)]);
    const found = raw.find((t) => t.name === tag);
    const data = found && this.tagData(ref.repo, found, runs);
    return data && data.key === key ? data : null;
  }

  async getBuildRecord(runKey: string): Promise<BuildRecordData | null> {
    const ref = parseRunKey(runKey);
    const b = await this.view(ref);
    if (!b) return null;
    const run = toRunData(ref.repo, b);
    const branch = b.trigger_metadata?.ref?.replace(/^refs\/(heads|tags)\//, '') ?? null;
    return {
      key: run.key, runKey: run.key, buildKey: ref.repo, buildNo: null, status: b.phase, state: run.state,
      triggerType: b.trigger?.service ?? (b.manual_user ? 'MANUAL' : null), triggeredBy: b.manual_user ?? null,
      repository: ref.repo, branch, tag: b.tags?.[0] ?? null, commit: b.trigger_metadata?.commit ?? null,
      createTime: run.beginTime, startTime: run.beginTime, errorMessage: b.error ?? null,
      details: { displayName: b.display_name ?? null, tags: b.tags ?? [] },
    };
  }
}

/** A configured repository that Quay answers 403/404 for. */
function unreadableRepository(providerId: string, repo: string): UpstreamError {
  return new UpstreamError(ErrorCode.UPSTREAM_NOT_FOUND, providerId,
    `repository ${repo} is configured but Quay shows no such repository to this token (unknown, or not readable with it)`, { id: repo });
}
