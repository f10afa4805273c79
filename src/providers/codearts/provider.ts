import { actionNotAllowed, notFound, unsupported } from '../../errors.js';
import type {
  BuildData, BuildFilter, BuildRecordData, BuildSort, Capability, Page, PageArgs, Provider, ProviderHealthData,
  RunBuildOptions, RunData, SortOrder, StepRunData,
} from '../types.js';
import type { UpstreamClient } from '../upstream/client.js';
import type { CodeArtsApi } from './api.js';
import type { CodeArtsLogReader } from './logs.js';
import * as m from './map.js';
import type { CodeArtsOptions } from './options.js';
import { allPages, pageWindow } from '../upstream/paging.js';
import type { CodeArtsJob } from './wire.js';

const CAPABILITIES: Capability[] = [
  'BUILD_LIST', 'BUILD_GET', 'RUN_LIST', 'RUN_GET', 'RUN_START', 'RUN_CANCEL', 'STEP_RUNS', 'LOGS', 'LOGS_LIVE', 'BUILD_RECORD',
];
const PAGE_MAX = 100;
const TERMINAL = new Set(['DONE', 'ERROR', 'CANCELED']);

/**
 * Huawei CodeArts Build behind the Provider interface: a Build is a build job (job_id),
 * a BuildRun is one build of it (job_id + build_no), StepRuns are its build actions.
 * CodeArts has no API here to define jobs or to list produced images: those are refused.
 */
export class CodeArtsProvider implements Provider {
  readonly kind = 'CODEARTS' as const;
  readonly capabilities: ReadonlySet<Capability> = new Set(CAPABILITIES);

  constructor(
    readonly id: string,
    readonly baseUrl: string,
    private readonly client: UpstreamClient,
    private readonly api: CodeArtsApi,
    private readonly logs: CodeArtsLogReader,
    private readonly opts: CodeArtsOptions,
  ) {}

  health(): ProviderHealthData { return this.client.health(); }
  async close(): Promise<void> { await this.client.close(); }

  async listBuilds(args: PageArgs & { filter?: BuildFilter; sort?: BuildSort; order?: SortOrder }): Promise<Page<BuildData>> {
    if (args.filter?.lastRunStates?.length) throw unsupported(this.id, 'filtering builds by last run state');
    if (!args.filter?.nameContains && !args.sort) {
      const page = await pageWindow(args.offset, args.limit, PAGE_MAX, async (i, size) => {
        const r = await this.api.listJobs(i, size);
        return { items: r.jobs ?? [], total: r.total };
      });
      return { ...page, items: page.items.map(m.buildFromJob) };
    }
    // CodeArts cannot filter or sort this list: gather it and do both here.
    let jobs = await this.allJobs();
    const needle = args.filter?.nameContains?.toLowerCase();
    if (needle) jobs = jobs.filter((j) => j.job_name.toLowerCase().includes(needle));
    const dir = args.order === 'DESC' ? -1 : 1;
    if (args.sort === 'NAME') jobs.sort((a, b) => dir * a.job_name.localeCompare(b.job_name));
    if (args.sort === 'LAST_RUN_TIME') jobs.sort((a, b) => dir * ((a.last_build_time ?? 0) - (b.last_build_time ?? 0)));
    const items = jobs.slice(args.offset, args.offset + args.limit).map(m.buildFromJob);
    return { items, totalCount: jobs.length, hasMore: args.offset + items.length < jobs.length };
  }

  /** No single-job read in the API used here, so the job is found in the project's job list. */
  async getBuild(key: string): Promise<BuildData | null> {
    if (!m.isJobId(key)) return null;
    const job = (await this.allJobs()).find((j) => j.id === key);
    return job ? m.buildFromJob(job) : null;
  }

  async createBuild(): Promise<BuildData> { throw unsupported(this.id, 'creating build jobs'); }
  async updateBuild(): Promise<BuildData> { throw unsupported(this.id, 'changing build jobs'); }
  async deleteBuild(): Promise<boolean> { throw unsupported(this.id, 'deleting build jobs'); }

  /** History is paged by page number and limited to the last `historyIntervalDays` days (≤ 30). */
  async listRuns(buildKey: string, args: PageArgs): Promise<Page<RunData>> {
    if (!m.isJobId(buildKey)) throw notFound('Build', buildKey);
    const page = await pageWindow(args.offset, args.limit, PAGE_MAX, async (i, size) => {
      const r = await this.api.history(buildKey, i, size, this.opts.historyIntervalDays);
      return { items: r.history_records ?? [], total: r.total };
    });
    return { ...page, items: page.items.map((h) => m.runFromHistory(h, buildKey)) };
  }

  async getRun(key: string, fresh = false): Promise<RunData | null> {
    const ref = m.parseRunKey(key);
    const rec = ref && (await this.api.record(ref.jobId, ref.buildNo, fresh));
    return rec && ref ? m.runFromRecord(rec, ref) : null;
  }

  /**
   * The history entry alone (number, state, times): what a builds list shows, in one call
   * per job. Trigger and commit come with `run(id)` / `record`, which read record-info.
   */
  async latestRun(buildKey: string): Promise<RunData | null> {
    return (await this.listRuns(buildKey, { offset: 0, limit: 1 })).items[0] ?? null;
  }

  async runBuild(buildKey: string, opts: RunBuildOptions): Promise<RunData> {
    if (opts.tagName) throw unsupported(this.id, 'choosing the image tag of a run');
    if (opts.callbackUrl) throw unsupported(this.id, 'run callback URLs');
    if (opts.description) throw unsupported(this.id, 'run descriptions');
    if (!m.isJobId(buildKey)) throw notFound('Build', buildKey);
    const buildNo = await this.api.runJob(buildKey);
    const ref = { jobId: buildKey, buildNo };
    // The record may take a moment to appear; until then the run is accepted and queued.
    return (await this.getRun(m.runKey(ref), true)) ?? {
      key: m.runKey(ref), buildKey, buildNo, runType: 'BUILD', state: 'QUEUED', rawState: '', description: null, tagName: null,
      beginTime: null, endTime: null,
    };
  }

  async cancelRun(key: string): Promise<RunData> {
    const run = await this.getRun(key, true);
    if (!run) throw notFound('BuildRun', key);
    if (TERMINAL.has(run.state)) throw actionNotAllowed('CANCEL', run.state, ['VIEW', 'LOG']);
    await this.api.stop(run.buildKey, run.buildNo!);
    return (await this.getRun(key, true)) ?? run;
  }

  async listStepRuns(runKey: string): Promise<StepRunData[]> {
    const ref = m.parseRunKey(runKey);
    if (!ref) return [];
    const [details, run] = await Promise.all([this.api.steps(ref.jobId, ref.buildNo), this.getRun(runKey)]);
    return m.stepRunsFrom(details.build_steps ?? [], ref, run?.state ?? 'RUNNING');
  }
  async getStepRun(key: string): Promise<StepRunData | null> {
    const ref = m.parseStepKey(key);
    return ref ? ((await this.listStepRuns(m.runKey(ref)))[ref.index - 1] ?? null) : null;
  }

  async getLogs(runKey: string, args: { stepRunKey?: string | null; afterSeq?: number | null; limit: number; tail?: boolean }) {
    if (args.stepRunKey) throw unsupported(this.id, 'logs of a single build step (the real-time log covers the whole build)');
    const ref = m.parseRunKey(runKey);
    if (!ref) throw notFound('BuildRun', runKey);
    return this.logs.read(ref, args);
  }

  async getBuildRecord(runKey: string): Promise<BuildRecordData | null> {
    const ref = m.parseRunKey(runKey);
    const rec = ref && (await this.api.record(ref.jobId, ref.buildNo));
    return rec && ref ? m.recordFromRecord(rec, ref) : null;
  }

  /** GET /v3/jobs/{job_id}/status: whether any build of the job is running now. */
  async isJobRunning(buildKey: string): Promise<boolean> {
    if (!m.isJobId(buildKey)) throw notFound('Build', buildKey);
    return this.api.isRunning(buildKey);
  }

  private allJobs(): Promise<CodeArtsJob[]> {
    return allPages(PAGE_MAX, async (i, size) => {
      const r = await this.api.listJobs(i, size);
      return { items: r.jobs ?? [], total: r.total };
    });
  }
}
