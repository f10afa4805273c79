/**
 * The provider contract. The schema layer knows only this file: every build system
 * (the native engine, Cocktail, Quay, Zadig, CodeArts) is one folder that implements
 * `Provider` and speaks in plain data shapes. Keys (`key`) are the provider's
 * own identifiers as strings; the schema turns them into global Node IDs. The data shapes
 * themselves live in `src/model.ts` (shared with the store and the engine).
 */

import type {
  BuildData, BuildFilter, BuildInputData, BuildRecordData, BuildSort, BuildStatsData, ImageTagData, ImageTagSort, LogLineData,
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

  listBuilds?(args: PageArgs & { filter?: BuildFilter; sort?: BuildSort; order?: SortOrder }): Promise<Page<BuildData>>;
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
  getLogs?(runKey: string, args: { stepKey?: string | null; afterSeq?: number | null; limit: number; tail?: boolean }): Promise<{ lines: LogLineData[]; lastSeq: number; hasMore: boolean }>;

  listImageTags?(buildKey: string, args: PageArgs & { sort: ImageTagSort; order: SortOrder }): Promise<Page<ImageTagData>>;
  getImageTag?(key: string): Promise<ImageTagData | null>;
  getBuildRecord?(runKey: string): Promise<BuildRecordData | null>;
}
