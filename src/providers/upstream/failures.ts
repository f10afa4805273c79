import type { IncomingHttpHeaders } from 'node:http';
import { ErrorCode, UpstreamError } from '../../errors.js';
import { scrub, scrubText } from './secrets.js';

/** Failures that mean "the upstream is not answering": only these count against the circuit breaker. */
export function isAvailabilityFailure(err: unknown): boolean {
  if (!(err instanceof UpstreamError)) return true;
  return err.code === ErrorCode.UPSTREAM_UNAVAILABLE || err.code === ErrorCode.UPSTREAM_TIMEOUT;
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** A short human message out of common error body shapes, when the adapter gave no better one. */
function defaultDescribe(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim().slice(0, 200) || undefined;
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  for (const k of ['error_message', 'message', 'error_msg', 'errorMessage', 'detail', 'error_description', 'error']) {
    if (typeof b[k] === 'string' && b[k]) return (b[k] as string).slice(0, 200);
  }
  return undefined;
}

export interface ResponseFailure {
  providerId: string;
  what: string;
  method?: string;
  status: number;
  headers: IncomingHttpHeaders;
  raw: string;
  secrets: readonly string[];
  describeError?: (status: number, body: unknown) => string | undefined;
  /** The upstream's own code for this answer when its status alone misleads (e.g. Zadig's 500 for "no such task"). */
  classifyError?: (status: number, body: unknown, method: string) => ErrorCode | undefined;
}

/** An HTTP answer with a failing status, as an UpstreamError with the right code. */
export function failureFromResponse(f: ResponseFailure): UpstreamError {
  let body: unknown = f.raw.length > 4000 ? `${f.raw.slice(0, 4000)}…` : f.raw;
  try {
    body = JSON.parse(f.raw);
  } catch {
    /* not JSON: keep the text */
  }
  const clean = scrub(body, f.secrets);
  let described: string | undefined;
  try {
    described = f.describeError?.(f.status, clean) ?? defaultDescribe(clean);
  } catch {
    described = defaultDescribe(clean);
  }
  const detail = described ? `: ${scrubText(described, f.secrets)}` : '';
  const retryAfterSec = parseRetryAfter(f.headers['retry-after']);
  const extra = { status: f.status, upstream: clean === '' ? null : clean };
  const msg = (what: string) => `${f.what} ${what} (HTTP ${f.status})${detail}`;
  let own: ErrorCode | undefined;
  try {
    own = f.classifyError?.(f.status, clean, f.method ?? 'GET');
  } catch {
    own = undefined;
  }
  const code = own ??
    (f.status === 401 || f.status === 403 ? ErrorCode.UPSTREAM_AUTH
    : f.status === 404 ? ErrorCode.UPSTREAM_NOT_FOUND
    : f.status === 429 ? ErrorCode.UPSTREAM_RATE_LIMITED
    : f.status === 408 ? ErrorCode.UPSTREAM_TIMEOUT
    : f.status >= 500 ? ErrorCode.UPSTREAM_UNAVAILABLE
    : f.status >= 400 ? ErrorCode.UPSTREAM_REJECTED
    : ErrorCode.UPSTREAM_BAD_RESPONSE);
  const words: Record<string, string> = {
    [ErrorCode.UPSTREAM_AUTH]: 'was refused: credentials rejected',
    [ErrorCode.UPSTREAM_NOT_FOUND]: 'found nothing',
    [ErrorCode.UPSTREAM_RATE_LIMITED]: `was rate limited${retryAfterSec !== undefined ? `; retry after ${retryAfterSec}s` : ''}`,
    [ErrorCode.UPSTREAM_TIMEOUT]: 'timed out upstream',
    [ErrorCode.UPSTREAM_UNAVAILABLE]: 'failed: upstream unavailable',
    [ErrorCode.UPSTREAM_REJECTED]: 'was rejected',
    [ErrorCode.UPSTREAM_BAD_RESPONSE]: 'gave an unexpected status',
  };
  return new UpstreamError(code, f.providerId, msg(words[code] ?? 'failed'), retryAfterSec !== undefined ? { ...extra, retryAfterSec } : extra);
}

const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ERR_STREAM_PREMATURE_CLOSE: 'connection closed early',
};

/** A request that got no HTTP answer (refused, reset, timed out...). */
export function failureFromNetwork(providerId: string, what: string, err: unknown, secrets: readonly string[]): UpstreamError {
  const e = err as { code?: string; name?: string; message?: string };
  if (e?.name === 'TimeoutError' || e?.code === 'ETIMEDOUT') {
    return new UpstreamError(ErrorCode.UPSTREAM_TIMEOUT, providerId, `${what} timed out`);
  }
  const code = e?.code ?? 'ERROR';
  const words = NETWORK_WORDS[code] ?? scrubText(String(e?.message ?? 'network error').slice(0, 120), secrets);
  return new UpstreamError(ErrorCode.UPSTREAM_UNAVAILABLE, providerId, `${what} failed: ${words} (${code})`);
}

/** A 404 from the upstream means "no such object": the Provider contract answers null. */
export async function nullIfNotFound<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof UpstreamError && err.code === ErrorCode.UPSTREAM_NOT_FOUND) return null;
    throw err;
  }
}
