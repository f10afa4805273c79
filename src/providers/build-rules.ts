import { checkStepConfig, checkStepHosts, StepInputError, type HostRules } from '../engine/steps/rules.js';
import { badInput } from '../errors.js';
import type { BuildInputData, StepConfig, StepType } from './types.js';

/**
 * The build-definition rules the Cocktail model states (seed 000 and its VO validation),
 * shared by every provider that stores Cocktail-shaped builds (native, Cocktail).
 * Each failure is a BAD_USER_INPUT naming the field.
 */

const REQUIRED: Record<StepType, string[]> = {
  CODE_DOWN: ['repositoryType', 'repositoryUrl', 'branchName', 'commonType', 'protocolType'],
  USER_TASK: ['imageName', 'imageTag'],
  FTP: ['url', 'ftpType', 'sourceFiles', 'remoteDirectory', 'ftpExecType'],
  HTTP: ['url', 'httpMode', 'timeout'],
  SHELL: ['shellType', 'command'],
  CREATE_IMAGE: ['registryName', 'imageName', 'dockerFileType'],
};

const NAME_MAX = 256;

/**
 * Free text has a length limit (characters), stated in the schema's descriptions: without
 * one a 900 KB description is stored and comes back on every page of builds. The long
 * bodies (scripts, Dockerfiles, request bodies, certificates, commands and env values) are
 * bounded by `limits.maxInputString` alone.
 */
export const TEXT_MAX = { description: 4000, title: NAME_MAX, stepField: 4096 } as const;
const LONG_STEP_FIELDS = new Set(['command', 'dockerFile', 'requestBody', 'privateCertificate', 'cmd', 'envs']);

const strings = (v: unknown): string[] => typeof v === 'string' ? [v] : Array.isArray(v) ? v.flatMap(strings)
  : v && typeof v === 'object' ? Object.values(v).flatMap(strings) : [];

/** Every string of a step config (nested ones too) within TEXT_MAX, the long bodies aside. */
function checkStepText(config: StepConfig, where: string): void {
  for (const [key, value] of Object.entries(config)) {
    if (LONG_STEP_FIELDS.has(key)) continue;
    const max = key === 'stepTitle' ? TEXT_MAX.title : TEXT_MAX.stepField;
    if (strings(value).some((s) => s.length > max)) throw badInput(`${where}.${key} is longer than ${max} characters`, `${where}.${key}`);
  }
}

function blank(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
}

function checkStep(config: StepConfig, where: string): void {
  for (const key of REQUIRED[config.stepType]) {
    if (blank((config as unknown as Record<string, unknown>)[key])) {
      throw badInput(`${where}.${key} is required for a ${config.stepType} step`, `${where}.${key}`);
    }
  }
  switch (config.stepType) {
    case 'CODE_DOWN':
      if (config.commonType === 'PRIVATE' && blank(config.userId)) {
        throw badInput(`${where}.userId is required when commonType is PRIVATE`, `${where}.userId`);
      }
      if (/\s/.test(config.repositoryUrl)) throw badInput(`${where}.repositoryUrl must not contain spaces`, `${where}.repositoryUrl`);
      if (/^-|\s/.test(config.branchName)) throw badInput(`${where}.branchName must not contain spaces or start with "-"`, `${where}.branchName`);
      break;
    case 'USER_TASK':
      for (const [i, m] of (config.dockerVolumeMountVOList ?? []).entries()) {
        if (blank(m.containerPath) || !m.containerPath.startsWith('/')) {
          throw badInput(`${where}.dockerVolumeMountVOList[${i}].containerPath must be an absolute path`, `${where}.dockerVolumeMountVOList`);
        }
        if (blank(m.hostPath)) throw badInput(`${where}.dockerVolumeMountVOList[${i}].hostPath is required`, `${where}.dockerVolumeMountVOList`);
      }
      break;
    case 'HTTP':
      if (!Number.isFinite(config.timeout) || config.timeout <= 0 || config.timeout > 3600) {
        throw badInput(`${where}.timeout must be between 1 and 3600 seconds`, `${where}.timeout`);
      }
      if (!/^https?:\/\//i.test(config.url)) throw badInput(`${where}.url must be an http(s) URL`, `${where}.url`);
      if (config.validResponseCodes && !/^\s*\d{3}(\s*-\s*\d{3})?(\s*,\s*\d{3}(\s*-\s*\d{3})?)*\s*$/.test(config.validResponseCodes)) {
        throw badInput(`${where}.validResponseCodes must look like "200", "200,201" or "200-299"`, `${where}.validResponseCodes`);
      }
      break;
    case 'SHELL':
      if (config.timeout != null && (config.timeout <= 0 || config.timeout > 86400)) {
        throw badInput(`${where}.timeout must be between 1 and 86400 seconds`, `${where}.timeout`);
      }
      break;
    case 'CREATE_IMAGE':
      if (config.dockerFileType === 'CONTENTS' && blank(config.dockerFile)) {
        throw badInput(`${where}.dockerFile is required when dockerFileType is CONTENTS`, `${where}.dockerFile`);
      }
      if (config.dockerFileType === 'FILE_PATH' && blank(config.dockerFilePath)) {
        throw badInput(`${where}.dockerFilePath is required when dockerFileType is FILE_PATH`, `${where}.dockerFilePath`);
      }
      for (const k of ['registryName', 'imageName', 'imageTag'] as const) {
        if ((config[k]?.length ?? 0) > NAME_MAX) throw badInput(`${where}.${k} is longer than ${NAME_MAX}`, `${where}.${k}`);
      }
      break;
    case 'FTP':
      break;
  }
}

/** Validates a whole build definition; throws on the first broken rule. */
export function validateBuildInput(input: BuildInputData, limits: { maxSteps: number }): void {
  if (blank(input.name)) throw badInput('name is required', 'name');
  if (input.name.length > NAME_MAX) throw badInput(`name is longer than ${NAME_MAX} characters`, 'name');
  if ((input.description?.length ?? 0) > TEXT_MAX.description) {
    throw badInput(`description is longer than ${TEXT_MAX.description} characters`, 'description');
  }
  for (const k of ['registryName', 'imageName', 'buildServerHost'] as const) {
    if ((input[k]?.length ?? 0) > NAME_MAX) throw badInput(`${k} is longer than ${NAME_MAX} characters`, k);
  }
  if (input.imageName && !/^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(input.imageName)) {
    throw badInput('imageName must be a lower-case image repository name (letters, digits, . _ - /)', 'imageName');
  }
  if (input.tagName && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(input.tagName)) {
    throw badInput('tagName must be a valid image tag (letters, digits, _ . -; at most 128)', 'tagName');
  }
  const autotag = input.autotag;
  if (autotag?.enabled) {
    if (!autotag.seqType) throw badInput('autotag.seqType (DATETIME or SEQUENCE) is required when autotag is enabled', 'autotag.seqType');
    if (autotag.prefix && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,100}$/.test(autotag.prefix)) {
      throw badInput('autotag.prefix may hold letters, digits, _ . - (at most 100)', 'autotag.prefix');
    }
  }
  if (input.steps.length > limits.maxSteps) throw badInput(`a build may have at most ${limits.maxSteps} steps`, 'steps');
  const orders = new Set<number>();
  input.steps.forEach((s, i) => {
    const where = `steps[${i}]`;
    if (!Number.isInteger(s.stepOrder) || s.stepOrder < 1) throw badInput(`${where}.stepOrder must be a positive integer`, `${where}.stepOrder`);
    if (orders.has(s.stepOrder)) throw badInput(`${where}.stepOrder ${s.stepOrder} is used by two steps`, `${where}.stepOrder`);
    orders.add(s.stepOrder);
    checkStepText(s.config, `${where}.config`);
    checkStep(s.config, `${where}.config`);
  });
  const hasImageStep = input.steps.some((s) => s.useFlag && s.config.stepType === 'CREATE_IMAGE');
  if (hasImageStep && !autotag?.enabled && blank(input.tagName)) {
    // Cocktail: an image build needs a tag: a given tagName or autotag.
    throw badInput('tagName is required when the build creates an image and autotag is disabled', 'tagName');
  }
}

/**
 * The native engine's own step rules (src/engine/steps/rules.ts), the very ones a step
 * checks when it runs: paths that leave the workspace, image names, URL schemes and — with
 * `hosts` — hosts the SSRF guard would refuse. The first broken one is a BAD_USER_INPUT
 * naming `steps[i].config.<field>`.
 */
export async function validateEngineSteps(input: BuildInputData, hosts: HostRules | null): Promise<void> {
  for (const [i, s] of input.steps.entries()) {
    const where = `steps[${i}].config`;
    try {
      checkStepConfig(s.config);
      if (hosts) await checkStepHosts(s.config, hosts);
    } catch (e) {
      if (e instanceof StepInputError) throw badInput(`${where}: ${e.message}`, `${where}.${e.field}`);
      throw e;
    }
  }
}

export { SECRET_HEADER, STEP_SECRET_FIELDS } from '../model.js';
