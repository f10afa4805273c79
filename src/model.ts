/**
 * The data shapes every layer speaks: build definitions, runs, step runs, image tags,
 * records, log lines and paging. A leaf module (it imports nothing), so the store, the
 * engine, the providers and the schema can share it without pointing at each other.
 */

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
/** An environment variable: its value is a secret unless `secret` is false. */
export interface KeyValue { key: string; value?: string | null; secret?: boolean | null }
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

/** A build's settings, the same whether read (BuildData) or written (BuildInputData). */
interface BuildSettings {
  accountSeq?: number | null;
  registryName?: string | null;
  registryProjectId?: number | null;
  externalRegistrySeq?: number | null;
  imageName?: string | null;
  tagName?: string | null;
  autotag?: AutotagData | null;
  buildServerHost?: string | null;
  buildServerTlsVerify?: boolean | null;
}

export interface BuildData extends BuildSettings {
  key: string;
  name: string;
  description: string | null;
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
  /** Actions this build allows (e.g. no BUILD for a Quay repository without archiveUrl); absent: from capabilities. */
  possibleActions?: BuildAction[] | null;
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
  buildStepKey?: string | null;
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

/** Where a log line came from: the step's stdout or stderr, or buildgate itself. */
export type LogSource = 'STDOUT' | 'STDERR' | 'SYSTEM';
export interface LogLineData {
  seq: number;
  /** The step run that wrote it (null: a run-level line). */
  stepRunKey: string | null;
  source: LogSource;
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


/**
 * Paging. Offset paging is what every upstream style (pages, since, none) maps onto; a source
 * that can also start after a position (keyset) takes `after` and gives `cursors`, and the
 * schema then hands out cursors that stay right when rows are added or removed meanwhile.
 */
export interface PageArgs {
  offset: number;
  limit: number;
  /** Start after this position (an entry of a previous `Page.cursors`); `offset` counts from there. Sources without keyset ignore it. */
  after?: string | null;
  /** Read in the opposite order (for `last`); only asked of sources that give `cursors`. */
  backward?: boolean;
  /** false: the caller does not need `totalCount` and the source may skip counting (null). */
  withTotal?: boolean;
}
export interface Page<T> {
  items: T[];
  totalCount: number | null;
  hasMore: boolean;
  /** Keyset position of each item (same order as `items`), from sources that honour `after`. */
  cursors?: string[] | null;
  /** Items of this page that could not be read, one error naming each; totalCount counts them too. */
  errors?: readonly Error[];
}

export type BuildSort = 'NAME' | 'LAST_RUN_TIME';
export type SortOrder = 'ASC' | 'DESC';
export interface BuildFilter { nameContains?: string | null; lastRunStates?: RunState[] | null }
/**
 * Arguments of a build list. For builds, `after` is the JSON of `[sortValue, key]` (sortValue:
 * the lower-cased name for NAME, the latest run's begin or create time in ms, 0 when none, for
 * LAST_RUN_TIME), so the merged list of several providers can resume after any row.
 */
export type BuildListArgs = PageArgs & { filter?: BuildFilter; sort?: BuildSort; order?: SortOrder };
export type ImageTagSort = 'TAG' | 'IMAGE_SIZE' | 'END_TIME';

export interface BuildInputData extends BuildSettings {
  name: string;
  description?: string | null;
  /** Secrets: undefined keeps the stored value, null or '' clears it. */
  buildServerCacrt?: string | null;
  buildServerClientCert?: string | null;
  buildServerClientKey?: string | null;
  steps: Array<{ key?: string | null; stepOrder: number; useFlag: boolean; config: StepConfig }>;
}

export interface RunBuildOptions { tagName?: string | null; description?: string | null; callbackUrl?: string | null; triggeredBy?: string | null }

/** Secret fields per step type: stored apart, never returned. */
export const STEP_SECRET_FIELDS: Record<StepType, string[]> = {
  CODE_DOWN: ['password'],
  USER_TASK: [],
  FTP: ['password'],
  HTTP: ['password'],
  SHELL: [],
  CREATE_IMAGE: ['password'],
};

/** Headers whose values are credentials even when not flagged secret. */
export const SECRET_HEADER = /^(authorization|proxy-authorization|cookie|x-auth-token|x-api-key)$|token|secret|passw|api[-_]?key/i;
