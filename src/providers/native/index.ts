import type { Engine } from '../../engine/engine.js';
import { notFound } from '../../errors.js';
import { BuildStore } from '../../store/build-store.js';
import type { SecretBox } from '../../store/crypto.js';
import type { Store } from '../../store/db.js';
import { RunStore } from '../../store/run-store.js';
import type { HostRules } from '../../engine/steps/rules.js';
import { validateBuildInput, validateEngineSteps } from '../build-rules.js';
import type {
  BuildData, BuildInputData, BuildListArgs, BuildRecordData, BuildStatsData, Capability, ImageTagData, ImageTagListArgs,
  LogLineData, Page, PageArgs, Provider, ProviderHealthData, RunBuildOptions, RunData, RunRemovalData, StepRunData,
} from '../types.js';

export interface NativeOptions {
  maxSteps: number;
  /** Seals the secrets columns. */
  secrets: SecretBox;
  /** The engine's SSRF settings, to refuse private hosts when a build is saved (absent: checked at run time only). */
  hosts?: HostRules;
}

const RUN_CAPABILITIES: Capability[] = ['RUN_START', 'RUN_CANCEL', 'RUN_REMOVE'];

/**
 * The native provider: build definitions, runs, logs and tags in buildgate's own store,
 * executed by the native engine. Keys are the store's integer ids as strings.
 */
export class NativeProvider implements Provider {
  readonly id = 'native';
  readonly kind = 'NATIVE' as const;
  readonly baseUrl = null;
  readonly capabilities: ReadonlySet<Capability>;
  readonly builds: BuildStore;
  readonly runs: RunStore;
  private engine: Engine | null = null;

  constructor(readonly store: Store, private readonly opts: NativeOptions) {
    this.builds = new BuildStore(store, opts.secrets);
    this.runs = new RunStore(store, opts.secrets);
    this.capabilities = new Set<Capability>([
      'BUILD_LIST', 'BUILD_GET', 'BUILD_CREATE', 'BUILD_UPDATE', 'BUILD_DELETE', 'BUILD_STATS',
      'RUN_LIST', 'RUN_GET', 'STEP_RUNS', 'LOGS', 'LOGS_LIVE', 'IMAGE_TAGS', 'BUILD_RECORD', ...RUN_CAPABILITIES,
    ]);
  }

  /** Runs are executed by the engine attached here (absent in read-only tools). */
  attachEngine(engine: Engine): void {
    this.engine = engine;
  }

  private requireEngine(): Engine {
    if (!this.engine) throw new Error('the native engine is not running in this process');
    return this.engine;
  }

  health(): ProviderHealthData {
    return { status: 'UP', lastSuccessAt: null, lastErrorAt: null, lastError: null, circuitState: 'CLOSED' };
  }

  listBuilds(args: BuildListArgs): Promise<Page<BuildData>> {
    return this.builds.list(args);
  }

  getBuild(key: string): Promise<BuildData | null> {
    return this.builds.get(key);
  }

  async createBuild(input: BuildInputData): Promise<BuildData> {
    validateBuildInput(input, this.opts);
    await validateEngineSteps(input, this.opts.hosts ?? null);
    return this.builds.create(input);
  }

  async updateBuild(key: string, input: BuildInputData): Promise<BuildData> {
    validateBuildInput(input, this.opts);
    await validateEngineSteps(input, this.opts.hosts ?? null);
    const b = await this.builds.update(key, input);
    if (!b) throw notFound('Build', key);
    return b;
  }

  async deleteBuild(key: string): Promise<boolean> {
    const running = await this.runs.listRuns(key, { offset: 0, limit: 1000, withTotal: false });
    for (const r of running.items) if (r.state === 'RUNNING' || r.state === 'QUEUED') await this.requireEngine().cancel(r.key);
    return this.builds.delete(key);
  }

  getBuildStats(buildKey: string): Promise<BuildStatsData> {
    return this.builds.stats(buildKey);
  }

  listRuns(buildKey: string, page: PageArgs): Promise<Page<RunData>> {
    return this.runs.listRuns(buildKey, page);
  }

  getRun(key: string): Promise<RunData | null> {
    return this.runs.getRun(key);
  }

  latestRun(buildKey: string): Promise<RunData | null> {
    return this.runs.latestRun(buildKey);
  }

  runBuild(buildKey: string, opts: RunBuildOptions): Promise<RunData> {
    return this.requireEngine().startRun(buildKey, opts);
  }

  cancelRun(key: string): Promise<RunData> {
    return this.requireEngine().cancel(key);
  }

  removeRun(key: string, opts: { removeImageTag?: boolean }): Promise<RunRemovalData | null> {
    return this.requireEngine().remove(key, opts);
  }

  listStepRuns(runKey: string): Promise<StepRunData[]> {
    return this.runs.listStepRuns(runKey);
  }

  getStepRun(key: string): Promise<StepRunData | null> {
    return this.runs.getStepRun(key);
  }

  getLogs(runKey: string, args: { stepRunKey?: string | null; afterSeq?: number | null; limit: number; tail?: boolean }): Promise<{ lines: LogLineData[]; lastSeq: number; hasMore: boolean }> {
    return this.runs.getLogs(runKey, args);
  }

  listImageTags(buildKey: string, args: ImageTagListArgs): Promise<Page<ImageTagData>> {
    return this.runs.listImageTags(buildKey, args);
  }

  getImageTag(key: string): Promise<ImageTagData | null> {
    return this.runs.getImageTag(key);
  }

  getBuildRecord(runKey: string): Promise<BuildRecordData | null> {
    return this.runs.getBuildRecord(runKey);
  }

  // Batch reads: one statement per level (src/store), whatever the number of keys.
  getBuilds(keys: readonly string[]): Promise<Array<BuildData | null>> {
    return this.builds.getMany(keys);
  }

  getRuns(keys: readonly string[]): Promise<Array<RunData | null>> {
    return this.runs.getRuns(keys);
  }

  latestRuns(buildKeys: readonly string[]): Promise<Array<RunData | null>> {
    return this.runs.latestRuns(buildKeys);
  }

  listRunsOfBuilds(buildKeys: readonly string[], args: PageArgs): Promise<Array<Page<RunData>>> {
    return this.runs.listRunsOfBuilds(buildKeys, args);
  }

  listStepRunsOfRuns(runKeys: readonly string[]): Promise<StepRunData[][]> {
    return this.runs.listStepRunsOfRuns(runKeys);
  }

  getBuildStatsOfBuilds(buildKeys: readonly string[]): Promise<BuildStatsData[]> {
    return this.builds.statsOfBuilds(buildKeys);
  }

  listImageTagsOfBuilds(buildKeys: readonly string[], args: ImageTagListArgs): Promise<Array<Page<ImageTagData>>> {
    return this.runs.listImageTagsOfBuilds(buildKeys, args);
  }

  async close(): Promise<void> {
    await this.engine?.shutdown();
  }
}
