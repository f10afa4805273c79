import { isIP } from 'node:net';
import path from 'node:path';
import { assertAllowedHost, HostNotAllowedError } from '../../net/guard.js';
import type { CodeDownConfig, FtpConfig, StepConfig } from '../../model.js';
import { parseRegistry, resolveImage } from '../registry.js';
import { resolveInWorkspace } from '../workspace.js';

/**
 * What the engine accepts in a step config, checked twice with these same functions: when a
 * build is saved (createBuild / updateBuild answer BAD_USER_INPUT naming the field) and
 * when the step runs (the config may predate a rule, or come from elsewhere). Only what can
 * be judged from the text is here, plus the hosts a step will contact against the SSRF
 * guard; the run-time checks on real files (symlinks) and on the very addresses connected
 * to stay in the steps.
 */

/** A broken rule; `field` is the config field's name (`codeSaveDir`, `dockerVolumeMountVOList`). */
export class StepInputError extends Error {
  override name = 'StepInputError';
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

const fail = (field: string, message: string): never => { throw new StepInputError(field, message); };

/** Stands for a run's workspace when a path is judged before any run exists. */
const SOME_WORKSPACE = '/buildgate-workspace';

function inWorkspace(p: string | null | undefined, field: string): void {
  try {
    resolveInWorkspace(SOME_WORKSPACE, p, field);
  } catch (e) {
    fail(field, (e as Error).message);
  }
}

// The distribution spec's grammar (github.com/distribution/reference): lower-case path
// components, an optional registry host[:port] first, then :tag and/or @digest. Nothing
// that matches starts with "-", so no name can be read by buildah as an option.
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?';
const TAG = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
export const REPOSITORY = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const IMAGE_REFERENCE = new RegExp(`^(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`);
export const IMAGE_TAG = new RegExp(`^${TAG}$`);

/** Adds the scheme the Cocktail model leaves out and refuses what git must not fetch. */
export function repositoryUrl(cfg: Pick<CodeDownConfig, 'repositoryUrl' | 'protocolType'>): URL {
  const raw = cfg.repositoryUrl.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:/i.test(raw) && !/^[^/]+:\d/.test(raw) ? raw : `${cfg.protocolType ?? 'https'}://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    // the value is not quoted: it may carry a password
    return fail('repositoryUrl', 'repositoryUrl is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    fail('repositoryUrl', `repositoryUrl must use http or https, got ${url.protocol.replace(/:$/, '')}`);
  }
  if (url.username || url.password) {
    fail('repositoryUrl', 'repositoryUrl must not contain credentials (they would be stored in .git/config): use userId and password');
  }
  return url;
}

/** `validResponseCodes` as ranges: "200", "200,201", "200-299" or Jenkins' "200:299". */
export function parseResponseCodes(spec: string): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(\d{3})(?:\s*[-:]\s*(\d{3}))?$/.exec(part);
    if (!m) fail('validResponseCodes', `validResponseCodes ${JSON.stringify(spec)}: "${part}" is not a code (200) or a range (200-299)`);
    const from = Number(m![1]);
    const to = m![2] ? Number(m![2]) : from;
    if (to < from) fail('validResponseCodes', `validResponseCodes ${JSON.stringify(spec)}: range "${part}" is reversed`);
    ranges.push([from, to]);
  }
  if (ranges.length === 0) fail('validResponseCodes', 'validResponseCodes is empty');
  return ranges;
}

export function parseFtpUrl(url: string, ftpType: FtpConfig['ftpType']): { host: string; port: number } {
  const m = /^(?:(ftp|ftps|sftp):\/\/)?(\[[0-9a-f:.]+\]|[^/:@\s]+)(?::(\d+))?\/?$/i.exec(url.trim());
  if (!m) return fail('url', 'url must be host[:port] (the remote path goes in remoteDirectory)');
  return { host: m[2]!.replace(/^\[|\]$/g, ''), port: m[3] ? Number(m[3]) : ftpType === 'SFTP' ? 22 : 21 };
}

export const FTP_EXEC_TYPES = ['FTP_UPLOAD', 'FTP_DOWN', 'DIR_FTP_UPLOAD', 'DIR_FTP_DOWN'] as const;

/** `containerPath` / `workingDir`: absolute, and without buildah's `-v` separators. */
export function absoluteContainerPath(p: string | null | undefined, field: string, shown = field): string {
  if (!p?.startsWith('/')) fail(field, `${shown} ${JSON.stringify(p)} must be an absolute path in the container`);
  if (/[:,]/.test(p!)) fail(field, `${shown} ${JSON.stringify(p)} must not contain ':' or ','`);
  return path.posix.normalize(p!);
}

/** Throws a StepInputError for the first rule `config` breaks. */
export function checkStepConfig(config: StepConfig): void {
  switch (config.stepType) {
    case 'CODE_DOWN': {
      if (config.repositoryType && config.repositoryType !== 'GIT') fail('repositoryType', `repositoryType ${config.repositoryType} is not supported (GIT only)`);
      if (!config.branchName?.trim()) fail('branchName', 'branchName is empty');
      // git would read a branch (or URL) starting with "-" as an option
      if (/^-|\s/.test(config.branchName.trim())) fail('branchName', 'branchName must not contain spaces or start with "-"');
      if (/\s/.test(config.repositoryUrl ?? '')) fail('repositoryUrl', 'repositoryUrl must not contain spaces');
      repositoryUrl(config);
      if (config.codeSaveDir?.trim()) inWorkspace(config.codeSaveDir.trim(), 'codeSaveDir');
      break;
    }
    case 'USER_TASK': {
      if (!Array.isArray(config.cmd) || !config.cmd.length || config.cmd.some((c) => typeof c !== 'string')) {
        fail('cmd', 'cmd must be a non-empty list of strings');
      }
      const name = config.imageName?.trim() ?? '';
      if (!name) fail('imageName', 'imageName is empty');
      if (!IMAGE_REFERENCE.test(name)) {
        fail('imageName', `imageName ${JSON.stringify(config.imageName)} is not an image reference ([registry/]name[:tag], lower case)`);
      }
      if (config.imageTag?.trim() && !IMAGE_TAG.test(config.imageTag.trim())) fail('imageTag', `imageTag ${JSON.stringify(config.imageTag)} is not a valid image tag`);
      try {
        resolveImage(name, config.imageTag, 'registry.invalid');
      } catch (e) {
        fail('imageTag', (e as Error).message);
      }
      for (const m of config.dockerVolumeMountVOList ?? []) {
        absoluteContainerPath(m.containerPath, 'dockerVolumeMountVOList', 'containerPath');
        if (!m.hostPath?.trim()) fail('dockerVolumeMountVOList', 'hostPath is required');
        inWorkspace(m.hostPath, 'dockerVolumeMountVOList');
        if (/[:,]/.test(m.hostPath)) fail('dockerVolumeMountVOList', `hostPath ${JSON.stringify(m.hostPath)} must not contain ':' or ','`);
      }
      for (const e of config.envs ?? []) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(e.key ?? '')) fail('envs', `env name ${JSON.stringify(e.key)} is not valid`);
      }
      if (config.workingDir?.trim()) absoluteContainerPath(config.workingDir, 'workingDir');
      break;
    }
    case 'CREATE_IMAGE': {
      if (config.registryUrl?.trim()) {
        try {
          parseRegistry(config.registryUrl, false);
        } catch (e) {
          fail('registryUrl', (e as Error).message);
        }
      }
      for (const k of ['registryName', 'imageName'] as const) {
        const v = config[k]?.trim();
        if (v && !REPOSITORY.test(v)) fail(k, `${k} ${JSON.stringify(config[k])} is not a valid image name (lower case letters, digits, separators)`);
      }
      if (config.imageTag?.trim() && !IMAGE_TAG.test(config.imageTag.trim())) fail('imageTag', `imageTag ${JSON.stringify(config.imageTag)} is not a valid image tag`);
      if (config.dockerFileType === 'CONTENTS') {
        if (!config.dockerFile?.trim()) fail('dockerFile', 'dockerFile is empty');
      } else if (config.dockerFileType === 'FILE_PATH') {
        if (!config.dockerFilePath?.trim()) fail('dockerFilePath', 'dockerFilePath is empty');
        inWorkspace(config.dockerFilePath, 'dockerFilePath');
      } else {
        fail('dockerFileType', `dockerFileType must be CONTENTS or FILE_PATH, got ${JSON.stringify(config.dockerFileType)}`);
      }
      break;
    }
    case 'HTTP': {
      let url: URL | null = null;
      try {
        url = new URL(config.url);
      } catch {
        fail('url', 'url is not a valid URL');
      }
      if (url!.protocol !== 'http:' && url!.protocol !== 'https:') fail('url', `url must be http or https, got ${url!.protocol}`);
      if (config.validResponseCodes?.trim()) parseResponseCodes(config.validResponseCodes);
      if (config.outputFile) inWorkspace(config.outputFile, 'outputFile');
      break;
    }
    case 'FTP': {
      if (!['FTP', 'FTPS', 'SFTP'].includes(config.ftpType)) fail('ftpType', `ftpType must be FTP, FTPS or SFTP, got ${JSON.stringify(config.ftpType)}`);
      if (!FTP_EXEC_TYPES.includes(config.ftpExecType)) fail('ftpExecType', `ftpExecType must be one of ${FTP_EXEC_TYPES.join(', ')}, got ${JSON.stringify(config.ftpExecType)}`);
      if (!config.remoteDirectory?.trim()) fail('remoteDirectory', 'remoteDirectory is empty');
      parseFtpUrl(config.url, config.ftpType);
      inWorkspace(config.sourceFiles, 'sourceFiles');
      break;
    }
    case 'SHELL':
      if (config.shellType !== 'COMMAND' && config.shellType !== 'SCRIPT') fail('shellType', `shellType must be COMMAND or SCRIPT, got ${JSON.stringify(config.shellType)}`);
      if (!config.command?.trim()) fail('command', 'command is empty');
      break;
  }
}

/** What a step may reach: the SSRF guard's exceptions, and the engine's own registry. */
export interface HostRules {
  allowPrivateHosts: readonly string[];
  /** `engine.registry.host` (host[:port]): configured by the operator, so always allowed. */
  registryHost: string;
}

/** The hosts a step will contact, with the field that names each (the config must pass checkStepConfig). */
export function stepHosts(config: StepConfig, registryHost: string): Array<{ field: string; host: string }> {
  switch (config.stepType) {
    case 'CODE_DOWN': return [{ field: 'repositoryUrl', host: repositoryUrl(config).hostname }];
    case 'HTTP': return [{ field: 'url', host: new URL(config.url).hostname }];
    case 'FTP': return [{ field: 'url', host: parseFtpUrl(config.url, config.ftpType).host }];
    case 'USER_TASK': return [{ field: 'imageName', host: resolveImage(config.imageName, config.imageTag, registryHost).host }];
    case 'CREATE_IMAGE': return config.registryUrl?.trim() ? [{ field: 'registryUrl', host: parseRegistry(config.registryUrl, false).host }] : [];
    default: return [];
  }
}

/** host[:port] or [v6]:port → the name or address alone. */
export function hostName(hostPort: string): string {
  const v6 = /^\[([^\]]+)\]/.exec(hostPort);
  if (v6) return v6[1]!;
  return isIP(hostPort) === 6 ? hostPort : hostPort.replace(/:\d+$/, '');
}

/**
 * A registry buildah will contact (push, or pull of a run image) must pass the SSRF guard,
 * unless it is the engine's own. buildah resolves names itself, so unlike git and got it
 * cannot be pinned to the checked addresses: a name whose DNS answer changes between this
 * check and buildah's own lookup is not caught (an IP literal or a name in /etc/hosts is).
 */
export async function assertRegistryAllowed(hostPort: string, rules: HostRules): Promise<void> {
  if (hostPort.toLowerCase() === rules.registryHost.toLowerCase()) return;
  await assertAllowedHost(hostName(hostPort), rules.allowPrivateHosts);
}

/**
 * The SSRF half of saving a build: a host that resolves (now) to a private address is
 * refused unless allowed. A name that does not resolve here is accepted — it may resolve
 * where the run executes (a build agent) and is checked again there.
 */
export async function checkStepHosts(config: StepConfig, rules: HostRules): Promise<void> {
  for (const { field, host } of stepHosts(config, rules.registryHost)) {
    const registry = config.stepType === 'USER_TASK' || config.stepType === 'CREATE_IMAGE';
    if (registry && host.toLowerCase() === rules.registryHost.toLowerCase()) continue;
    try {
      await withTimeout(assertAllowedHost(registry ? hostName(host) : host, rules.allowPrivateHosts), 3000);
    } catch (e) {
      if (e instanceof HostNotAllowedError) fail(field, `${field}: ${e.message}`);
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<undefined>((r) => { timer = setTimeout(() => r(undefined), ms); })]).finally(() => clearTimeout(timer));
}
