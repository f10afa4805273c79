/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
/** Automatic tagging settings. */
export type AutotagInput = {
  /** Generate tags (autotagUseYn = Y). */
  enabled: boolean;
  /** Prefix of generated tags. */
  prefix?: string | null | undefined;
  /** DATETIME or SEQUENCE; required when enabled. */
  seqType?: AutotagSeqType | null | undefined;
};

/** How an automatic tag is numbered. */
export type AutotagSeqType =
  /** prefix + yyyyMMdd-HHmmss of the run start. */
  | 'DATETIME'
  /** prefix + the build number, five digits (00007). */
  | 'SEQUENCE';

/** An action a user may take on a run (Cocktail `possibleActions`). */
export type BuildAction =
  /** Start a new run of the build. */
  | 'BUILD'
  /** Stop the running run. */
  | 'CANCEL'
  /** Read the run log. */
  | 'LOG'
  /** Delete the run record. */
  | 'REMOVE'
  /** Show the run. */
  | 'VIEW';

/** Filters for build lists. */
export type BuildFilterInput = {
  /** State of the latest run is one of these. */
  lastRunStates?: Array<RunState> | null | undefined;
  /** Case-insensitive substring of the name. */
  nameContains?: string | null | undefined;
};

/** A build definition (Cocktail build model). */
export type BuildInput = {
  /** Account number. */
  accountSeq?: number | null | undefined;
  /** Automatic tagging. */
  autotag?: AutotagInput | null | undefined;
  /** Build server CA (write-only). */
  buildServerCacrt?: string | null | undefined;
  /** Build server client certificate (write-only). */
  buildServerClientCert?: string | null | undefined;
  /** Build server client key (write-only). */
  buildServerClientKey?: string | null | undefined;
  /** Build server host (at most 256 characters). */
  buildServerHost?: string | null | undefined;
  /** TLS verification towards the build server. */
  buildServerTlsVerify?: boolean | null | undefined;
  /** Description (at most 4,000 characters). */
  description?: string | null | undefined;
  /** External registry number. */
  externalRegistrySeq?: number | null | undefined;
  /** Image name (at most 256 characters). */
  imageName?: string | null | undefined;
  /** Name (at most 256 characters). */
  name: string;
  /** Registry (project) name (at most 256 characters). */
  registryName?: string | null | undefined;
  /** Registry project id. */
  registryProjectId?: number | null | undefined;
  /** Steps. */
  steps: Array<BuildStepInput>;
  /** Default tag (required for image builds without autotag). */
  tagName?: string | null | undefined;
};

/** Sort key for build lists. */
export type BuildSort =
  | 'LAST_RUN_TIME'
  | 'NAME';

/** One step: set `stepType` and exactly the one matching config field. Each text field of a step config holds at most 4,096 characters (a title 256); the long ones — SHELL `command`, `dockerFile`, `privateCertificate`, `requestBody`, `cmd` and `envs` — only `limits.maxInputString`. */
export type BuildStepInput = {
  /** Config for CODE_DOWN. */
  codeDown?: CodeDownStepInput | null | undefined;
  /** Config for CREATE_IMAGE. */
  createImage?: CreateImageStepInput | null | undefined;
  /** Config for FTP. */
  ftp?: FtpStepInput | null | undefined;
  /** Config for HTTP. */
  http?: HttpStepInput | null | undefined;
  /** Config for SHELL. */
  shell?: ShellStepInput | null | undefined;
  /** ID of an existing step this one replaces (keeps its stored secrets when they are omitted). */
  stepId?: string | number | null | undefined;
  /** Position, 1-based, unique within the build. */
  stepOrder: number;
  /** Step type. */
  stepType: StepType;
  /** Enabled. */
  useFlag?: boolean;
  /** Config for USER_TASK. */
  userTask?: UserTaskStepInput | null | undefined;
};

/** An operation a provider instance supports; anything else answers UNSUPPORTED_BY_PROVIDER. */
export type Capability =
  | 'BUILD_CREATE'
  | 'BUILD_DELETE'
  | 'BUILD_GET'
  | 'BUILD_LIST'
  | 'BUILD_RECORD'
  | 'BUILD_STATS'
  | 'BUILD_UPDATE'
  | 'IMAGE_TAGS'
  | 'LOGS'
  | 'LOGS_LIVE'
  | 'RUN_CANCEL'
  | 'RUN_GET'
  | 'RUN_LIST'
  | 'RUN_REMOVE'
  | 'RUN_START'
  | 'STEP_RUNS';

/** What happened to an object. */
export type ChangeKind =
  | 'CREATED'
  | 'DELETED'
  | 'UPDATED';

/** Circuit breaker state: OPEN means calls fail fast without reaching the upstream. */
export type CircuitState =
  | 'CLOSED'
  | 'HALF_OPEN'
  | 'OPEN';

/** CODE_DOWN settings. */
export type CodeDownStepInput = {
  /** Branch. */
  branchName: string;
  /** Target directory in the workspace. */
  codeSaveDir?: string | null | undefined;
  /** COMMON or PRIVATE. */
  commonType?: CommonType;
  /** Skip TLS verification. */
  httpSslVerifySkip?: boolean | null | undefined;
  /** Password or token (write-only; omit to keep the stored one on update, "" to clear). */
  password?: string | null | undefined;
  /** HTTP or HTTPS. */
  protocolType?: ProtocolType;
  /** Repository kind. */
  repositoryType?: RepositoryType;
  /** Repository URL. */
  repositoryUrl: string;
  /** Title (at most 256 characters). */
  stepTitle?: string | null | undefined;
  /** User. */
  userId?: string | null | undefined;
};

/** COMMON: a public repository; PRIVATE: needs credentials. */
export type CommonType =
  | 'COMMON'
  | 'PRIVATE';

/** CREATE_IMAGE settings. */
export type CreateImageStepInput = {
  /** Dockerfile text. */
  dockerFile?: string | null | undefined;
  /** Dockerfile path in the workspace. */
  dockerFilePath?: string | null | undefined;
  /** CONTENTS or FILE_PATH. */
  dockerFileType?: DockerFileType;
  /** Scan exit code. */
  exitCode?: string | null | undefined;
  /** External registry number. */
  externalRegistrySeq?: number | null | undefined;
  /** Image name. */
  imageName: string;
  /** Image tag. */
  imageTag?: string | null | undefined;
  /** Also tag latest. */
  latestApply?: boolean | null | undefined;
  /** Registry login. */
  loginId?: string | null | undefined;
  /** Registry password (write-only). */
  password?: string | null | undefined;
  /** Private registry CA. */
  privateCertificate?: string | null | undefined;
  /** Registry project id. */
  registryId?: string | null | undefined;
  /** Registry project name. */
  registryName: string;
  /** Registry host. */
  registryUrl?: string | null | undefined;
  /** Scan severity threshold. */
  severity?: string | null | undefined;
  /** Title (at most 256 characters). */
  stepTitle?: string | null | undefined;
};

/** CONTENTS: the Dockerfile text is in the step; FILE_PATH: a Dockerfile in the workspace. */
export type DockerFileType =
  | 'CONTENTS'
  | 'FILE_PATH';

/** Direction and scope of an FTP step: one file or a whole directory, up or down. */
export type FtpExecType =
  | 'DIR_FTP_DOWN'
  | 'DIR_FTP_UPLOAD'
  | 'FTP_DOWN'
  | 'FTP_UPLOAD';

/** FTP settings. */
export type FtpStepInput = {
  /** Direction and scope. */
  ftpExecType: FtpExecType;
  /** FTP, FTPS or SFTP. */
  ftpType: FtpType;
  /** FTPS: accept a server certificate that does not verify. */
  ignoreSslErrors?: boolean | null | undefined;
  /** Password (write-only; omit to keep, "" to clear). */
  password?: string | null | undefined;
  /** Remote side. */
  remoteDirectory: string;
  /** Local side in the workspace. */
  sourceFiles: string;
  /** Title (at most 256 characters). */
  stepTitle?: string | null | undefined;
  /** Server host[:port]. */
  url: string;
  /** User. */
  username?: string | null | undefined;
};

/** File transfer protocol of an FTP step. */
export type FtpType =
  | 'FTP'
  | 'FTPS'
  | 'SFTP';

/** A request header. Authorization-like headers, or those flagged secret, are write-only. */
export type HttpHeaderInput = {
  /** Name. */
  name: string;
  /** Treat the value as a credential. */
  secret?: boolean | null | undefined;
  /** Value (for a secret header: omit/null to keep the stored one). */
  value?: string | null | undefined;
};

/** HTTP method of an HTTP step. */
export type HttpMode =
  | 'DELETE'
  | 'GET'
  | 'HEAD'
  | 'PATCH'
  | 'POST'
  | 'PUT';

/** HTTP settings. */
export type HttpStepInput = {
  /** Log the response body. */
  consoleLogResponseBody?: boolean | null | undefined;
  /** Headers. */
  customHeaders?: Array<HttpHeaderInput> | null | undefined;
  /** Method. */
  httpMode: HttpMode;
  /** Skip TLS verification. */
  ignoreSslErrors?: boolean | null | undefined;
  /** Workspace file for the response body. */
  outputFile?: string | null | undefined;
  /** Basic-auth password (write-only). */
  password?: string | null | undefined;
  /** Request body. */
  requestBody?: string | null | undefined;
  /** Title (at most 256 characters). */
  stepTitle?: string | null | undefined;
  /** Timeout, seconds (1-3600). */
  timeout: number;
  /** URL. Sent back as read (*** in place of a password or token), the stored credentials are kept. */
  url: string;
  /** Basic-auth user. */
  username?: string | null | undefined;
  /** Accepted codes: "200", "200,201", "200-299". */
  validResponseCodes?: string | null | undefined;
  /** Text the body must contain. */
  validResponseContent?: string | null | undefined;
};

/** Sort key for image tags. */
export type ImageTagSort =
  /** When it was pushed. */
  | 'PUSHED_AT'
  /** Image size. */
  | 'SIZE'
  /** The tag text. */
  | 'TAG';

/** Why removeRun left an image tag in its registry. */
export type KeptBecause =
  /** The registry holds another image under the tag. */
  | 'DIGEST_CHANGED'
  /** A later run pushed the same tag. */
  | 'NEWER_RUN';

/** An environment variable. Its value is write-only unless `secret` is false. */
export type KeyValueInput = {
  /** Name. */
  key: string;
  /** false: not a secret, the value is returned. Default: secret. */
  secret?: boolean | null | undefined;
  /** Value (for a secret variable: omit/null to keep the stored one on update, "" to clear). */
  value?: string | null | undefined;
};

/** Where a log line came from: the step's stdout or stderr, or buildgate itself. */
export type LogSource =
  | 'STDERR'
  | 'STDOUT'
  | 'SYSTEM';

/** Protocol used to reach the repository. */
export type ProtocolType =
  | 'HTTP'
  | 'HTTPS';

/** Which build system a provider instance speaks to. */
export type ProviderKind =
  /** Cocktail Cloud build API v1. */
  | 'COCKTAIL'
  /** Huawei Cloud CodeArts Build. */
  | 'CODEARTS'
  /** buildgate's own build engine. */
  | 'NATIVE'
  /** Quay repository builds. */
  | 'QUAY'
  /** Zadig OpenAPI build modules and workflow tasks. */
  | 'ZADIG';

/** Health of a provider instance as last seen. */
export type ProviderStatus =
  | 'DOWN'
  | 'UNKNOWN'
  | 'UP';

/** Source repository kind. */
export type RepositoryType =
  | 'GIT';

/** Unified state of a run, the same meaning for every provider. */
export type RunState =
  /** Stopped on request before it finished. */
  | 'CANCELED'
  /** Finished successfully. */
  | 'DONE'
  /** Finished with an error. */
  | 'ERROR'
  /** Accepted, not started yet. */
  | 'QUEUED'
  /** Executing. */
  | 'RUNNING';

/** SHELL settings. */
export type ShellStepInput = {
  /** Script text or command line. */
  command: string;
  /** SCRIPT or COMMAND. */
  shellType?: ShellType;
  /** Title (at most 256 characters). */
  stepTitle?: string | null | undefined;
  /** Timeout, seconds. */
  timeout?: number | null | undefined;
};

/** SCRIPT runs the text as a script file; COMMAND runs it as one command line. */
export type ShellType =
  | 'COMMAND'
  | 'SCRIPT';

/** Sort direction. */
export type SortOrder =
  | 'ASC'
  | 'DESC';

/** Unified state of one step of a run. */
export type StepState =
  /** Stopped because the run was canceled. */
  | 'CANCELED'
  /** Finished successfully. */
  | 'DONE'
  /** Failed; the run ends with ERROR. */
  | 'ERROR'
  /** Executing. */
  | 'RUNNING'
  /** Never ran: disabled, or an earlier step failed. */
  | 'SKIPPED'
  /** Not started yet. */
  | 'WAIT';

/** Kind of a build step (Cocktail model). */
export type StepType =
  /** git clone of a branch into the workspace. */
  | 'CODE_DOWN'
  /** An image built from a Dockerfile and pushed to an OCI registry. */
  | 'CREATE_IMAGE'
  /** Upload or download over FTP, FTPS or SFTP. */
  | 'FTP'
  /** An HTTP request with expected status codes. */
  | 'HTTP'
  /** A shell script run in the workspace. */
  | 'SHELL'
  /** A command in a container image with volume mounts. */
  | 'USER_TASK';

/** Why a mutation refused its input. */
export type UserErrorCode =
  /** The object is in a state that does not allow the action now (e.g. canceling a finished run). */
  | 'ACTION_NOT_ALLOWED'
  /** The input conflicts with the stored state (e.g. a name already taken upstream). */
  | 'CONFLICT'
  /** An object the input names does not exist (or is not visible to the credential). */
  | 'NOT_FOUND'
  /** The object's provider does not offer this operation. */
  | 'UNSUPPORTED_BY_PROVIDER'
  /** A field of the input is invalid (see `path`). */
  | 'VALIDATION';

/** USER_TASK settings. */
export type UserTaskStepInput = {
  /** Command and arguments. */
  cmd: Array<string>;
  /** Environment variables. */
  envs?: Array<KeyValueInput> | null | undefined;
  /** Image name. */
  imageName: string;
  /** Image tag. */
  imageTag: string;
  /** Title (at most 256 characters). */
  stepTitle?: string | null | undefined;
  /** Volume mounts. */
  volumeMounts?: Array<VolumeMountInput> | null | undefined;
  /** Working directory in the container. */
  workingDir?: string | null | undefined;
};

/** A volume mount. */
export type VolumeMountInput = {
  /** Absolute path inside the container. */
  containerPath: string;
  /** Workspace path ($PWD = workspace root). */
  hostPath: string;
};

export type BuildsListQueryVariables = Exact<{
  providerIds?: Array<string> | string | null | undefined;
  filter?: BuildFilterInput | null | undefined;
  sort?: BuildSort | null | undefined;
  order?: SortOrder | null | undefined;
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type BuildsListQuery = { builds: { totalCount: number | null, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ cursor: string, node: { id: string, key: string, name: string, provider: { id: string, providerId: string, kind: ProviderKind }, stats: { runCount: number, runningCount: number, doneCount: number, errorCount: number, tagCount: number, averageDurationMs: number | null } | null, lastRun: { id: string, buildNo: number | null, state: RunState, rawState: string, startedAt: string | null, durationMs: number | null, tagName: string | null } | null } }> } };

export type RunBuildMutationVariables = Exact<{
  buildId: string | number;
  tagName?: string | null | undefined;
  description?: string | null | undefined;
  callbackUrl?: string | null | undefined;
}>;


export type RunBuildMutation = { runBuild: { run: { id: string, buildNo: number | null, state: RunState, tagName: string | null, possibleActions: Array<BuildAction> } | null, errors: Array<{ code: UserErrorCode, message: string, path: Array<string> | null }> } };

export type RunLogSubscriptionVariables = Exact<{
  runId: string | number;
  stepRunId?: string | number | null | undefined;
  afterSeq?: number | null | undefined;
}>;


export type RunLogSubscription = { runLog: { lastSeq: number, fellBehind: boolean, lines: Array<{ seq: number, stepRunId: string | null, source: LogSource, loggedAt: string | null, text: string, continued: boolean }> } };

export type RunPageQueryVariables = Exact<{
  id: string | number;
  logLines?: number | null | undefined;
}>;


export type RunPageQuery = { run: { id: string, key: string, buildNo: number | null, state: RunState, rawState: string, trigger: string | null, triggeredBy: string | null, sourceRevision: string | null, description: string | null, tagName: string | null, startedAt: string | null, finishedAt: string | null, durationMs: number | null, errorMessage: string | null, possibleActions: Array<BuildAction>, logUrl: string, build: { id: string, name: string } | null, record: { trigger: string | null, repository: string | null, branch: string | null, commit: string | null, commitMessage: string | null, startedAt: string | null, finishedAt: string | null, durationMs: number | null, errorMessage: string | null } | null, steps: Array<{ id: string, stepOrder: number, stepType: StepType | null, rawStepType: string, title: string | null, state: StepState, rawState: string, startedAt: string | null, finishedAt: string | null, durationMs: number | null, errorMessage: string | null }>, log: { lastSeq: number, hasMore: boolean, lines: Array<{ seq: number, stepRunId: string | null, source: LogSource, loggedAt: string | null, text: string, continued: boolean }> } } | null };

export type BuildDetailQueryVariables = Exact<{
  id: string | number;
  runsFirst?: number | null | undefined;
  tagSort?: ImageTagSort | null | undefined;
  tagOrder?: SortOrder | null | undefined;
}>;


export type BuildDetailQuery = { build: { id: string, key: string, name: string, description: string | null, imageName: string | null, registryName: string | null, tagName: string | null, hasBuildServerClientKey: boolean, possibleActions: Array<BuildAction>, provider: { providerId: string, kind: ProviderKind, capabilities: Array<Capability> }, autotag: { enabled: boolean, prefix: string | null, seqType: AutotagSeqType | null } | null, steps: Array<{ id: string, stepOrder: number, stepType: StepType, useFlag: boolean, config:
        | { __typename: 'CodeDownStepConfig', repositoryUrl: string, branchName: string, codeSaveDir: string | null, commonType: CommonType, protocolType: ProtocolType, userId: string | null, hasPassword: boolean }
        | { __typename: 'CreateImageStepConfig', dockerFileType: DockerFileType, dockerFile: string | null, dockerFilePath: string | null, registryName: string, imageName: string, imageTag: string | null, hasPassword: boolean }
        | { __typename: 'FtpStepConfig', url: string, ftpType: FtpType, username: string | null, hasPassword: boolean, sourceFiles: string, remoteDirectory: string, ftpExecType: FtpExecType }
        | { __typename: 'HttpStepConfig', url: string, httpMode: HttpMode, timeout: number | null, validResponseCodes: string | null, outputFile: string | null, hasPassword: boolean, customHeaders: Array<{ name: string, value: string | null, secret: boolean }> }
        | { __typename: 'ShellStepConfig', shellType: ShellType, command: string, timeout: number | null }
        | { __typename: 'UserTaskStepConfig', cmd: Array<string>, workingDir: string | null, imageName: string, imageTag: string | null, volumeMounts: Array<{ containerPath: string, hostPath: string }>, envs: Array<{ key: string, value: string | null, secret: boolean, hasValue: boolean }> }
       }> | null, stats: { runCount: number, runningCount: number, doneCount: number, errorCount: number, tagCount: number, averageDurationMs: number | null, averageImageSize: number | null, latestDurationMs: number | null, latestImageSize: number | null, latestStartedAt: string | null } | null, runs: { totalCount: number | null, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, buildNo: number | null, state: RunState, trigger: string | null, tagName: string | null, startedAt: string | null, finishedAt: string | null, durationMs: number | null, possibleActions: Array<BuildAction> } }> }, imageTags: { totalCount: number | null, edges: Array<{ node: { id: string, tag: string, digest: string | null, size: number | null, pushedAt: string | null, imageUrl: string | null } }> } | null } | null };

export type RunUpdatedSubscriptionVariables = Exact<{
  runId: string | number;
}>;


export type RunUpdatedSubscription = { runUpdated: { id: string, state: RunState, rawState: string, startedAt: string | null, finishedAt: string | null, durationMs: number | null, errorMessage: string | null, possibleActions: Array<BuildAction> } };

export type StepUpdatedSubscriptionVariables = Exact<{
  runId: string | number;
}>;


export type StepUpdatedSubscription = { stepUpdated: { id: string, stepOrder: number, stepType: StepType | null, title: string | null, state: StepState, startedAt: string | null, finishedAt: string | null, errorMessage: string | null } };

export type CancelRunMutationVariables = Exact<{
  runId: string | number;
}>;


export type CancelRunMutation = { cancelRun: { run: { id: string, state: RunState, possibleActions: Array<BuildAction> } | null, errors: Array<{ code: UserErrorCode, message: string, path: Array<string> | null, details: Record<string, unknown> | null }> } };

export type RemoveRunMutationVariables = Exact<{
  runId: string | number;
  removeImageTag?: boolean | null | undefined;
}>;


export type RemoveRunMutation = { removeRun: { removedRunId: string | null, keptImageTags: Array<{ image: string, keptBecause: KeptBecause, ownerRunId: string | null, detail: string }>, errors: Array<{ code: UserErrorCode, message: string, path: Array<string> | null, details: Record<string, unknown> | null }> } };

export type CreateBuildMutationVariables = Exact<{
  build: BuildInput;
  providerId?: string | null | undefined;
}>;


export type CreateBuildMutation = { createBuild: { build: { id: string, key: string, name: string, steps: Array<{ id: string, stepOrder: number, stepType: StepType, useFlag: boolean, config:
          | { __typename: 'CodeDownStepConfig' }
          | { __typename: 'CreateImageStepConfig' }
          | { __typename: 'FtpStepConfig' }
          | { __typename: 'HttpStepConfig' }
          | { __typename: 'ShellStepConfig' }
          | { __typename: 'UserTaskStepConfig' }
         }> | null } | null, errors: Array<{ code: UserErrorCode, message: string, path: Array<string> | null }> } };

export type UpdateBuildMutationVariables = Exact<{
  buildId: string | number;
  build: BuildInput;
}>;


export type UpdateBuildMutation = { updateBuild: { build: { id: string, name: string, updatedAt: string | null, steps: Array<{ id: string, stepOrder: number, stepType: StepType }> | null } | null, errors: Array<{ code: UserErrorCode, message: string, path: Array<string> | null }> } };

export type DeleteBuildMutationVariables = Exact<{
  buildId: string | number;
}>;


export type DeleteBuildMutation = { deleteBuild: { deletedBuildId: string | null, errors: Array<{ code: UserErrorCode, message: string, path: Array<string> | null }> } };

export type BuildsChangedSubscriptionVariables = Exact<{
  providerIds?: Array<string> | string | null | undefined;
}>;


export type BuildsChangedSubscription = { buildsChanged: { kind: ChangeKind, buildId: string, providerId: string, build: { id: string, name: string } | null } };

export type BuildRunsUpdatedSubscriptionVariables = Exact<{
  buildId?: string | number | null | undefined;
  providerId?: string | null | undefined;
}>;


export type BuildRunsUpdatedSubscription = { buildRunsUpdated: { id: string, buildNo: number | null, state: RunState, tagName: string | null, startedAt: string | null, finishedAt: string | null, build: { id: string, name: string } | null } };

export type ProvidersQueryVariables = Exact<{ [key: string]: never; }>;


export type ProvidersQuery = { providers: Array<{ id: string, providerId: string, kind: ProviderKind, baseUrl: string | null, capabilities: Array<Capability>, health: { status: ProviderStatus, lastSuccessAt: string | null, lastErrorAt: string | null, lastError: string | null, circuitState: CircuitState } }> };

export type NodeQueryVariables = Exact<{
  id: string | number;
}>;


export type NodeQuery = { node:
    | { __typename: 'Build', name: string, id: string }
    | { __typename: 'BuildRecord', id: string }
    | { __typename: 'BuildRun', buildNo: number | null, state: RunState, id: string }
    | { __typename: 'BuildStep', id: string }
    | { __typename: 'ImageTag', id: string }
    | { __typename: 'Provider', providerId: string, kind: ProviderKind, id: string }
    | { __typename: 'StepRun', id: string }
   | null };


export const BuildsListDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"BuildsList"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"providerIds"}},"type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"filter"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"BuildFilterInput"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"sort"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"BuildSort"}},"defaultValue":{"kind":"EnumValue","value":"NAME"}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"order"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"SortOrder"}},"defaultValue":{"kind":"EnumValue","value":"ASC"}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}},"defaultValue":{"kind":"IntValue","value":"20"}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"builds"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"providerIds"},"value":{"kind":"Variable","name":{"kind":"Name","value":"providerIds"}}},{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"Variable","name":{"kind":"Name","value":"filter"}}},{"kind":"Argument","name":{"kind":"Name","value":"sort"},"value":{"kind":"Variable","name":{"kind":"Name","value":"sort"}}},{"kind":"Argument","name":{"kind":"Name","value":"order"},"value":{"kind":"Variable","name":{"kind":"Name","value":"order"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"key"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"provider"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"providerId"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}}]}},{"kind":"Field","name":{"kind":"Name","value":"stats"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"runCount"}},{"kind":"Field","name":{"kind":"Name","value":"runningCount"}},{"kind":"Field","name":{"kind":"Name","value":"doneCount"}},{"kind":"Field","name":{"kind":"Name","value":"errorCount"}},{"kind":"Field","name":{"kind":"Name","value":"tagCount"}},{"kind":"Field","name":{"kind":"Name","value":"averageDurationMs"}}]}},{"kind":"Field","name":{"kind":"Name","value":"lastRun"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"buildNo"}},{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"rawState"}},{"kind":"Field","name":{"kind":"Name","value":"startedAt"}},{"kind":"Field","name":{"kind":"Name","value":"durationMs"}},{"kind":"Field","name":{"kind":"Name","value":"tagName"}}]}}]}}]}}]}}]}}]} as unknown as DocumentNode<BuildsListQuery, BuildsListQueryVariables>;
export const RunBuildDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"RunBuild"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"buildId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"tagName"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"description"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"callbackUrl"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"runBuild"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"buildId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"buildId"}}},{"kind":"ObjectField","name":{"kind":"Name","value":"tagName"},"value":{"kind":"Variable","name":{"kind":"Name","value":"tagName"}}},{"kind":"ObjectField","name":{"kind":"Name","value":"description"},"value":{"kind":"Variable","name":{"kind":"Name","value":"description"}}},{"kind":"ObjectField","name":{"kind":"Name","value":"callbackUrl"},"value":{"kind":"Variable","name":{"kind":"Name","value":"callbackUrl"}}}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"run"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"buildNo"}},{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"tagName"}},{"kind":"Field","name":{"kind":"Name","value":"possibleActions"}}]}},{"kind":"Field","name":{"kind":"Name","value":"errors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"path"}}]}}]}}]}}]} as unknown as DocumentNode<RunBuildMutation, RunBuildMutationVariables>;
export const RunLogDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"RunLog"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"runId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"stepRunId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"afterSeq"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"SafeInt"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"runLog"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"runId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"runId"}}},{"kind":"Argument","name":{"kind":"Name","value":"stepRunId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"stepRunId"}}},{"kind":"Argument","name":{"kind":"Name","value":"afterSeq"},"value":{"kind":"Variable","name":{"kind":"Name","value":"afterSeq"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"lines"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"seq"}},{"kind":"Field","name":{"kind":"Name","value":"stepRunId"}},{"kind":"Field","name":{"kind":"Name","value":"source"}},{"kind":"Field","name":{"kind":"Name","value":"loggedAt"}},{"kind":"Field","name":{"kind":"Name","value":"text"}},{"kind":"Field","name":{"kind":"Name","value":"continued"}}]}},{"kind":"Field","name":{"kind":"Name","value":"lastSeq"}},{"kind":"Field","name":{"kind":"Name","value":"fellBehind"}}]}}]}}]} as unknown as DocumentNode<RunLogSubscription, RunLogSubscriptionVariables>;
export const RunPageDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"RunPage"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"logLines"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}},"defaultValue":{"kind":"IntValue","value":"200"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"run"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"key"}},{"kind":"Field","name":{"kind":"Name","value":"buildNo"}},{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"rawState"}},{"kind":"Field","name":{"kind":"Name","value":"trigger"}},{"kind":"Field","name":{"kind":"Name","value":"triggeredBy"}},{"kind":"Field","name":{"kind":"Name","value":"sourceRevision"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"tagName"}},{"kind":"Field","name":{"kind":"Name","value":"startedAt"}},{"kind":"Field","name":{"kind":"Name","value":"finishedAt"}},{"kind":"Field","name":{"kind":"Name","value":"durationMs"}},{"kind":"Field","name":{"kind":"Name","value":"errorMessage"}},{"kind":"Field","name":{"kind":"Name","value":"possibleActions"}},{"kind":"Field","name":{"kind":"Name","value":"logUrl"}},{"kind":"Field","name":{"kind":"Name","value":"build"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}},{"kind":"Field","name":{"kind":"Name","value":"record"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"trigger"}},{"kind":"Field","name":{"kind":"Name","value":"repository"}},{"kind":"Field","name":{"kind":"Name","value":"branch"}},{"kind":"Field","name":{"kind":"Name","value":"commit"}},{"kind":"Field","name":{"kind":"Name","value":"commitMessage"}},{"kind":"Field","name":{"kind":"Name","value":"startedAt"}},{"kind":"Field","name":{"kind":"Name","value":"finishedAt"}},{"kind":"Field","name":{"kind":"Name","value":"durationMs"}},{"kind":"Field","name":{"kind":"Name","value":"errorMessage"}}]}},{"kind":"Field","name":{"kind":"Name","value":"steps"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"stepOrder"}},{"kind":"Field","name":{"kind":"Name","value":"stepType"}},{"kind":"Field","name":{"kind":"Name","value":"rawStepType"}},{"kind":"Field","name":{"kind":"Name","value":"title"}},{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"rawState"}},{"kind":"Field","name":{"kind":"Name","value":"startedAt"}},{"kind":"Field","name":{"kind":"Name","value":"finishedAt"}},{"kind":"Field","name":{"kind":"Name","value":"durationMs"}},{"kind":"Field","name":{"kind":"Name","value":"errorMessage"}}]}},{"kind":"Field","name":{"kind":"Name","value":"log"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"logLines"}}},{"kind":"Argument","name":{"kind":"Name","value":"tail"},"value":{"kind":"BooleanValue","value":true}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"lastSeq"}},{"kind":"Field","name":{"kind":"Name","value":"hasMore"}},{"kind":"Field","name":{"kind":"Name","value":"lines"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"seq"}},{"kind":"Field","name":{"kind":"Name","value":"stepRunId"}},{"kind":"Field","name":{"kind":"Name","value":"source"}},{"kind":"Field","name":{"kind":"Name","value":"loggedAt"}},{"kind":"Field","name":{"kind":"Name","value":"text"}},{"kind":"Field","name":{"kind":"Name","value":"continued"}}]}}]}}]}}]}}]} as unknown as DocumentNode<RunPageQuery, RunPageQueryVariables>;
export const BuildDetailDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"BuildDetail"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"runsFirst"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}},"defaultValue":{"kind":"IntValue","value":"10"}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"tagSort"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ImageTagSort"}},"defaultValue":{"kind":"EnumValue","value":"PUSHED_AT"}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"tagOrder"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"SortOrder"}},"defaultValue":{"kind":"EnumValue","value":"DESC"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"build"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"key"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"provider"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"providerId"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"capabilities"}}]}},{"kind":"Field","name":{"kind":"Name","value":"imageName"}},{"kind":"Field","name":{"kind":"Name","value":"registryName"}},{"kind":"Field","name":{"kind":"Name","value":"tagName"}},{"kind":"Field","name":{"kind":"Name","value":"autotag"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"enabled"}},{"kind":"Field","name":{"kind":"Name","value":"prefix"}},{"kind":"Field","name":{"kind":"Name","value":"seqType"}}]}},{"kind":"Field","name":{"kind":"Name","value":"hasBuildServerClientKey"}},{"kind":"Field","name":{"kind":"Name","value":"possibleActions"}},{"kind":"Field","name":{"kind":"Name","value":"steps"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"stepOrder"}},{"kind":"Field","name":{"kind":"Name","value":"stepType"}},{"kind":"Field","name":{"kind":"Name","value":"useFlag"}},{"kind":"Field","name":{"kind":"Name","value":"config"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"CodeDownStepConfig"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"repositoryUrl"}},{"kind":"Field","name":{"kind":"Name","value":"branchName"}},{"kind":"Field","name":{"kind":"Name","value":"codeSaveDir"}},{"kind":"Field","name":{"kind":"Name","value":"commonType"}},{"kind":"Field","name":{"kind":"Name","value":"protocolType"}},{"kind":"Field","name":{"kind":"Name","value":"userId"}},{"kind":"Field","name":{"kind":"Name","value":"hasPassword"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"UserTaskStepConfig"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cmd"}},{"kind":"Field","name":{"kind":"Name","value":"workingDir"}},{"kind":"Field","name":{"kind":"Name","value":"imageName"}},{"kind":"Field","name":{"kind":"Name","value":"imageTag"}},{"kind":"Field","name":{"kind":"Name","value":"volumeMounts"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"containerPath"}},{"kind":"Field","name":{"kind":"Name","value":"hostPath"}}]}},{"kind":"Field","name":{"kind":"Name","value":"envs"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"key"}},{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"secret"}},{"kind":"Field","name":{"kind":"Name","value":"hasValue"}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"FtpStepConfig"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"url"}},{"kind":"Field","name":{"kind":"Name","value":"ftpType"}},{"kind":"Field","name":{"kind":"Name","value":"username"}},{"kind":"Field","name":{"kind":"Name","value":"hasPassword"}},{"kind":"Field","name":{"kind":"Name","value":"sourceFiles"}},{"kind":"Field","name":{"kind":"Name","value":"remoteDirectory"}},{"kind":"Field","name":{"kind":"Name","value":"ftpExecType"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"HttpStepConfig"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"url"}},{"kind":"Field","name":{"kind":"Name","value":"httpMode"}},{"kind":"Field","name":{"kind":"Name","value":"timeout"}},{"kind":"Field","name":{"kind":"Name","value":"validResponseCodes"}},{"kind":"Field","name":{"kind":"Name","value":"outputFile"}},{"kind":"Field","name":{"kind":"Name","value":"hasPassword"}},{"kind":"Field","name":{"kind":"Name","value":"customHeaders"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"secret"}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"ShellStepConfig"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"shellType"}},{"kind":"Field","name":{"kind":"Name","value":"command"}},{"kind":"Field","name":{"kind":"Name","value":"timeout"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"CreateImageStepConfig"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"dockerFileType"}},{"kind":"Field","name":{"kind":"Name","value":"dockerFile"}},{"kind":"Field","name":{"kind":"Name","value":"dockerFilePath"}},{"kind":"Field","name":{"kind":"Name","value":"registryName"}},{"kind":"Field","name":{"kind":"Name","value":"imageName"}},{"kind":"Field","name":{"kind":"Name","value":"imageTag"}},{"kind":"Field","name":{"kind":"Name","value":"hasPassword"}}]}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"stats"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"runCount"}},{"kind":"Field","name":{"kind":"Name","value":"runningCount"}},{"kind":"Field","name":{"kind":"Name","value":"doneCount"}},{"kind":"Field","name":{"kind":"Name","value":"errorCount"}},{"kind":"Field","name":{"kind":"Name","value":"tagCount"}},{"kind":"Field","name":{"kind":"Name","value":"averageDurationMs"}},{"kind":"Field","name":{"kind":"Name","value":"averageImageSize"}},{"kind":"Field","name":{"kind":"Name","value":"latestDurationMs"}},{"kind":"Field","name":{"kind":"Name","value":"latestImageSize"}},{"kind":"Field","name":{"kind":"Name","value":"latestStartedAt"}}]}},{"kind":"Field","name":{"kind":"Name","value":"runs"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"runsFirst"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"buildNo"}},{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"trigger"}},{"kind":"Field","name":{"kind":"Name","value":"tagName"}},{"kind":"Field","name":{"kind":"Name","value":"startedAt"}},{"kind":"Field","name":{"kind":"Name","value":"finishedAt"}},{"kind":"Field","name":{"kind":"Name","value":"durationMs"}},{"kind":"Field","name":{"kind":"Name","value":"possibleActions"}}]}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"imageTags"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"20"}},{"kind":"Argument","name":{"kind":"Name","value":"sort"},"value":{"kind":"Variable","name":{"kind":"Name","value":"tagSort"}}},{"kind":"Argument","name":{"kind":"Name","value":"order"},"value":{"kind":"Variable","name":{"kind":"Name","value":"tagOrder"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"tag"}},{"kind":"Field","name":{"kind":"Name","value":"digest"}},{"kind":"Field","name":{"kind":"Name","value":"size"}},{"kind":"Field","name":{"kind":"Name","value":"pushedAt"}},{"kind":"Field","name":{"kind":"Name","value":"imageUrl"}}]}}]}}]}}]}}]}}]} as unknown as DocumentNode<BuildDetailQuery, BuildDetailQueryVariables>;
export const RunUpdatedDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"RunUpdated"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"runId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"runUpdated"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"runId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"runId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"rawState"}},{"kind":"Field","name":{"kind":"Name","value":"startedAt"}},{"kind":"Field","name":{"kind":"Name","value":"finishedAt"}},{"kind":"Field","name":{"kind":"Name","value":"durationMs"}},{"kind":"Field","name":{"kind":"Name","value":"errorMessage"}},{"kind":"Field","name":{"kind":"Name","value":"possibleActions"}}]}}]}}]} as unknown as DocumentNode<RunUpdatedSubscription, RunUpdatedSubscriptionVariables>;
export const StepUpdatedDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"StepUpdated"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"runId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"stepUpdated"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"runId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"runId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"stepOrder"}},{"kind":"Field","name":{"kind":"Name","value":"stepType"}},{"kind":"Field","name":{"kind":"Name","value":"title"}},{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"startedAt"}},{"kind":"Field","name":{"kind":"Name","value":"finishedAt"}},{"kind":"Field","name":{"kind":"Name","value":"errorMessage"}}]}}]}}]} as unknown as DocumentNode<StepUpdatedSubscription, StepUpdatedSubscriptionVariables>;
export const CancelRunDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"CancelRun"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"runId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cancelRun"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"runId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"runId"}}}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"run"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"possibleActions"}}]}},{"kind":"Field","name":{"kind":"Name","value":"errors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"path"}},{"kind":"Field","name":{"kind":"Name","value":"details"}}]}}]}}]}}]} as unknown as DocumentNode<CancelRunMutation, CancelRunMutationVariables>;
export const RemoveRunDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"RemoveRun"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"runId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"removeImageTag"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Boolean"}},"defaultValue":{"kind":"BooleanValue","value":false}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"removeRun"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"runId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"runId"}}},{"kind":"ObjectField","name":{"kind":"Name","value":"removeImageTag"},"value":{"kind":"Variable","name":{"kind":"Name","value":"removeImageTag"}}}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"removedRunId"}},{"kind":"Field","name":{"kind":"Name","value":"keptImageTags"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"image"}},{"kind":"Field","name":{"kind":"Name","value":"keptBecause"}},{"kind":"Field","name":{"kind":"Name","value":"ownerRunId"}},{"kind":"Field","name":{"kind":"Name","value":"detail"}}]}},{"kind":"Field","name":{"kind":"Name","value":"errors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"path"}},{"kind":"Field","name":{"kind":"Name","value":"details"}}]}}]}}]}}]} as unknown as DocumentNode<RemoveRunMutation, RemoveRunMutationVariables>;
export const CreateBuildDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"CreateBuild"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"build"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"BuildInput"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"providerId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}},"defaultValue":{"kind":"StringValue","value":"native","block":false}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"createBuild"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"providerId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"providerId"}}},{"kind":"ObjectField","name":{"kind":"Name","value":"build"},"value":{"kind":"Variable","name":{"kind":"Name","value":"build"}}}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"build"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"key"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"steps"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"stepOrder"}},{"kind":"Field","name":{"kind":"Name","value":"stepType"}},{"kind":"Field","name":{"kind":"Name","value":"useFlag"}},{"kind":"Field","name":{"kind":"Name","value":"config"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}}]}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"errors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"path"}}]}}]}}]}}]} as unknown as DocumentNode<CreateBuildMutation, CreateBuildMutationVariables>;
export const UpdateBuildDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"UpdateBuild"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"buildId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"build"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"BuildInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"updateBuild"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"buildId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"buildId"}}},{"kind":"ObjectField","name":{"kind":"Name","value":"build"},"value":{"kind":"Variable","name":{"kind":"Name","value":"build"}}}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"build"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}},{"kind":"Field","name":{"kind":"Name","value":"steps"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"stepOrder"}},{"kind":"Field","name":{"kind":"Name","value":"stepType"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"errors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"path"}}]}}]}}]}}]} as unknown as DocumentNode<UpdateBuildMutation, UpdateBuildMutationVariables>;
export const DeleteBuildDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"DeleteBuild"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"buildId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"deleteBuild"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"buildId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"buildId"}}}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"deletedBuildId"}},{"kind":"Field","name":{"kind":"Name","value":"errors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"path"}}]}}]}}]}}]} as unknown as DocumentNode<DeleteBuildMutation, DeleteBuildMutationVariables>;
export const BuildsChangedDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"BuildsChanged"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"providerIds"}},"type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"buildsChanged"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"providerIds"},"value":{"kind":"Variable","name":{"kind":"Name","value":"providerIds"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"buildId"}},{"kind":"Field","name":{"kind":"Name","value":"providerId"}},{"kind":"Field","name":{"kind":"Name","value":"build"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]}}]} as unknown as DocumentNode<BuildsChangedSubscription, BuildsChangedSubscriptionVariables>;
export const BuildRunsUpdatedDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"BuildRunsUpdated"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"buildId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"providerId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"buildRunsUpdated"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"buildId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"buildId"}}},{"kind":"Argument","name":{"kind":"Name","value":"providerId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"providerId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"buildNo"}},{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"tagName"}},{"kind":"Field","name":{"kind":"Name","value":"startedAt"}},{"kind":"Field","name":{"kind":"Name","value":"finishedAt"}},{"kind":"Field","name":{"kind":"Name","value":"build"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]}}]} as unknown as DocumentNode<BuildRunsUpdatedSubscription, BuildRunsUpdatedSubscriptionVariables>;
export const ProvidersDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Providers"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"providers"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"providerId"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"baseUrl"}},{"kind":"Field","name":{"kind":"Name","value":"capabilities"}},{"kind":"Field","name":{"kind":"Name","value":"health"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"lastSuccessAt"}},{"kind":"Field","name":{"kind":"Name","value":"lastErrorAt"}},{"kind":"Field","name":{"kind":"Name","value":"lastError"}},{"kind":"Field","name":{"kind":"Name","value":"circuitState"}}]}}]}}]}}]} as unknown as DocumentNode<ProvidersQuery, ProvidersQueryVariables>;
export const NodeDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Node"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Build"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"BuildRun"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"buildNo"}},{"kind":"Field","name":{"kind":"Name","value":"state"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Provider"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"providerId"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}}]}}]}}]}}]} as unknown as DocumentNode<NodeQuery, NodeQueryVariables>;