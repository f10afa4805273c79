import { Field, ID, InputType, Int } from 'type-graphql';
import { badInput, BuildgateError, ErrorCode } from '../../errors.js';
import type { BuildInputData, StepConfig } from '../../providers/types.js';
import {
  AutotagSeqTypeEnum, CommonTypeEnum, DockerFileTypeEnum, FtpExecTypeEnum, FtpTypeEnum, HttpModeEnum, ProtocolTypeEnum,
  RepositoryTypeEnum, RunStateEnum, ShellTypeEnum, StepTypeEnum,
} from '../common/enums.js';

@InputType({ description: 'Automatic tagging settings.' })
export class AutotagInput {
  @Field({ description: 'Generate tags (autotagUseYn = Y).' }) enabled!: boolean;
  @Field(() => String, { nullable: true, description: 'Prefix of generated tags.' }) prefix?: string | null;
  @Field(() => AutotagSeqTypeEnum, { nullable: true, description: 'DATETIME or SEQUENCE; required when enabled.' }) seqType?: 'DATETIME' | 'SEQUENCE' | null;
}

@InputType({ description: 'CODE_DOWN settings.' })
export class CodeDownStepInput {
  @Field(() => String, { nullable: true, description: 'Title (at most 256 characters).' }) stepTitle?: string | null;
  @Field(() => RepositoryTypeEnum, { defaultValue: 'GIT', description: 'Repository kind.' }) repositoryType!: 'GIT';
  @Field({ description: 'Repository URL.' }) repositoryUrl!: string;
  @Field({ description: 'Branch.' }) branchName!: string;
  @Field(() => String, { nullable: true, description: 'Target directory in the workspace.' }) codeSaveDir?: string | null;
  @Field(() => CommonTypeEnum, { defaultValue: 'COMMON', description: 'COMMON or PRIVATE.' }) commonType!: 'COMMON' | 'PRIVATE';
  @Field(() => ProtocolTypeEnum, { defaultValue: 'https', description: 'HTTP or HTTPS.' }) protocolType!: 'http' | 'https';
  @Field(() => String, { nullable: true, description: 'User.' }) userId?: string | null;
  @Field(() => String, { nullable: true, description: 'Password or token (write-only; omit to keep the stored one on update, "" to clear).' }) password?: string | null;
  @Field(() => Boolean, { nullable: true, description: 'Skip TLS verification.' }) httpSslVerifySkip?: boolean | null;
}

@InputType({ description: 'A volume mount.' })
export class VolumeMountInput {
  @Field({ description: 'Absolute path inside the container.' }) containerPath!: string;
  @Field({ description: 'Workspace path ($PWD = workspace root).' }) hostPath!: string;
}

@InputType({ description: 'An environment variable. Its value is write-only unless `secret` is false.' })
export class KeyValueInput {
  @Field({ description: 'Name.' }) key!: string;
  @Field(() => String, { nullable: true, description: 'Value (for a secret variable: omit/null to keep the stored one on update, "" to clear).' }) value?: string | null;
  @Field(() => Boolean, { nullable: true, description: 'false: not a secret, the value is returned. Default: secret.' }) secret?: boolean | null;
}

@InputType({ description: 'USER_TASK settings.' })
export class UserTaskStepInput {
  @Field(() => String, { nullable: true, description: 'Title (at most 256 characters).' }) stepTitle?: string | null;
  @Field(() => [String], { description: 'Command and arguments.' }) cmd!: string[];
  @Field(() => String, { nullable: true, description: 'Working directory in the container.' }) workingDir?: string | null;
  @Field({ description: 'Image name.' }) imageName!: string;
  @Field({ description: 'Image tag.' }) imageTag!: string;
  @Field(() => [VolumeMountInput], { nullable: true, description: 'Volume mounts.' }) volumeMounts?: VolumeMountInput[] | null;
  @Field(() => [KeyValueInput], { nullable: true, description: 'Environment variables.' }) envs?: KeyValueInput[] | null;
}

@InputType({ description: 'FTP settings.' })
export class FtpStepInput {
  @Field(() => String, { nullable: true, description: 'Title (at most 256 characters).' }) stepTitle?: string | null;
  @Field({ description: 'Server host[:port].' }) url!: string;
  @Field(() => FtpTypeEnum, { description: 'FTP, FTPS or SFTP.' }) ftpType!: 'FTP' | 'FTPS' | 'SFTP';
  @Field(() => String, { nullable: true, description: 'User.' }) username?: string | null;
  @Field(() => String, { nullable: true, description: 'Password (write-only; omit to keep, "" to clear).' }) password?: string | null;
  @Field({ description: 'Local side in the workspace.' }) sourceFiles!: string;
  @Field({ description: 'Remote side.' }) remoteDirectory!: string;
  @Field(() => FtpExecTypeEnum, { description: 'Direction and scope.' }) ftpExecType!: 'FTP_UPLOAD' | 'FTP_DOWN' | 'DIR_FTP_UPLOAD' | 'DIR_FTP_DOWN';
  @Field(() => Boolean, { nullable: true, description: 'FTPS: accept a server certificate that does not verify.' }) ignoreSslErrors?: boolean | null;
}

@InputType({ description: 'A request header. Authorization-like headers, or those flagged secret, are write-only.' })
export class HttpHeaderInput {
  @Field({ description: 'Name.' }) name!: string;
  @Field(() => String, { nullable: true, description: 'Value (for a secret header: omit/null to keep the stored one).' }) value?: string | null;
  @Field(() => Boolean, { nullable: true, description: 'Treat the value as a credential.' }) secret?: boolean | null;
}

@InputType({ description: 'HTTP settings.' })
export class HttpStepInput {
  @Field(() => String, { nullable: true, description: 'Title (at most 256 characters).' }) stepTitle?: string | null;
  @Field({ description: 'URL. Sent back as read (*** in place of a password or token), the stored credentials are kept.' }) url!: string;
  @Field(() => HttpModeEnum, { description: 'Method.' }) httpMode!: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
  @Field(() => [HttpHeaderInput], { nullable: true, description: 'Headers.' }) customHeaders?: HttpHeaderInput[] | null;
  @Field(() => Boolean, { nullable: true, description: 'Skip TLS verification.' }) ignoreSslErrors?: boolean | null;
  @Field(() => String, { nullable: true, description: 'Basic-auth user.' }) username?: string | null;
  @Field(() => String, { nullable: true, description: 'Basic-auth password (write-only).' }) password?: string | null;
  @Field(() => Int, { description: 'Timeout, seconds (1-3600).' }) timeout!: number;
  @Field(() => String, { nullable: true, description: 'Accepted codes: "200", "200,201", "200-299".' }) validResponseCodes?: string | null;
  @Field(() => String, { nullable: true, description: 'Text the body must contain.' }) validResponseContent?: string | null;
  @Field(() => String, { nullable: true, description: 'Workspace file for the response body.' }) outputFile?: string | null;
  @Field(() => Boolean, { nullable: true, description: 'Log the response body.' }) consoleLogResponseBody?: boolean | null;
  @Field(() => String, { nullable: true, description: 'Request body.' }) requestBody?: string | null;
}

@InputType({ description: 'SHELL settings.' })
export class ShellStepInput {
  @Field(() => String, { nullable: true, description: 'Title (at most 256 characters).' }) stepTitle?: string | null;
  @Field(() => ShellTypeEnum, { defaultValue: 'SCRIPT', description: 'SCRIPT or COMMAND.' }) shellType!: 'COMMAND' | 'SCRIPT';
  @Field({ description: 'Script text or command line.' }) command!: string;
  @Field(() => Int, { nullable: true, description: 'Timeout, seconds.' }) timeout?: number | null;
}

@InputType({ description: 'CREATE_IMAGE settings.' })
export class CreateImageStepInput {
  @Field(() => String, { nullable: true, description: 'Title (at most 256 characters).' }) stepTitle?: string | null;
  @Field(() => DockerFileTypeEnum, { defaultValue: 'CONTENTS', description: 'CONTENTS or FILE_PATH.' }) dockerFileType!: 'CONTENTS' | 'FILE_PATH';
  @Field(() => String, { nullable: true, description: 'Dockerfile text.' }) dockerFile?: string | null;
  @Field(() => String, { nullable: true, description: 'Dockerfile path in the workspace.' }) dockerFilePath?: string | null;
  @Field(() => String, { nullable: true, description: 'Registry project id.' }) registryId?: string | null;
  @Field({ description: 'Registry project name.' }) registryName!: string;
  @Field({ description: 'Image name.' }) imageName!: string;
  @Field(() => String, { nullable: true, description: 'Image tag.' }) imageTag?: string | null;
  @Field(() => Boolean, { nullable: true, description: 'Also tag latest.' }) latestApply?: boolean | null;
  @Field(() => String, { nullable: true, description: 'Registry host.' }) registryUrl?: string | null;
  @Field(() => String, { nullable: true, description: 'Registry login.' }) loginId?: string | null;
  @Field(() => String, { nullable: true, description: 'Registry password (write-only).' }) password?: string | null;
  @Field(() => String, { nullable: true, description: 'Private registry CA.' }) privateCertificate?: string | null;
  @Field(() => Int, { nullable: true, description: 'External registry number.' }) externalRegistrySeq?: number | null;
  @Field(() => String, { nullable: true, description: 'Scan severity threshold.' }) severity?: string | null;
  @Field(() => String, { nullable: true, description: 'Scan exit code.' }) exitCode?: string | null;
}

@InputType({ description: 'One step: set `stepType` and exactly the one matching config field. Each text field of a step config holds at most 4,096 characters (a title 256); the long ones — SHELL `command`, `dockerFile`, `privateCertificate`, `requestBody`, `cmd` and `envs` — only `limits.maxInputString`.' })
export class BuildStepInput {
  @Field(() => ID, { nullable: true, description: 'ID of an existing step this one replaces (keeps its stored secrets when they are omitted).' }) stepId?: string | null;
  @Field(() => Int, { description: 'Position, 1-based, unique within the build.' }) stepOrder!: number;
  @Field({ defaultValue: true, description: 'Enabled.' }) useFlag!: boolean;
  @Field(() => StepTypeEnum, { description: 'Step type.' }) stepType!: string;
  @Field(() => CodeDownStepInput, { nullable: true, description: 'Config for CODE_DOWN.' }) codeDown?: CodeDownStepInput | null;
  @Field(() => UserTaskStepInput, { nullable: true, description: 'Config for USER_TASK.' }) userTask?: UserTaskStepInput | null;
  @Field(() => FtpStepInput, { nullable: true, description: 'Config for FTP.' }) ftp?: FtpStepInput | null;
  @Field(() => HttpStepInput, { nullable: true, description: 'Config for HTTP.' }) http?: HttpStepInput | null;
  @Field(() => ShellStepInput, { nullable: true, description: 'Config for SHELL.' }) shell?: ShellStepInput | null;
  @Field(() => CreateImageStepInput, { nullable: true, description: 'Config for CREATE_IMAGE.' }) createImage?: CreateImageStepInput | null;
}

@InputType({ description: 'A build definition (Cocktail build model).' })
export class BuildInput {
  @Field({ description: 'Name (at most 256 characters).' }) name!: string;
  @Field(() => String, { nullable: true, description: 'Description (at most 4,000 characters).' }) description?: string | null;
  @Field(() => Int, { nullable: true, description: 'Account number.' }) accountSeq?: number | null;
  @Field(() => String, { nullable: true, description: 'Registry (project) name (at most 256 characters).' }) registryName?: string | null;
  @Field(() => Int, { nullable: true, description: 'Registry project id.' }) registryProjectId?: number | null;
  @Field(() => Int, { nullable: true, description: 'External registry number.' }) externalRegistrySeq?: number | null;
  @Field(() => String, { nullable: true, description: 'Image name (at most 256 characters).' }) imageName?: string | null;
  @Field(() => String, { nullable: true, description: 'Default tag (required for image builds without autotag).' }) tagName?: string | null;
  @Field(() => AutotagInput, { nullable: true, description: 'Automatic tagging.' }) autotag?: AutotagInput | null;
  @Field(() => String, { nullable: true, description: 'Build server host (at most 256 characters).' }) buildServerHost?: string | null;
  @Field(() => Boolean, { nullable: true, description: 'TLS verification towards the build server.' }) buildServerTlsVerify?: boolean | null;
  @Field(() => String, { nullable: true, description: 'Build server CA (write-only).' }) buildServerCacrt?: string | null;
  @Field(() => String, { nullable: true, description: 'Build server client certificate (write-only).' }) buildServerClientCert?: string | null;
  @Field(() => String, { nullable: true, description: 'Build server client key (write-only).' }) buildServerClientKey?: string | null;
  @Field(() => [BuildStepInput], { description: 'Steps.' }) steps!: BuildStepInput[];
}

@InputType({ description: 'Filters for build lists.' })
export class BuildFilterInput {
  @Field(() => String, { nullable: true, description: 'Case-insensitive substring of the name.' }) nameContains?: string | null;
  @Field(() => [RunStateEnum], { nullable: true, description: 'State of the latest run is one of these.' }) lastRunStates?: Array<keyof typeof RunStateEnum> | null;
}

const CONFIG_FIELD = {
  CODE_DOWN: 'codeDown', USER_TASK: 'userTask', FTP: 'ftp', HTTP: 'http', SHELL: 'shell', CREATE_IMAGE: 'createImage',
} as const;

/**
 * The provider names a step's fields as `steps[i].config.<model field>`; the client wrote
 * them as `steps[i].<shell|http|...>.<input field>`. Returns the error naming the latter.
 */
export function asInputFieldError(e: unknown, input: BuildInput): unknown {
  if (!(e instanceof BuildgateError) || e.code !== ErrorCode.BAD_USER_INPUT || typeof e.extensions.field !== 'string') return e;
  const m = /^steps\[(\d+)\]\.config(?:\.(.*))?$/.exec(e.extensions.field);
  const step = m ? input.steps[Number(m[1])] : undefined;
  if (!m || !step) return e;
  const inner = (m[2] ?? '').replace(/^dockerVolumeMountVOList\b/, 'volumeMounts');
  const field = `steps[${m[1]}].${CONFIG_FIELD[step.stepType as keyof typeof CONFIG_FIELD]}${inner ? `.${inner}` : ''}`;
  const message = e.message.split(`steps[${m[1]}].config`).join(`steps[${m[1]}].${CONFIG_FIELD[step.stepType as keyof typeof CONFIG_FIELD]}`).replace(/dockerVolumeMountVOList/g, 'volumeMounts');
  return new BuildgateError(ErrorCode.BAD_USER_INPUT, message, { ...e.extensions, field });
}

/** Drops keys the client left out, so "omitted" and "null" stay distinct for secrets. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/**
 * GraphQL input → provider input. Checks the one-of rule for step configs; the build
 * rules themselves are checked by the provider (src/providers/build-rules.ts).
 */
export function toBuildInputData(input: BuildInput, buildStepKey: (stepId: string) => string): BuildInputData {
  const steps = input.steps.map((s, i) => {
    const expected = CONFIG_FIELD[s.stepType as keyof typeof CONFIG_FIELD];
    const given = Object.values(CONFIG_FIELD).filter((f) => s[f] != null);
    if (given.length !== 1 || given[0] !== expected) {
      throw badInput(`steps[${i}]: a ${s.stepType} step needs exactly its \`${expected}\` config${given.length ? ` (got ${given.join(', ')})` : ''}`, `steps[${i}].${expected}`);
    }
    const raw = defined({ ...(s[expected] as object) }) as Record<string, unknown>;
    for (const list of ['customHeaders', 'envs']) if (Array.isArray(raw[list])) raw[list] = (raw[list] as object[]).map((h) => defined({ ...h }));
    // The model keeps the Cocktail field name the stored configs use.
    if ('volumeMounts' in raw) {
      raw.dockerVolumeMountVOList = raw.volumeMounts;
      delete raw.volumeMounts;
    }
    const config = { ...raw, stepType: s.stepType } as unknown as StepConfig;
    return { key: s.stepId ? buildStepKey(s.stepId) : null, stepOrder: s.stepOrder, useFlag: s.useFlag, config };
  });
  const { steps: _s, autotag, ...rest } = input;
  return {
    ...defined(rest),
    autotag: autotag ? { enabled: autotag.enabled, prefix: autotag.prefix ?? null, seqType: autotag.seqType ?? null } : null,
    steps,
  } as BuildInputData;
}
