import { registerEnumType } from 'type-graphql';

/**
 * Enums of the schema. TypeScript string-literal unions live in src/providers/types.ts;
 * these objects mirror them one to one so resolvers can pass values through unchanged.
 */
const e = <const T extends readonly string[]>(values: T) =>
  Object.fromEntries(values.map((v) => [v, v])) as { [K in T[number]]: K };

export const RunStateEnum = e(['QUEUED', 'RUNNING', 'DONE', 'ERROR', 'CANCELED'] as const);
registerEnumType(RunStateEnum, {
  name: 'RunState',
  description: 'Unified state of a run, the same meaning for every provider.',
  valuesConfig: {
    QUEUED: { description: 'Accepted, not started yet.' },
    RUNNING: { description: 'Executing.' },
    DONE: { description: 'Finished successfully.' },
    ERROR: { description: 'Finished with an error.' },
    CANCELED: { description: 'Stopped on request before it finished.' },
  },
});

export const StepStateEnum = e(['WAIT', 'RUNNING', 'DONE', 'ERROR', 'SKIPPED', 'CANCELED'] as const);
registerEnumType(StepStateEnum, {
  name: 'StepState',
  description: 'Unified state of one step of a run.',
  valuesConfig: {
    WAIT: { description: 'Not started yet.' },
    RUNNING: { description: 'Executing.' },
    DONE: { description: 'Finished successfully.' },
    ERROR: { description: 'Failed; the run ends with ERROR.' },
    SKIPPED: { description: 'Never ran: disabled, or an earlier step failed.' },
    CANCELED: { description: 'Stopped because the run was canceled.' },
  },
});

export const StepTypeEnum = e(['CODE_DOWN', 'USER_TASK', 'FTP', 'HTTP', 'SHELL', 'CREATE_IMAGE'] as const);
registerEnumType(StepTypeEnum, {
  name: 'StepType',
  description: 'Kind of a build step (Cocktail model).',
  valuesConfig: {
    CODE_DOWN: { description: 'git clone of a branch into the workspace.' },
    USER_TASK: { description: 'A command in a container image with volume mounts.' },
    FTP: { description: 'Upload or download over FTP, FTPS or SFTP.' },
    HTTP: { description: 'An HTTP request with expected status codes.' },
    SHELL: { description: 'A shell script run in the workspace.' },
    CREATE_IMAGE: { description: 'An image built from a Dockerfile and pushed to an OCI registry.' },
  },
});

export const BuildActionEnum = e(['VIEW', 'BUILD', 'LOG', 'REMOVE', 'CANCEL'] as const);
registerEnumType(BuildActionEnum, {
  name: 'BuildAction',
  description: 'An action a user may take on a run (Cocktail `possibleActions`).',
  valuesConfig: {
    VIEW: { description: 'Show the run.' },
    BUILD: { description: 'Start a new run of the build.' },
    LOG: { description: 'Read the run log.' },
    REMOVE: { description: 'Delete the run record.' },
    CANCEL: { description: 'Stop the running run.' },
  },
});

export const RunTypeEnum = e(['BUILD', 'CANCEL', 'REMOVE'] as const);
registerEnumType(RunTypeEnum, { name: 'RunType', description: 'Why a run record exists (Cocktail `runType`).' });

export const ProviderKindEnum = e(['NATIVE', 'COCKTAIL', 'QUAY', 'ZADIG', 'CODEARTS'] as const);
registerEnumType(ProviderKindEnum, {
  name: 'ProviderKind',
  description: 'Which build system a provider instance speaks to.',
  valuesConfig: {
    NATIVE: { description: "buildgate's own build engine." },
    COCKTAIL: { description: 'Cocktail Cloud build API v1.' },
    QUAY: { description: 'Quay repository builds.' },
    ZADIG: { description: 'Zadig OpenAPI build modules and workflow tasks.' },
    CODEARTS: { description: 'Huawei Cloud CodeArts Build.' },
  },
});

export const CapabilityEnum = e([
  'BUILD_LIST', 'BUILD_GET', 'BUILD_CREATE', 'BUILD_UPDATE', 'BUILD_DELETE', 'BUILD_STATS',
  'RUN_LIST', 'RUN_GET', 'RUN_START', 'RUN_CANCEL', 'RUN_REMOVE',
  'STEP_RUNS', 'LOGS', 'LOGS_LIVE', 'IMAGE_TAGS', 'BUILD_RECORD',
] as const);
registerEnumType(CapabilityEnum, { name: 'Capability', description: 'An operation a provider instance supports; anything else answers UNSUPPORTED_BY_PROVIDER.' });

export const SortOrderEnum = e(['ASC', 'DESC'] as const);
registerEnumType(SortOrderEnum, { name: 'SortOrder', description: 'Sort direction.' });

export const BuildSortEnum = e(['NAME', 'LAST_RUN_TIME'] as const);
registerEnumType(BuildSortEnum, { name: 'BuildSort', description: 'Sort key for build lists.' });

/** GraphQL names free of one upstream's words; the values are the model's (Cocktail's) sort keys. */
export const ImageTagSortEnum = { TAG: 'TAG', SIZE: 'IMAGE_SIZE', PUSHED_AT: 'END_TIME' } as const;
registerEnumType(ImageTagSortEnum, {
  name: 'ImageTagSort',
  description: 'Sort key for image tags.',
  valuesConfig: { TAG: { description: 'The tag text.' }, SIZE: { description: 'Image size.' }, PUSHED_AT: { description: 'When it was pushed.' } },
});

export const AutotagSeqTypeEnum = e(['DATETIME', 'SEQUENCE'] as const);
registerEnumType(AutotagSeqTypeEnum, {
  name: 'AutotagSeqType',
  description: 'How an automatic tag is numbered.',
  valuesConfig: {
    DATETIME: { description: 'prefix + yyyyMMdd-HHmmss of the run start.' },
    SEQUENCE: { description: 'prefix + the build number, five digits (00007).' },
  },
});

export const FtpTypeEnum = e(['FTP', 'FTPS', 'SFTP'] as const);
registerEnumType(FtpTypeEnum, { name: 'FtpType', description: 'File transfer protocol of an FTP step.' });

export const FtpExecTypeEnum = e(['FTP_UPLOAD', 'FTP_DOWN', 'DIR_FTP_UPLOAD', 'DIR_FTP_DOWN'] as const);
registerEnumType(FtpExecTypeEnum, { name: 'FtpExecType', description: 'Direction and scope of an FTP step: one file or a whole directory, up or down.' });

export const HttpModeEnum = e(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const);
registerEnumType(HttpModeEnum, { name: 'HttpMode', description: 'HTTP method of an HTTP step.' });

export const ShellTypeEnum = e(['COMMAND', 'SCRIPT'] as const);
registerEnumType(ShellTypeEnum, { name: 'ShellType', description: 'SCRIPT runs the text as a script file; COMMAND runs it as one command line.' });

export const DockerFileTypeEnum = e(['CONTENTS', 'FILE_PATH'] as const);
registerEnumType(DockerFileTypeEnum, { name: 'DockerFileType', description: 'CONTENTS: the Dockerfile text is in the step; FILE_PATH: a Dockerfile in the workspace.' });

export const RepositoryTypeEnum = e(['GIT'] as const);
registerEnumType(RepositoryTypeEnum, { name: 'RepositoryType', description: 'Source repository kind.' });

export const CommonTypeEnum = e(['COMMON', 'PRIVATE'] as const);
registerEnumType(CommonTypeEnum, { name: 'CommonType', description: 'COMMON: a public repository; PRIVATE: needs credentials.' });

/** Enum values are UPPER_CASE in the schema; the model (and the stored configs) keep the URL scheme. */
export const ProtocolTypeEnum = { HTTP: 'http', HTTPS: 'https' } as const;
registerEnumType(ProtocolTypeEnum, { name: 'ProtocolType', description: 'Protocol used to reach the repository.' });

export const LogSourceEnum = e(['STDOUT', 'STDERR', 'SYSTEM'] as const);
registerEnumType(LogSourceEnum, { name: 'LogSource', description: "Where a log line came from: the step's stdout or stderr, or buildgate itself." });

export const ChangeKindEnum = e(['CREATED', 'UPDATED', 'DELETED'] as const);
registerEnumType(ChangeKindEnum, { name: 'ChangeKind', description: 'What happened to an object.' });

export const ProviderStatusEnum = e(['UP', 'DOWN', 'UNKNOWN'] as const);
registerEnumType(ProviderStatusEnum, { name: 'ProviderStatus', description: 'Health of a provider instance as last seen.' });

export const CircuitStateEnum = e(['CLOSED', 'OPEN', 'HALF_OPEN'] as const);
registerEnumType(CircuitStateEnum, { name: 'CircuitState', description: 'Circuit breaker state: OPEN means calls fail fast without reaching the upstream.' });

export const KeptBecauseEnum = e(['NEWER_RUN', 'DIGEST_CHANGED'] as const);
registerEnumType(KeptBecauseEnum, {
  name: 'KeptBecause',
  description: 'Why removeRun left an image tag in its registry.',
  valuesConfig: {
    NEWER_RUN: { description: 'A later run pushed the same tag.' },
    DIGEST_CHANGED: { description: 'The registry holds another image under the tag.' },
  },
});
