import { createUnionType, Field, Int, ObjectType } from 'type-graphql';
import type { StepConfig } from '../../providers/types.js';
import { maskUrl } from '../../secrets/mask.js';
import {
  CommonTypeEnum, DockerFileTypeEnum, FtpExecTypeEnum, FtpTypeEnum, HttpModeEnum, ProtocolTypeEnum, RepositoryTypeEnum, ShellTypeEnum,
} from '../common/enums.js';

/*
 * Step configurations as read back: every field of the Cocktail model except secrets,
 * which show only as `has…` flags. One object type per step type, joined in a union.
 */

@ObjectType({ description: 'CODE_DOWN: git clone of a branch into the workspace.' })
export class CodeDownStepConfig {
  @Field(() => String, { nullable: true, description: 'Title shown for the step.' }) stepTitle!: string | null;
  @Field(() => RepositoryTypeEnum, { description: 'Repository kind.' }) repositoryType!: 'GIT';
  @Field({ description: 'Repository URL (a password in it shows as ***); without scheme the protocolType is prepended.' }) repositoryUrl!: string;
  @Field({ description: 'Branch to clone.' }) branchName!: string;
  @Field(() => String, { nullable: true, description: 'Directory in the workspace to clone into (default: the repository name).' }) codeSaveDir!: string | null;
  @Field(() => CommonTypeEnum, { description: 'COMMON (public) or PRIVATE (needs credentials).' }) commonType!: 'COMMON' | 'PRIVATE';
  @Field(() => ProtocolTypeEnum, { description: 'HTTP or HTTPS.' }) protocolType!: 'http' | 'https';
  @Field(() => String, { nullable: true, description: 'User for HTTPS authentication.' }) userId!: string | null;
  @Field({ description: 'A password or token is stored (never returned).' }) hasPassword!: boolean;
  @Field({ description: 'Skip TLS certificate verification.' }) httpSslVerifySkip!: boolean;
}

@ObjectType({ description: 'A volume mounted into a USER_TASK container.' })
export class VolumeMountView {
  @Field({ description: 'Absolute path inside the container.' }) containerPath!: string;
  @Field({ description: 'Path in the workspace ($PWD = workspace root).' }) hostPath!: string;
}

@ObjectType({ description: 'An environment variable of a USER_TASK step. Secret values (the default) are never returned.' })
export class KeyValueView {
  @Field({ description: 'Name.' }) key!: string;
  @Field(() => String, { nullable: true, description: 'Value; null when the variable is secret.' }) value!: string | null;
  @Field({ description: 'The value is a secret and is never returned (variables are secret unless created with `secret: false`).' }) secret!: boolean;
  @Field({ description: 'A non-empty value is stored.' }) hasValue!: boolean;
}

@ObjectType({ description: 'USER_TASK: a command in a container image.' })
export class UserTaskStepConfig {
  @Field(() => String, { nullable: true, description: 'Title shown for the step.' }) stepTitle!: string | null;
  @Field(() => [String], { description: 'Command and arguments, e.g. ["mvn","clean","install"].' }) cmd!: string[];
  @Field(() => String, { nullable: true, description: 'Working directory inside the container.' }) workingDir!: string | null;
  @Field({ description: 'Container image name.' }) imageName!: string;
  @Field(() => String, { nullable: true, description: 'Container image tag (always set for USER_TASK; nullable to agree with CREATE_IMAGE.imageTag in the StepConfig union).' }) imageTag!: string | null;
  @Field(() => [VolumeMountView], { description: 'Volume mounts.' }) volumeMounts!: VolumeMountView[];
  @Field(() => [KeyValueView], { description: 'Environment variables.' }) envs!: KeyValueView[];
}

@ObjectType({ description: 'FTP: upload or download over FTP, FTPS or SFTP.' })
export class FtpStepConfig {
  @Field(() => String, { nullable: true, description: 'Title shown for the step.' }) stepTitle!: string | null;
  @Field({ description: 'Server host[:port].' }) url!: string;
  @Field(() => FtpTypeEnum, { description: 'Protocol.' }) ftpType!: string;
  @Field(() => String, { nullable: true, description: 'Login user.' }) username!: string | null;
  @Field({ description: 'A password is stored (never returned).' }) hasPassword!: boolean;
  @Field({ description: 'Local side: file or directory in the workspace.' }) sourceFiles!: string;
  @Field({ description: 'Remote side: directory (or file) on the server.' }) remoteDirectory!: string;
  @Field(() => FtpExecTypeEnum, { description: 'Direction and scope.' }) ftpExecType!: string;
  @Field({ description: 'FTPS: accept a server certificate that does not verify.' }) ignoreSslErrors!: boolean;
}

@ObjectType({ description: 'A request header of an HTTP step. Secret headers show no value.' })
export class HttpHeaderView {
  @Field({ description: 'Header name.' }) name!: string;
  @Field(() => String, { nullable: true, description: 'Header value; null when the header is secret.' }) value!: string | null;
  @Field({ description: 'The value is a credential and is never returned.' }) secret!: boolean;
}

@ObjectType({ description: 'HTTP: a request with expected status codes.' })
export class HttpStepConfig {
  @Field(() => String, { nullable: true, description: 'Title shown for the step.' }) stepTitle!: string | null;
  @Field({ description: 'Request URL; a password and token-named query values show as ***.' }) url!: string;
  @Field(() => HttpModeEnum, { description: 'HTTP method.' }) httpMode!: string;
  @Field(() => [HttpHeaderView], { description: 'Request headers.' }) customHeaders!: HttpHeaderView[];
  @Field({ description: 'Skip TLS certificate verification.' }) ignoreSslErrors!: boolean;
  @Field(() => String, { nullable: true, description: 'Basic-auth user.' }) username!: string | null;
  @Field({ description: 'A basic-auth password is stored (never returned).' }) hasPassword!: boolean;
  @Field(() => Int, { nullable: true, description: 'Timeout in seconds (always set for HTTP; nullable to agree with SHELL.timeout in the StepConfig union).' }) timeout!: number | null;
  @Field(() => String, { nullable: true, description: 'Accepted status codes: "200", "200,201" or "200-299".' }) validResponseCodes!: string | null;
  @Field(() => String, { nullable: true, description: 'Text the response body must contain.' }) validResponseContent!: string | null;
  @Field(() => String, { nullable: true, description: 'Workspace file to write the response body to.' }) outputFile!: string | null;
  @Field({ description: 'Write the response body to the step log.' }) consoleLogResponseBody!: boolean;
  @Field(() => String, { nullable: true, description: 'Request body.' }) requestBody!: string | null;
}

@ObjectType({ description: 'SHELL: a script or command run in the workspace.' })
export class ShellStepConfig {
  @Field(() => String, { nullable: true, description: 'Title shown for the step.' }) stepTitle!: string | null;
  @Field(() => ShellTypeEnum, { description: 'SCRIPT or COMMAND.' }) shellType!: string;
  @Field({ description: 'Script text or command line.' }) command!: string;
  @Field(() => Int, { nullable: true, description: 'Timeout in seconds (engine default when null).' }) timeout!: number | null;
}

@ObjectType({ description: 'CREATE_IMAGE: build an image from a Dockerfile and push it.' })
export class CreateImageStepConfig {
  @Field(() => String, { nullable: true, description: 'Title shown for the step.' }) stepTitle!: string | null;
  @Field(() => DockerFileTypeEnum, { description: 'Where the Dockerfile comes from.' }) dockerFileType!: string;
  @Field(() => String, { nullable: true, description: 'Dockerfile text (CONTENTS).' }) dockerFile!: string | null;
  @Field(() => String, { nullable: true, description: 'Dockerfile path in the workspace (FILE_PATH).' }) dockerFilePath!: string | null;
  @Field(() => String, { nullable: true, description: 'Registry project id.' }) registryId!: string | null;
  @Field({ description: 'Registry project (namespace) name.' }) registryName!: string;
  @Field({ description: 'Image name without registry.' }) imageName!: string;
  @Field(() => String, { nullable: true, description: 'Image tag; the run tag wins when set.' }) imageTag!: string | null;
  @Field({ description: 'Also tag the image `latest`.' }) latestApply!: boolean;
  @Field(() => String, { nullable: true, description: 'Registry host; the engine default when null.' }) registryUrl!: string | null;
  @Field(() => String, { nullable: true, description: 'Registry login.' }) loginId!: string | null;
  @Field({ description: 'A registry password is stored (never returned).' }) hasPassword!: boolean;
  @Field(() => String, { nullable: true, description: 'CA certificate of a private registry.' }) privateCertificate!: string | null;
  @Field(() => Int, { nullable: true, description: 'External registry number.' }) externalRegistrySeq!: number | null;
  @Field(() => String, { nullable: true, description: 'Image scan severity threshold.' }) severity!: string | null;
  @Field(() => String, { nullable: true, description: 'Exit code of the image scan.' }) exitCode!: string | null;
}

export const StepConfigUnion = createUnionType({
  name: 'StepConfig',
  description: 'Typed configuration of a build step, by step type.',
  types: () => [CodeDownStepConfig, UserTaskStepConfig, FtpStepConfig, HttpStepConfig, ShellStepConfig, CreateImageStepConfig] as const,
});

const has = (v: unknown) => typeof v === 'string' && v.length > 0;

/** Maps a stored config (secrets included) to its read-back view, secrets reduced to flags. */
export function stepConfigView(c: StepConfig): typeof StepConfigUnion {
  const title = c.stepTitle ?? null;
  switch (c.stepType) {
    case 'CODE_DOWN':
      return Object.assign(new CodeDownStepConfig(), {
        stepTitle: title, repositoryType: c.repositoryType ?? 'GIT', repositoryUrl: maskUrl(c.repositoryUrl), branchName: c.branchName,
        codeSaveDir: c.codeSaveDir ?? null, commonType: c.commonType ?? 'COMMON', protocolType: c.protocolType ?? 'https',
        userId: c.userId ?? null, hasPassword: has(c.password), httpSslVerifySkip: !!c.httpSslVerifySkip,
      });
    case 'USER_TASK':
      return Object.assign(new UserTaskStepConfig(), {
        stepTitle: title, cmd: c.cmd ?? [], workingDir: c.workingDir ?? null, imageName: c.imageName, imageTag: c.imageTag,
        volumeMounts: c.dockerVolumeMountVOList ?? [],
        envs: (c.envs ?? []).map((e) => ({ key: e.key, value: e.secret === false ? e.value ?? '' : null, secret: e.secret !== false, hasValue: !!e.value })),
      });
    case 'FTP':
      return Object.assign(new FtpStepConfig(), {
        stepTitle: title, url: maskUrl(c.url), ftpType: c.ftpType, username: c.username ?? null, hasPassword: has(c.password),
        sourceFiles: c.sourceFiles, remoteDirectory: c.remoteDirectory, ftpExecType: c.ftpExecType, ignoreSslErrors: !!c.ignoreSslErrors,
      });
    case 'HTTP':
      return Object.assign(new HttpStepConfig(), {
        stepTitle: title, url: maskUrl(c.url), httpMode: c.httpMode,
        customHeaders: (c.customHeaders ?? []).map((h) => ({ name: h.name, value: h.secret ? null : h.value, secret: !!h.secret })),
        ignoreSslErrors: !!c.ignoreSslErrors, username: c.username ?? null, hasPassword: has(c.password), timeout: c.timeout,
        validResponseCodes: c.validResponseCodes ?? null, validResponseContent: c.validResponseContent ?? null,
        outputFile: c.outputFile ?? null, consoleLogResponseBody: !!c.consoleLogResponseBody, requestBody: c.requestBody ?? null,
      });
    case 'SHELL':
      return Object.assign(new ShellStepConfig(), { stepTitle: title, shellType: c.shellType, command: c.command, timeout: c.timeout ?? null });
    case 'CREATE_IMAGE':
      return Object.assign(new CreateImageStepConfig(), {
        stepTitle: title, dockerFileType: c.dockerFileType ?? 'CONTENTS', dockerFile: c.dockerFile ?? null, dockerFilePath: c.dockerFilePath ?? null,
        registryId: c.registryId != null ? String(c.registryId) : null, registryName: c.registryName, imageName: c.imageName,
        imageTag: c.imageTag ?? null, latestApply: !!c.latestApply, registryUrl: c.registryUrl ? maskUrl(c.registryUrl) : null, loginId: c.loginId ?? null,
        hasPassword: has(c.password), privateCertificate: c.privateCertificate ?? null, externalRegistrySeq: c.externalRegistrySeq ?? null,
        severity: c.severity ?? null, exitCode: c.exitCode ?? null,
      });
  }
}
