import fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { configSchema, type Config, type ConfigInput } from './schema.js';

export type { Config, ConfigInput } from './schema.js';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const ENV_PREFIX = 'BUILDGATE_';

/**
 * Environment overrides: `BUILDGATE_SERVER__PORT=5000` sets `server.port` (double
 * underscore separates levels, single underscores become camelCase). JSON values are
 * parsed (`BUILDGATE_PROVIDERS='[...]'`). Common short names are accepted too.
 */
export function envOverrides(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const set = (path: string[], raw: string) => {
    let value: unknown = raw;
    if (/^[[{]/.test(raw.trim())) {
      try { value = JSON.parse(raw); } catch { /* keep the string; validation names the key */ }
    }
    let node = out;
    for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
    node[path[path.length - 1]!] = value;
  };
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined || !name.startsWith(ENV_PREFIX) || name === 'BUILDGATE_CONFIG') continue;
    const path = name.slice(ENV_PREFIX.length).split('__').map((seg) =>
      seg.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()));
    set(path, raw);
  }
  if (env.DATABASE_URL && !env.BUILDGATE_DATABASE__URL) set(['database', 'url'], env.DATABASE_URL);
  if (env.REDIS_URL && !env.BUILDGATE_REDIS__URL) set(['redis', 'url'], env.REDIS_URL);
  if (env.PORT && !env.BUILDGATE_SERVER__PORT) set(['server', 'port'], env.PORT);
  return out;
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = prev && v && typeof prev === 'object' && typeof v === 'object' && !Array.isArray(prev) && !Array.isArray(v)
      ? deepMerge(prev as Record<string, unknown>, v as Record<string, unknown>)
      : v;
  }
  return out;
}

/** Validates a raw config object; the error names every bad key with its path. */
export function parseConfig(raw: unknown): Config {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) {
    const lines = result.error.issues.map((i) => {
      const key = i.path.length ? i.path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[') : '(root)';
      const extra = i.code === 'unrecognized_keys' ? ` (${i.keys.join(', ')})` : '';
      return `  ${key}: ${i.message}${extra}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}

/**
 * Loads `buildgate.config.yaml` (or the file named by --config / BUILDGATE_CONFIG) when it
 * exists, applies environment overrides and explicit overrides, and validates.
 */
export function loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv; overrides?: ConfigInput } = {}): Config {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.BUILDGATE_CONFIG ?? (fs.existsSync('buildgate.config.yaml') ? 'buildgate.config.yaml' : undefined);
  let fromFile: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try { text = fs.readFileSync(file, 'utf8'); } catch (e) {
      throw new ConfigError(`Cannot read config file ${file}: ${(e as Error).message}`);
    }
    try { fromFile = (parseYaml(text) ?? {}) as Record<string, unknown>; } catch (e) {
      throw new ConfigError(`Config file ${file} is not valid YAML: ${(e as Error).message}`);
    }
    if (typeof fromFile !== 'object' || Array.isArray(fromFile)) throw new ConfigError(`Config file ${file} must hold a mapping`);
  }
  const merged = deepMerge(deepMerge(fromFile, envOverrides(env)), (opts.overrides ?? {}) as Record<string, unknown>);
  return parseConfig(merged);
}

/** For CLI commands: the config, or its error on stderr and exit code 2. */
export function loadConfigOrExit(file: string | undefined): Config {
  try {
    return loadConfig({ file });
  } catch (e) {
    if (e instanceof ConfigError) { console.error(e.message); process.exit(2); }
    throw e;
  }
}

export { z };
