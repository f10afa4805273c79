/**
 * The provider contract. The schema layer knows only this file: every build system
 * (the native engine, Cocktail, Quay, Zadig, CodeArts) is one folder that implements
 * `Provider` and speaks in plain data shapes. Keys (`key`) are the provider's
 * own identifiers as strings; the schema turns them into global Node IDs. The data shapes
 * themselves live in `src/model.ts` (shared with the store and the engine).
 */

import type {
  BuildData, BuildInputData, BuildListArgs, BuildRecordData, BuildStatsData, ImageTagData, ImageTagSort, LogLineData,
  Page, PageArgs, RunBuildOptions, RunData, RunRemovalData, SortOrder, StepRunData,
} from '../model.js';

export * from '../model.js';

export const PROVIDER_KINDS = ['NATIVE', 'COCKTAIL', 'QUAY', 'ZADIG', 'CODEARTS'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** What the schema may ask of a provider; anything else is refused with UNSUPPORTED_BY_PROVIDER. */
export const CAPABILITIES = [
  'BUILD_LIST', 'BUILD_GET', 'BUILD_CREATE', 'BUILD_UPDATE', 'BUILD_DELETE', 'BUILD_STATS',
  'RUN_LIST', 'RUN_GET', 'RUN_START', 'RUN_CANCEL', 'RUN_REMOVE',
  'STEP_RUNS', 'LOGS', 'LOGS_LIVE', 'IMAGE_TAGS', 'BUILD_RECORD',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

export interface ProviderHealthData {
  status: 'UP' | 'DOWN' | 'UNKNOWN';
  lastSuccessAt: Date | null;
  lastErrorAt: Date | null;
  lastError: string | null;
  circuitState: 'CLOSED' | 'OPEN' | 'HALF_OPEN';
}

/**
 * One configured provider instance. Methods for capabilities the instance lacks may be
 * absent; the registry turns such calls into UNSUPPORTED_BY_PROVIDER errors.
 */
export interface Provider {
  readonly id: string;
  readonly kind: ProviderKind;
  readonly baseUrl: string | null;
  readonly capabilities: ReadonlySet<Capability>;
  health(): ProviderHealthData;
  close?(): Promise<void>;
  /** Webhooks from this upstream (configured with a secret); absent: its runs are polled only. */
  readonly push?: ProviderPush | null;
  /** Operations only this kind of build system has (see ProviderExtensions); reached through `ProviderRegistry.extension`. */
  readonly extensions?: ProviderExtensions;

  listBuilds?(args: BuildListArgs): Promise<Page<BuildData>>;
  getBuild?(key: string): Promise<BuildData | null>;
  createBuild?(input: BuildInputData): Promise<BuildData>;
  updateBuild?(key: string, input: BuildInputData): Promise<BuildData>;
  deleteBuild?(key: string): Promise<boolean>;
  getBuildStats?(buildKey: string): Promise<BuildStatsData>;

  listRuns?(buildKey: string, args: PageArgs): Promise<Page<RunData>>;
  getRun?(key: string): Promise<RunData | null>;
  latestRun?(buildKey: string): Promise<RunData | null>;
  runBuild?(buildKey: string, opts: RunBuildOptions): Promise<RunData>;
  cancelRun?(key: string): Promise<RunData>;
  /** null: no such run. */
  removeRun?(key: string, opts: { removeImageTag?: boolean }): Promise<RunRemovalData | null>;

  listStepRuns?(runKey: string): Promise<StepRunData[]>;
  getStepRun?(key: string): Promise<StepRunData | null>;
  getLogs?(runKey: string, args: { stepRunKey?: string | null; afterSeq?: number | null; limit: number; tail?: boolean }): Promise<{ lines: LogLineData[]; lastSeq: number; hasMore: boolean }>;

  listImageTags?(buildKey: string, args: ImageTagListArgs): Promise<Page<ImageTagData>>;
  getImageTag?(key: string): Promise<ImageTagData | null>;
  getBuildRecord?(runKey: string): Promise<BuildRecordData | null>;

  /*
   * Batch reads: one call for many keys, one result per key in key order (null: not found;
   * an Error: that key alone failed). A provider without them is read one key at a time by
   * `batchReads` (src/providers/batch.ts) with bounded parallelism; a provider whose upstream
   * can answer many keys at once implements them.
   */
  getBuilds?(keys: readonly string[]): Promise<Batch<BuildData | null>>;
  getRuns?(keys: readonly string[]): Promise<Batch<RunData | null>>;
  latestRuns?(buildKeys: readonly string[]): Promise<Batch<RunData | null>>;
  /** The same page (args) of each build's runs, newest first. */
  listRunsOfBuilds?(buildKeys: readonly string[], args: PageArgs): Promise<Batch<Page<RunData>>>;
  listStepRunsOfRuns?(runKeys: readonly string[]): Promise<Batch<StepRunData[]>>;
  getBuildStatsOfBuilds?(buildKeys: readonly string[]): Promise<Batch<BuildStatsData>>;
  listImageTagsOfBuilds?(buildKeys: readonly string[], args: ImageTagListArgs): Promise<Batch<Page<ImageTagData>>>;
}

/**
 * Provider-specific operations, one typed interface each. A provider offers the ones its
 * system has; the schema asks the registry for one by name (`registry.extension(id, name)`)
 * and gets UNSUPPORTED_BY_PROVIDER from any other provider. Inputs are in the schema's
 * terms (camelCase, null for "not given"): converting them to the upstream's wire format,
 * and naming input fields in errors the way the client wrote them, is the provider's job.
 */
export interface ProviderExtensions {
  /** Build requests with every field of an image-repository build service (Quay requestRepoBuild). */
  repositoryBuilds?: RepositoryBuilds;
  /** Zadig build modules: its own create/update bodies, which the step-based BuildInput cannot express. */
  zadigBuildModules?: ZadigBuildModules;
}
export type ProviderExtensionName = keyof ProviderExtensions;

export interface RepositoryBuildRequest {
  archiveUrl?: string | null;
  dockerfilePath?: string | null;
  context?: string | null;
  tags?: string[] | null;
  pullRobot?: string | null;
}
export interface RepositoryBuilds {
  requestBuild(buildKey: string, req: RepositoryBuildRequest): Promise<RunData>;
}

/**
 * A Zadig build module as the schema's ZadigBuildInput / ZadigTemplateBuildInput give it
 * (camelCase); the provider validates it against Zadig's own body and names fields of it in
 * errors (`field` relative to the module, e.g. "services[0].serviceName").
 */
export type ZadigModuleInput = { readonly name: string } & Readonly<Record<string, unknown>>;
export interface ZadigBuildModules {
  create(projectKey: string, module: ZadigModuleInput): Promise<BuildData>;
  update(projectKey: string, module: ZadigModuleInput): Promise<BuildData>;
  createFromTemplate(projectKey: string, module: ZadigModuleInput): Promise<BuildData>;
  updateFromTemplate(projectKey: string, module: ZadigModuleInput): Promise<BuildData>;
}

/** Per-key results of a batch read. */
export type Batch<T> = Array<T | Error>;
export type ImageTagListArgs = PageArgs & { sort: ImageTagSort; order: SortOrder };

/** A webhook request to `/hooks/<providerId>/<path>` as received (body: at most the size limit, not yet parsed). */
export interface PushRequest {
  /** What follows `/hooks/<providerId>`, '' or starting with '/'. */
  path: string;
  query: Record<string, string>;
  /** Authorization header, if any. */
  authorization: string | null;
  body: Buffer;
}

/**
 * What a notification says changed. It only wakes pollers: they read the run from the
 * upstream's API, so a forged or replayed notification changes nothing it reports.
 */
export interface PushNotice {
  buildKey: string;
  /** null: some run of the build (the notification does not say which). */
  runKey: string | null;
  /** The upstream's event name, for logs. */
  event: string;
}

/** How one upstream pushes: authentication, the notice a request carries, and work after the wake. */
export interface ProviderPush {
  /** Constant-time; false: 401 and nothing else happens. */
  authenticate(req: PushRequest): boolean;
  /** Throws BAD_USER_INPUT for a body that is not a notification of this system (400), NOT_FOUND for an object not configured here (404). */
  notice(req: PushRequest): PushNotice;
  /** After the wake, in the background (e.g. Cocktail: the user's callback once the run has ended). */
  settle?(notice: PushNotice): Promise<void>;
}
