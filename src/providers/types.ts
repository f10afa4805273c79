/**
 * The provider contract. The schema layer knows only this file: every build system
 * (the native engine, Cocktail, Quay, Zadig, CodeArts) is one folder that implements
 * `Provider` and speaks in the plain data shapes below. Keys (`key`) are the provider's
 * own identifiers as strings; the schema turns them into global Node IDs.
 */

export const PROVIDER_KINDS = ['NATIVE', 'COCKTAIL', 'QUAY', 'ZADIG', 'CODEARTS'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

export const RUN_STATES = ['QUEUED', 'RUNNING', 'DONE', 'ERROR', 'CANCELED'] as const;
export type RunState = (typeof RUN_STATES)[number];

export const STEP_STATES = ['WAIT', 'RUNNING', 'DONE', 'ERROR', 'SKIPPED', 'CANCELED'] as const;
export type StepState = (typeof STEP_STATES)[number];

export const STEP_TYPES = ['CODE_DOWN', 'USER_TASK', 'FTP', 'HTTP', 'SHELL', 'CREATE_IMAGE'] as const;
export type StepType = (typeof STEP_TYPES)[number];

export const BUILD_ACTIONS = ['VIEW', 'BUILD', 'LOG', 'REMOVE', 'CANCEL'] as const;
export type BuildAction = (typeof BUILD_ACTIONS)[number];

export const RUN_TYPES = ['BUILD', 'CANCEL', 'REMOVE'] as const;
export type RunType = (typeof RUN_TYPES)[number];

/** What the schema may ask of a provider; anything else is refused with UNSUPPORTED_BY_PROVIDER. */
export const CAPABILITIES = [
  'BUILD_LIST', 'BUILD_GET', 'BUILD_CREATE', 'BUILD_UPDATE', 'BUILD_DELETE', 'BUILD_STATS',
  'RUN_LIST', 'RUN_GET', 'RUN_START', 'RUN_CANCEL', 'RUN_REMOVE',
  'STEP_RUNS', 'LOGS', 'LOGS_LIVE', 'IMAGE_TAGS', 'BUILD_RECORD',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

export type AutotagSeqType = 'DATETIME' | 'SEQUENCE';

/** Step configuration, field by field as the Cocktail model names them (seed 000). */
export interface CodeDownConfig {
  stepType: 'CODE_DOWN';
  stepTitle?: string | null;
  repositoryType: 'GIT';
  repositoryUrl: string;
  branchName: string;
  codeSaveDir?: string | null;
  commonType: 'COMMON' | 'PRIVATE';
  protocolType: 'http' | 'https';
  userId?: string | null;
  /** Secret: password or access token for HTTPS clone. */
  password?: string | null;
  httpSslVerifySkip?: boolean | null;
}
export interface VolumeMount { containerPath: string; hostPath: string }
export interface KeyValue { key: string; value: string }
export interface UserTaskConfig {
  stepType: 'USER_TASK';
  stepTitle?: string | null;
  cmd: string[];
  workingDir?: string | null;
  imageName: string;
  imageTag: string;
  dockerVolumeMountVOList?: VolumeMount[] | null;
  envs?: KeyValue[] | null;
}
export type FtpType = 'FTP' | 'FTPS' | 'SFTP';
export type FtpExecType = 'FTP_UPLOAD' | 'FTP_DOWN' | 'DIR_FTP_UPLOAD' | 'DIR_FTP_DOWN';
export interface FtpConfig {
  stepType: 'FTP';
  stepTitle?: string | null;
  url: string;
  ftpType: FtpType;
  username?: string | null;
  /** Secret. */
  password?: string | null;
  sourceFiles: string;
  remoteDirectory: string;
  ftpExecType: FtpExecType;
  /** FTPS: accept a certificate that does not verify (self-signed servers). */
  ignoreSslErrors?: boolean | null;
}
export type HttpMode = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
export interface HttpHeader {
  name: string;
  /** Secret when `secret` is true or the header carries credentials (Authorization, Cookie, *token*, *key*). */
  value: string;
  secret?: boolean | null;
}
export interface HttpConfig {
  stepType: 'HTTP';
  stepTitle?: string | null;
  url: string;
  httpMode: HttpMode;
  customHeaders?: HttpHeader[] | null;
  ignoreSslErrors?: boolean | null;
  username?: string | null;
  /** Secret. */
  password?: string | null;
  /** Seconds. */
  timeout: number;
  validResponseCodes?: string | null;
  validResponseContent?: string | null;
  outputFile?: string | null;
  consoleLogResponseBody?: boolean | null;
  requestBody?: string | null;
}
export interface ShellConfig {
  stepType: 'SHELL';
  stepTitle?: string | null;
  shellType: 'COMMAND' | 'SCRIPT';
  command: string;
  /** Seconds; null means the engine default. */
  timeout?: number | null;
}
export type DockerFileType = 'CONTENTS' | 'FILE_PATH';
export interface CreateImageConfig {
  stepType: 'CREATE_IMAGE';
  stepTitle?: string | null;
  dockerFileType: DockerFileType;
  dockerFile?: string | null;
  dockerFilePath?: string | null;
  registryId?: string | null;
  registryName: string;
  imageName: string;
  imageTag?: string | null;
  latestApply?: boolean | null;
  registryUrl?: string | null;
  loginId?: string | null;
  /** Secret: registry password. */
  password?: string | null;
  privateCertificate?: string | null;
  externalRegistrySeq?: number | null;
  severity?: string | null;
  exitCode?: string | null;
}
export type StepConfig =
  | CodeDownConfig | UserTaskConfig | FtpConfig | HttpConfig | ShellConfig | CreateImageConfig;

export interface BuildStepData {
  key: string;
  stepType: StepType;
  stepOrder: number;
  useFlag: boolean;
  /** Full config including secrets: only the engine reads secrets; the schema masks them. */
  config: StepConfig;
}

export interface AutotagData { enabled: boolean; prefix: string | null; seqType: AutotagSeqType | null }

export interface BuildData {
  key: string;
  name: string;
  description: string | null;
  accountSeq?: number | null;
  registryName?: string | null;
  registryProjectId?: number | null;
  externalRegistrySeq?: number | null;
  imageName?: string | null;
  tagName?: string | null;
  autotag?: AutotagData | null;
  buildServerHost?: string | null;
  buildServerTlsVerify?: boolean | null;
  /** Which TLS secrets are set (values are never carried here). */
  hasBuildServerCacrt?: boolean;
  hasBuildServerClientCert?: boolean;
  hasBuildServerClientKey?: boolean;
  hostUrl?: string | null;
  steps?: BuildStepData[] | null;
  createdAt?: Date | null;
  updatedAt?: Date | null;
  /** Provider-specific fields, secrets removed. */
  details?: Record<string, unknown> | null;
}

export interface BuildStatsData {
  buildCount: number;
  runningCount: number;
  doneCount: number;
  errorCount: number;
  pipelineCount?: number | null;
  tagCount: number;
  buildTimeAvg: number | null;
  imgSizeAvg: number | null;
  latestBuildTime: number | null;
  latestImgSize: number | null;
  latestExecTime: Date | null;
}

export interface RunData {
  key: string;
  buildKey: string;
  buildNo: number | null;
  runType: RunType;
  state: RunState;
  rawState: string;
  description: string | null;
  tagName: string | null;
  callbackUrl?: string | null;
  imageUrl?: string | null;
  imageSize?: number | null;
  imageDigest?: string | null;
  trigger?: string | null;
  triggeredBy?: string | null;
  sourceRevision?: string | null;
  errorMessage?: string | null;
  beginTime: Date | null;
  endTime: Date | null;
  createdAt?: Date | null;
  /** Actions the provider allows now; when absent the schema derives them from `state`. */
  possibleActions?: BuildAction[] | null;
  details?: Record<string, unknown> | null;
}

export interface StepRunData {
  key: string;
  runKey: string;
  stepKey?: string | null;
  stepType: string;
  stepOrder: number;
  title?: string | null;
  state: StepState;
  rawState: string;
  beginTime: Date | null;
  endTime: Date | null;
  errorMessage?: string | null;
  useFlag?: boolean;
  config?: StepConfig | null;
}

export interface ImageTagData {
  key: string;
  buildKey: string;
  runKey: string | null;
  tag: string;
  imageName?: string | null;
  imageUrl?: string | null;
  registryImagePath?: string | null;
  registryName?: string | null;
  digest?: string | null;
  size?: number | null;
  beginTime?: Date | null;
  endTime?: Date | null;
  runDescription?: string | null;
}

export interface BuildRecordData {
  key: string;
  runKey: string;
  buildKey: string;
  buildNo: number | null;
  status: string;
  state: RunState;
  triggerType: string | null;
  triggeredBy?: string | null;
  repository?: string | null;
  branch?: string | null;
  tag?: string | null;
  commit?: string | null;
  commitMessage?: string | null;
  createTime?: Date | null;
  queuedTime?: Date | null;
  startTime?: Date | null;
  finishTime?: Date | null;
  durationMs?: number | null;
  errorMessage?: string | null;
  details?: Record<string, unknown> | null;
}

export type LogStream = 'STDOUT' | 'STDERR' | 'SYSTEM';
export interface LogLineData {
  seq: number;
  stepKey: string | null;
  stream: LogStream;
  time: Date | null;
  text: string;
  /** A piece of a long line that continues the previous line (absent: false). */
  continued?: boolean;
}

/** A pushed tag removeRun did not delete from its registry because the run no longer owns it. */
export interface ImageTagKeptData {
  /** host/repository:tag */
  image: string;
  /** NEWER_RUN: a later run pushed the same tag; DIGEST_CHANGED: the registry has another image under it. */
  reason: 'NEWER_RUN' | 'DIGEST_CHANGED';
  /** The run that pushed it again (NEWER_RUN). */
  ownerRunKey: string | null;
  detail: string;
}
export interface RunRemovalData { imageTagsKept: ImageTagKeptData[] }

/** Offset paging: every upstream style (pages, since, none) is mapped onto it by the provider. */
export interface PageArgs { offset: number; limit: number }
export interface Page<T> { items: T[]; totalCount: number | null; hasMore: boolean }

export type BuildSort = 'NAME' | 'LAST_RUN_TIME';
export type SortOrder = 'ASC' | 'DESC';
export interface BuildFilter { nameContains?: string | null; lastRunStates?: RunState[] | null }
export type ImageTagSort = 'TAG' | 'IMAGE_SIZE' | 'END_TIME';

export interface BuildInputData {
  name: string;
  description?: string | null;
  accountSeq?: number | null;
  registryName?: string | null;
  registryProjectId?: number | null;
  externalRegistrySeq?: number | null;
  imageName?: string | null;
  tagName?: string | null;
  autotag?: AutotagData | null;
  buildServerHost?: string | null;
  buildServerTlsVerify?: boolean | null;
  /** Secrets: undefined keeps the stored value, null or '' clears it. */
  buildServerCacrt?: string | null;
  buildServerClientCert?: string | null;
  buildServerClientKey?: string | null;
  steps: Array<{ key?: string | null; stepOrder: number; useFlag: boolean; config: StepConfig }>;
}

export interface RunBuildOptions { tagName?: string | null; description?: string | null; callbackUrl?: string | null; triggeredBy?: string | null }

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
