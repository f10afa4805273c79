import fs from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { maskUrl } from '../secrets/mask.js';
import { configSchema, type Config, type ConfigInput } from './schema.js';

export type { Config, ConfigInput } from './schema.js';

/**
 * A start-up failure: one line for the operator saying what failed, why, and which config
 * key to look at. `exitCode` 2: the configuration or the command line is wrong; 1: the
 * environment is (port taken, database unreachable...).
 */
export class StartupError extends Error {
  constructor(message: string, readonly key?: string, readonly exitCode: 1 | 2 = 1, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}

export class ConfigError extends StartupError {
  constructor(message: string, key?: string) {
    super(message, key, 2);
    this.name = 'ConfigError';
  }
}

/** Runs one start-up step; any failure becomes a StartupError naming `key` (config errors pass through). */
export async function startupStep<T>(what: string, key: string | undefined, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof StartupError) throw e;
    const why = e instanceof Error ? e.message || e.name : String(e);
    throw new StartupError(`${what}: ${why.split('\n')[0]}${key ? ` (config key ${key})` : ''}`, key, 1, { cause: e });
  }
}

/** The database a URL names, for the operator: a relative SQLite path made absolute, a password masked. */
export function describeDatabase(url: string): string {
  if (url.startsWith('sqlite:') && url !== 'sqlite::memory:') return `sqlite:${path.resolve(url.slice('sqlite:'.length))}`;
  return maskUrl(url);
}

/** Bound to loopback: only local processes can connect. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

const ENV_PREFIX = 'BUILDGATE_';
/** Top-level config sections: `BUILDGATE_<SECTION>` and `BUILDGATE_<SECTION>__<KEY>` map to them. */
const SECTIONS = new Set(Object.keys(configSchema.shape));
/** Short names platforms set (Heroku, Render, docker-compose habits). */
const SHORT_NAMES: Record<string, string[]> = { PORT: ['server', 'port'], DATABASE_URL: ['database', 'url'], REDIS_URL: ['redis', 'url'] };

export interface EnvConfig {
  /** The overrides, nested like the config. */
  values: Record<string, unknown>;
  /** Which variable set which config path ("server.port" → "BUILDGATE_SERVER__PORT"). */
  sources: Map<string, string>;
  /** BUILDGATE_* names that are not config (e.g. BUILDGATE_TEST_PG_URL): ignored, worth one warning. */
  ignored: string[];
}

const camel = (seg: string) => seg.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/**
 * Environment overrides: `BUILDGATE_SERVER__PORT=5000` sets `server.port` (double
 * underscore separates levels, single underscores become camelCase). JSON values are
 * parsed (`BUILDGATE_PROVIDERS='[...]'`). Only names whose first level is a config section
 * are config; other BUILDGATE_* names belong to something else (tests, scripts) and are
 * reported in `ignored`. PORT, DATABASE_URL and REDIS_URL are accepted too.
 */
export function readEnv(env: NodeJS.ProcessEnv): EnvConfig {
  const values: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  const ignored: string[] = [];
  const set = (name: string, path: string[], raw: string) => {
    let value: unknown = raw;
    if (/^[[{]/.test(raw.trim())) {
      try { value = JSON.parse(raw); } catch { /* keep the string; validation names the key */ }
    }
    let node = values;
    for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
    node[path[path.length - 1]!] = value;
    sources.set(path.join('.'), name);
  };
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined || !name.startsWith(ENV_PREFIX) || name === 'BUILDGATE_CONFIG') continue;
    const path = name.slice(ENV_PREFIX.length).split('__').map(camel);
    if (SECTIONS.has(path[0]!)) set(name, path, raw);
    else ignored.push(name);
  }
  for (const [name, path] of Object.entries(SHORT_NAMES)) {
    const raw = env[name];
    if (raw && !sources.has(path.join('.'))) set(name, path, raw);
  }
  return { values, sources, ignored: ignored.sort() };
}

/** The overrides the environment makes (see readEnv). */
export function envOverrides(env: NodeJS.ProcessEnv): Record<string, unknown> {
  return readEnv(env).values;
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

/** Where a config value came from, for error messages: the variable, the file, or the command line. */
export interface ConfigSources {
  file?: string;
  fileValues?: Record<string, unknown>;
  env?: Map<string, string>;
  /** Config paths set by command-line options ("server.port" → "--port"). */
  options?: Map<string, string>;
}

const has = (obj: unknown, path: (string | number)[]): boolean => {
  let node = obj;
  for (const p of path) {
    if (!node || typeof node !== 'object' || !(p in node)) return false;
    node = (node as Record<string | number, unknown>)[p];
  }
  return true;
};

/** "from BUILDGATE_SERVER__PORT" / "in file c.yaml" / "from --port" for the value at `path`, or ''. */
function sourceOf(path: (string | number)[], sources: ConfigSources): string {
  for (let n = path.length; n > 0; n--) {
    const key = path.slice(0, n).join('.');
    const option = sources.options?.get(key);
    if (option) return ` (from ${option})`;
    const variable = sources.env?.get(key);
    if (variable) return ` (from ${variable})`;
  }
  return sources.file && has(sources.fileValues, path) ? ` (in ${sources.file})` : '';
}

const keyName = (path: PropertyKey[]) =>
  path.length ? path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[') : '(root)';

/**
 * Validates a raw config object; the error names every bad key with its path and where the
 * value came from. `demo.seed` unset means: seed only the embedded default (no config file,
 * SQLite, bound to loopback), never a store configured for production.
 */
export function parseConfig(raw: unknown, sources: ConfigSources = {}): Config {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) {
    const problems = result.error.issues.flatMap((i) => {
      const path = i.path as (string | number)[];
      if (i.code === 'unrecognized_keys') return i.keys.map((k) => `${keyName([...path, k])}: unrecognized key${sourceOf([...path, k], sources)}`);
      return [`${keyName(path)}: ${i.message}${sourceOf(path, sources)}`];
    });
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`, keyName(result.error.issues[0]!.path));
  }
  const config = result.data;
  const embedded = !sources.file && config.database.url.startsWith('sqlite:') && isLoopbackHost(config.server.host);
  const seed = config.demo.seed ?? embedded;
  const allow = config.engine.allowPrivateHosts;
  // The demo's HTTP step calls this gateway's /healthz; the SSRF guard must let it.
  const self = seed && isLoopbackHost(config.server.host) ? config.server.host.replace(/^\[(.*)\]$/, '$1') : null;
  const allowPrivateHosts = self && !allow.includes(self) ? [...allow, self] : allow;
  return { ...config, demo: { ...config.demo, seed }, engine: { ...config.engine, allowPrivateHosts } };
}

/**
 * Loads `buildgate.config.yaml` (or the file named by --config / BUILDGATE_CONFIG) when it
 * exists, applies environment overrides and explicit overrides (command-line options), and
 * validates. BUILDGATE_* variables that are not config are named in one warning.
 */
export function loadConfig(opts: {
  file?: string; env?: NodeJS.ProcessEnv; overrides?: ConfigInput;
  /** Config path → the option that set it, for messages. */
  overrideSources?: Map<string, string>;
  warn?: (message: string) => void;
} = {}): Config {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.BUILDGATE_CONFIG ?? (fs.existsSync('buildgate.config.yaml') ? 'buildgate.config.yaml' : undefined);
  let fromFile: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try { text = fs.readFileSync(file, 'utf8'); } catch (e) {
      throw new ConfigError(`cannot read config file ${file}: ${(e as Error).message}`);
    }
    try { fromFile = (parseYaml(text) ?? {}) as Record<string, unknown>; } catch (e) {
      throw new ConfigError(`config file ${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
    }
    if (typeof fromFile !== 'object' || Array.isArray(fromFile)) throw new ConfigError(`config file ${file} must hold a mapping`);
  }
  const fromEnv = readEnv(env);
  if (fromEnv.ignored.length) {
    (opts.warn ?? ((m) => console.error(m)))(`buildgate: ignoring ${fromEnv.ignored.join(', ')}: not configuration ` +
      `(config variables are BUILDGATE_<SECTION>__<KEY> with a section of ${[...SECTIONS].join(', ')})`);
  }
  const merged = deepMerge(deepMerge(fromFile, fromEnv.values), (opts.overrides ?? {}) as Record<string, unknown>);
  return parseConfig(merged, { file, fileValues: fromFile, env: fromEnv.sources, options: opts.overrideSources });
}

/** For CLI commands: the config, or its error on stderr and exit code 2. */
export function loadConfigOrExit(file: string | undefined): Config {
  try {
    return loadConfig({ file });
  } catch (e) {
    if (e instanceof ConfigError) { console.error(`buildgate: ${e.message}`); process.exit(2); }
    throw e;
  }
}

export { z };
