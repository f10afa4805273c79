import { SECRET_HEADER, STEP_SECRET_FIELDS } from '../model.js';
import type { HttpHeader, StepConfig } from '../model.js';

/**
 * Step configs are stored in two JSON columns: the public part and the secrets. Secret
 * header values are keyed by lower-cased header name.
 */
export interface StepSecrets { fields: Record<string, string>; headers: Record<string, string> }

const isSecretHeader = (h: HttpHeader) => h.secret === true || SECRET_HEADER.test(h.name);

export function splitStepSecrets(config: StepConfig): { publicConfig: StepConfig; secrets: StepSecrets } {
  const pub = { ...config } as Record<string, unknown>;
  const secrets: StepSecrets = { fields: {}, headers: {} };
  for (const f of STEP_SECRET_FIELDS[config.stepType]) {
    const v = pub[f];
    if (typeof v === 'string' && v !== '') secrets.fields[f] = v;
    delete pub[f];
  }
  if (config.stepType === 'HTTP' && config.customHeaders) {
    pub.customHeaders = config.customHeaders.map((h) => {
      if (!isSecretHeader(h)) return { name: h.name, value: h.value, secret: false };
      if (h.value !== '') secrets.headers[h.name.toLowerCase()] = h.value;
      return { name: h.name, value: '', secret: true };
    });
  }
  return { publicConfig: pub as unknown as StepConfig, secrets };
}

/**
 * For updates: a secret left out of the input (undefined) keeps the previously stored
 * value; an explicit null or '' clears it.
 */
export function carryOverSecrets(input: StepConfig, previous: StepSecrets | undefined): StepSecrets {
  const { secrets } = splitStepSecrets(input);
  if (!previous) return secrets;
  const raw = input as unknown as Record<string, unknown>;
  for (const f of STEP_SECRET_FIELDS[input.stepType]) {
    if (raw[f] === undefined && previous.fields[f] !== undefined) secrets.fields[f] = previous.fields[f]!;
  }
  if (input.stepType === 'HTTP') {
    for (const h of input.customHeaders ?? []) {
      const key = h.name.toLowerCase();
      if (isSecretHeader(h) && (h.value === undefined || h.value === null) && previous.headers[key] !== undefined) {
        secrets.headers[key] = previous.headers[key]!;
      }
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
  return full as unknown as StepConfig;
}

/** Every secret value of a config, for masking log lines. */
export function secretValues(secrets: StepSecrets): string[] {
  return [...Object.values(secrets.fields), ...Object.values(secrets.headers)].filter((v) => v.length >= 3);
}
