import { SECRET_HEADER, STEP_SECRET_FIELDS } from '../model.js';
import type { HttpHeader, KeyValue, StepConfig, StepType } from '../model.js';
import { badInput } from '../errors.js';
import { derivedForms, MASK, maskUrl, unmaskUrl, urlSecrets, urlTarget } from '../secrets/mask.js';

/**
 * Step configs are stored in two JSON columns: the public part and the secrets. Secret
 * header values are keyed by lower-cased header name, secret env values by env name. A URL
 * with credentials (password, token-named query values) is stored whole among the secret
 * fields and masked in the public part.
 */
export interface StepSecrets { fields: Record<string, string>; headers: Record<string, string>; envs?: Record<string, string> }

/** Fields holding URLs that may carry credentials. */
export const STEP_URL_FIELDS: Record<StepType, string[]> = {
  CODE_DOWN: ['repositoryUrl'], USER_TASK: [], FTP: ['url'], HTTP: ['url'], SHELL: [], CREATE_IMAGE: ['registryUrl'],
};

const isSecretHeader = (h: HttpHeader) => h.secret === true || SECRET_HEADER.test(h.name);
/** Env values are secrets unless marked `secret: false`. */
export const isSecretEnv = (e: KeyValue) => e.secret !== false;

export function splitStepSecrets(config: StepConfig): { publicConfig: StepConfig; secrets: StepSecrets } {
  const pub = { ...config } as Record<string, unknown>;
  const secrets: StepSecrets = { fields: {}, headers: {}, envs: {} };
  for (const f of STEP_SECRET_FIELDS[config.stepType]) {
    const v = pub[f];
    if (typeof v === 'string' && v !== '') secrets.fields[f] = v;
    delete pub[f];
  }
  for (const f of STEP_URL_FIELDS[config.stepType]) {
    const v = pub[f];
    if (typeof v !== 'string') continue;
    const masked = maskUrl(v);
    if (masked !== v) { secrets.fields[f] = v; pub[f] = masked; }
  }
  if (config.stepType === 'HTTP' && config.customHeaders) {
    pub.customHeaders = config.customHeaders.map((h) => {
      if (!isSecretHeader(h)) return { name: h.name, value: h.value, secret: false };
      if (h.value !== '') secrets.headers[h.name.toLowerCase()] = h.value;
      return { name: h.name, value: '', secret: true };
    });
  }
  if (config.stepType === 'USER_TASK' && config.envs) {
    pub.envs = config.envs.map((e) => {
      if (!isSecretEnv(e)) return { key: e.key, value: e.value ?? '', secret: false };
      if (e.value) secrets.envs![e.key] = e.value;
      return { key: e.key, value: '', secret: true };
    });
  }
  return { publicConfig: pub as unknown as StepConfig, secrets };
}

/**
 * Where a step sends its credentials: scheme, host and port of its URL or registry ('' for
 * the engine's default registry), with the step type (a step key reused by another type of
 * step is another target). A git URL without a scheme takes `protocolType`'s, as the clone does.
 */
export function stepTarget(config: StepConfig): string {
  const c = config as unknown as Record<string, unknown>;
  const url = (f: string) => urlTarget(typeof c[f] === 'string' ? (c[f] as string) : '');
  switch (config.stepType) {
    case 'HTTP': return `HTTP ${url('url')}`;
    case 'FTP': return `FTP ${config.ftpType} ${url('url')}`;
    case 'CREATE_IMAGE': return `CREATE_IMAGE ${url('registryUrl')}`;
    case 'CODE_DOWN': {
      const t = url('repositoryUrl');
      return `CODE_DOWN ${t.includes('://') ? t : `${(config.protocolType ?? 'https').toLowerCase()}://${t}`}`;
    }
    default: return config.stepType;
  }
}

/** What an update starts from: the step's stored secrets and the target they were meant for. */
export interface PreviousStep { secrets: StepSecrets; target: string }

/**
 * For updates: a secret left out of the input (undefined) keeps the previously stored
 * value; an explicit null or '' clears it (for headers and envs: null keeps, '' clears).
 * A URL sent back masked keeps the stored credentials. Only towards the same target
 * (stepTarget): otherwise a kept secret would go to a host the updater chose, so an omitted
 * one is refused (BAD_USER_INPUT naming `where`.field) and must be entered again.
 */
export function carryOverSecrets(input: StepConfig, prev: PreviousStep | undefined, where: string): StepSecrets {
  const previous = prev?.secrets;
  const moved = prev !== undefined && stepTarget(input) !== prev.target;
  const keep = (field: string) => {
    if (moved) throw badInput(`re-enter ${where}.${field} when changing the host (a stored secret is not sent to another host)`, `${where}.${field}`);
  };
  const raw = { ...input } as unknown as Record<string, unknown>;
  for (const f of STEP_URL_FIELDS[input.stepType]) {
    if (typeof raw[f] !== 'string') continue;
    if (previous?.fields[f] !== undefined && (raw[f] as string).includes(MASK)) keep(f);
    raw[f] = unmaskUrl(raw[f] as string, previous?.fields[f]);
  }
  const { secrets } = splitStepSecrets(raw as unknown as StepConfig);
  if (!previous) return secrets;
  for (const f of STEP_SECRET_FIELDS[input.stepType]) {
    if (raw[f] === undefined && previous.fields[f] !== undefined) {
      keep(f);
      secrets.fields[f] = previous.fields[f]!;
    }
  }
  if (input.stepType === 'HTTP') {
    (input.customHeaders ?? []).forEach((h, i) => {
      const key = h.name.toLowerCase();
      if (isSecretHeader(h) && (h.value === undefined || h.value === null) && previous.headers[key] !== undefined) {
        keep(`customHeaders[${i}].value`);
        secrets.headers[key] = previous.headers[key]!;
      }
    });
  }
  if (input.stepType === 'USER_TASK') {
    for (const e of input.envs ?? []) {
      const kept = previous.envs?.[e.key];
      if (isSecretEnv(e) && (e.value === undefined || e.value === null) && kept !== undefined) secrets.envs![e.key] = kept;
    }
  }
  return secrets;
}

export function mergeStepSecrets(publicConfig: StepConfig, secrets: StepSecrets): StepConfig {
  const full = { ...publicConfig, ...secrets.fields } as Record<string, unknown>;
  if (publicConfig.stepType === 'HTTP' && publicConfig.customHeaders) {
    full.customHeaders = publicConfig.customHeaders.map((h) =>
      h.secret ? { ...h, value: secrets.headers[h.name.toLowerCase()] ?? '' } : h);
  }
  if (publicConfig.stepType === 'USER_TASK' && publicConfig.envs) {
    // Rows written before env values were secrets have `secret` unset and the value in place.
    full.envs = publicConfig.envs.map((e) => (e.secret === true ? { ...e, value: secrets.envs?.[e.key] ?? '' } : e));
  }
  return full as unknown as StepConfig;
}

/** User field that goes with each step type's password (Basic auth, git, FTP, registry login). */
const USER_FIELD: Partial<Record<StepType, string>> = { CODE_DOWN: 'userId', FTP: 'username', HTTP: 'username', CREATE_IMAGE: 'loginId' };

/**
 * Every secret value of a step config (secrets merged in) and the forms it takes on the
 * wire, for masking log lines: Basic-auth base64 of `user:password`, base64 and URL
 * encodings, the token of "Bearer <token>", the credentials inside URLs.
 */
export function stepSecretValues(config: StepConfig): string[] {
  const c = config as unknown as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const out: string[] = [];
  const userField = USER_FIELD[config.stepType];
  for (const f of STEP_SECRET_FIELDS[config.stepType]) {
    const v = str(c[f]);
    if (v) out.push(v, ...derivedForms(v, userField ? str(c[userField]) : null));
  }
  for (const f of STEP_URL_FIELDS[config.stepType]) out.push(...urlSecrets(str(c[f])));
  if (config.stepType === 'HTTP') {
    for (const h of config.customHeaders ?? []) {
      if (!isSecretHeader(h) || !h.value) continue;
      // "Bearer <token>": the token alone is as secret as the whole header value.
      out.push(h.value, /^(?:Bearer|Basic|Token|Digest)\s+(\S.*)$/i.exec(h.value)?.[1] ?? '');
    }
  }
  if (config.stepType === 'USER_TASK') for (const e of config.envs ?? []) if (isSecretEnv(e) && e.value) out.push(e.value);
  return out;
}
