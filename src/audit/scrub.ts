import { SECRET_HEADER } from '../providers/build-rules.js';
import { maskUrlsInText } from '../secrets/mask.js';

/** Argument names whose values are credentials wherever they appear. */
const SECRET_KEY = /passw|secret|token|cacrt|clientcert|clientkey|credential|authorization|api[-_]?key|private/i;
const MAX_STRING = 256;
/** Deeper values are replaced by a marker: no input type nests this deep, and recursion must stay bounded. */
const MAX_DEPTH = 20;

/**
 * Mutation arguments as the audit log stores them: credentials replaced by "***" (secret
 * fields, secret or credential-named headers and variables, Zadig credential parameters)
 * and long strings (scripts, Dockerfiles) shortened, so the log answers "what was asked"
 * without becoming a second copy of the secrets.
 */
export function scrubArgs(value: unknown, key = '', depth = 0): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (typeof value === 'string') {
    if (SECRET_KEY.test(key) && value !== '') return '***';
    const masked = maskUrlsInText(value); // URLs anywhere: step URLs, callbackUrl, scripts calling curl
    return masked.length > MAX_STRING ? `${masked.slice(0, 64)}… (${masked.length} characters)` : masked;
  }
  if (typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return `… (nested deeper than ${MAX_DEPTH})`;
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => scrubArgs(v, key, depth + 1));
  const o = value as Record<string, unknown>;
  // {name, value, secret} headers, {key, value} env/variables, Zadig {key, defaultValue, isCredential}.
  const label = typeof o.name === 'string' ? o.name : typeof o.key === 'string' ? o.key : '';
  // USER_TASK env values are secrets unless marked `secret: false`.
  const credentialPair = o.secret === true || o.isCredential === true || (label !== '' && SECRET_HEADER.test(label)) || (key === 'envs' && o.secret !== false);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    out[k] = credentialPair && (k === 'value' || k === 'defaultValue') && v != null && v !== '' ? '***' : scrubArgs(v, k, depth + 1);
  }
  return out;
}
