import http from 'node:http';
import https from 'node:https';
import got, { type Method } from 'got';
import CircuitBreaker from 'opossum';
import type Keyv from 'keyv';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { readsFresh } from '../../cache/index.js';
import { ErrorCode, UpstreamError } from '../../errors.js';
import type { Instruments } from '../../metrics/instruments.js';
import { assertAllowedHost, guardedLookup } from '../../net/guard.js';
import { urlSecretForms } from '../../secrets/mask.js';
import type { ProviderDeps, ProviderInstanceConfig } from '../factory.js';
import type { ProviderHealthData } from '../types.js';
import { scrub, scrubText, secretValues } from './secrets.js';
import { parseShape } from './shape.js';
import { failureFromResponse, failureFromNetwork, isAvailabilityFailure } from './failures.js';
import { RouteNames } from './routes.js';
import { failed, injectTraceContext, SpanKind, traced } from '../../tracing/index.js';

export interface BreakerOptions {
  /** Calls needed in the rolling window before the circuit may open. Default 5. */
  volumeThreshold?: number;
  /** Failure percentage (availability failures only) that opens the circuit. Default 50. */
  errorThresholdPercentage?: number;
  /**
   * Reads in a row that ran to their deadline unanswered after which the circuit opens,
   * whatever the window holds: each costs a query the whole deadline, so a hung upstream
   * should not need volumeThreshold of them. Default 3.
   */
  openAfterHangs?: number;
  /** How long the circuit stays open before one trial call (half-open). Default 30 000 ms. */
  resetTimeoutMs?: number;
  /**
   * Rolling statistics window. Default: long enough to hold `volumeThreshold` calls that
   * each ran to the read deadline (at least 10 000 ms), so a persistent hang opens the circuit.
   */
  rollingWindowMs?: number;
}

/** Default read deadline (all attempts of one GET together). */
export const DEFAULT_DEADLINE_MS = 5000;

export interface UpstreamClientOptions {
  providerId: string;
  baseUrl: string;
  /** Auth headers etc; their values are treated as secrets. */
  headers?: Record<string, string>;
  /** Extra values to scrub from errors/logs. */
  secrets?: string[];
  timeoutMs: number;
  /**
   * Longest a read (GET, HEAD) may take, retries and their backoff included: past it the
   * caller gets UPSTREAM_TIMEOUT and the in-flight attempt is abandoned. Each attempt gets
   * min(timeoutMs, time left). Downloads (responseType 'buffer') use timeoutMs instead.
   * Default DEFAULT_DEADLINE_MS.
   */
  deadlineMs?: number;
  /** Retries for idempotent methods (GET/PUT/DELETE/HEAD); POST is never retried. */
  retries: number;
  /** GET cache TTL; 0 disables the cache. */
  cacheTtlMs: number;
  cache: Keyv;
  logger: Logger;
  /** Map an upstream error body to a short message (e.g. Quay error_message, CodeArts error_msg). */
  describeError?: (status: number, body: unknown) => string | undefined;
  /**
   * The upstream's own way of saying "no such object" (or another code) when its HTTP
   * status says something else, from status and the body's code fields. Undefined: by status.
   */
  classifyError?: (status: number, body: unknown, method: string) => ErrorCode | undefined;
  breaker?: BreakerOptions;
  /** First retry delay; doubles each retry (±20% jitter). Default 200 ms. */
  backoffMs?: number;
  /** A Retry-After longer than this is not waited for: the caller gets UPSTREAM_RATE_LIMITED. Default 5 000 ms. */
  maxRetryAfterMs?: number;
  /**
   * URLs outside the upstream's own origin (e.g. Quay's `logs_url`) come from the upstream's
   * answers, not from the operator: they are refused when they resolve to private, loopback
   * or link-local addresses unless allowed here (SSRF guard), and their redirects are not followed.
   */
  allowPrivateHosts?: readonly string[];
  /**
   * The route templates this upstream is called on (`/v1/build/:buildSeq`): metrics and spans
   * name a request by its template, never by its raw URL. Unlisted paths are "other".
   */
  routes?: readonly string[];
  /** Where upstream requests and cache lookups are counted (absent: not counted). */
  instruments?: Instruments;
}

export type Query = Record<string, string | number | boolean | undefined | null>;
export type ResponseType = 'json' | 'text' | 'buffer';

export interface RequestOptions {
  searchParams?: Query;
  /** Default 'json'. 'buffer' answers are never cached. */
  responseType?: ResponseType;
  /** GET only: set false to bypass the cache for this call. */
  cache?: boolean;
  json?: unknown;
  /** Checked on every answer (cached or not); a mismatch is UPSTREAM_BAD_RESPONSE naming the field. */
  schema?: z.ZodType;
  headers?: Record<string, string>;
}
export type GetOptions = Omit<RequestOptions, 'json'>;
export type WriteOptions = Omit<RequestOptions, 'cache'>;

const IDEMPOTENT = new Set<Method>(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
const MAX_KNOWN_KEYS = 5000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * One HTTP client per provider instance: keep-alive sockets, per-request timeout, retries
 * with backoff for idempotent calls, a GET cache in keyv, a circuit breaker, and one error
 * type (UpstreamError) with secrets scrubbed. Adapters only build paths and map shapes.
 */
export class UpstreamClient {
  readonly providerId: string;
  readonly baseUrl: string;
  /** Upstream HTTP calls actually made (attempts, including retries). */
  readonly stats = { calls: 0 };
  private readonly origin: string;
  private readonly routes: RouteNames;
  private readonly secrets: string[];
  private readonly log: Logger;
  private readonly breaker: CircuitBreaker<[() => Promise<unknown>], unknown>;
  private readonly agents = {
    http: new http.Agent({ keepAlive: true, maxSockets: 32 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 32 }),
  };
  /** Keys this client wrote, so invalidate() can find them (keyv has no prefix delete). */
  private readonly knownKeys = new Set<string>();
  /** Same-key GETs in flight share one upstream call. */
  private readonly inFlight = new Map<string, Promise<unknown>>();
  /** Bumped by invalidate(): a GET that started before it must not refill the cache with stale data. */
  private generation = 0;
  private lastSuccessAt: Date | null = null;
  private lastErrorAt: Date | null = null;
  private lastError: string | null = null;
  /** Reads in a row that hit the deadline unanswered (see BreakerOptions.openAfterHangs). */
  private hangs = 0;

  get deadlineMs(): number {
    return this.opts.deadlineMs ?? DEFAULT_DEADLINE_MS;
  }

  constructor(private readonly opts: UpstreamClientOptions) {
    this.providerId = opts.providerId;
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.origin = new URL(this.baseUrl).origin;
    this.routes = new RouteNames(opts.routes ?? [], new URL(this.baseUrl).pathname.replace(/\/+$/, ''));
    // A password or token in baseUrl (and the Basic header made of its user:password) is as secret as the auth headers.
    this.secrets = secretValues(opts.headers, [...(opts.secrets ?? []), ...urlSecretForms(opts.baseUrl)]);
    this.log = opts.logger.child({ providerId: opts.providerId });
    const b = opts.breaker ?? {};
    const volumeThreshold = b.volumeThreshold ?? 5;
    this.breaker = new CircuitBreaker((attempt: () => Promise<unknown>) => attempt(), {
      timeout: false, // got enforces the per-request timeout
      volumeThreshold,
      errorThresholdPercentage: b.errorThresholdPercentage ?? 50,
      resetTimeout: b.resetTimeoutMs ?? 30_000,
      rollingCountTimeout: b.rollingWindowMs ?? Math.max(10_000, this.deadlineMs * (volumeThreshold + 1)),
      // Only "the upstream is not answering" counts: a 404 or a 400 is the upstream working.
      errorFilter: (err: unknown) => !isAvailabilityFailure(err),
    });
    this.breaker.on('open', () => this.log.warn('circuit opened'));
    this.breaker.on('close', () => this.log.info('circuit closed'));
  }

  // With a `schema`, the answer's type is the schema's output; without one, the caller names it.
  get<S extends z.ZodType>(path: string, opts: GetOptions & { schema: S }): Promise<z.output<S>>;
  get<T>(path: string, opts?: GetOptions): Promise<T>;
  get(path: string, opts: GetOptions = {}): Promise<unknown> {
    return this.request('GET', path, opts);
  }
  post<S extends z.ZodType>(path: string, opts: WriteOptions & { schema: S }): Promise<z.output<S>>;
  post<T>(path: string, opts?: WriteOptions): Promise<T>;
  post(path: string, opts: WriteOptions = {}): Promise<unknown> {
    return this.request('POST', path, opts);
  }
  put<S extends z.ZodType>(path: string, opts: WriteOptions & { schema: S }): Promise<z.output<S>>;
  put<T>(path: string, opts?: WriteOptions): Promise<T>;
  put(path: string, opts: WriteOptions = {}): Promise<unknown> {
    return this.request('PUT', path, opts);
  }
  delete<S extends z.ZodType>(path: string, opts: WriteOptions & { schema: S }): Promise<z.output<S>>;
  delete<T>(path: string, opts?: WriteOptions): Promise<T>;
  delete(path: string, opts: WriteOptions = {}): Promise<unknown> {
    return this.request('DELETE', path, opts);
  }

  /** Check a value against a schema; a mismatch is UPSTREAM_BAD_RESPONSE naming the field. */
  parse<S extends z.ZodType>(schema: S, data: unknown, what: string): z.output<S> {
    return parseShape(this.providerId, schema, data, what);
  }

  /** Drop cached GETs whose path starts with `pathPrefix` (call after our own mutations). */
  async invalidate(pathPrefix: string): Promise<void> {
    this.generation++;
    const prefix = this.cacheKey(this.url(pathPrefix).toString());
    const doomed = [...this.knownKeys].filter((k) => k.startsWith(prefix));
    for (const k of doomed) this.knownKeys.delete(k);
    await Promise.all(doomed.map((k) => this.opts.cache.delete(k).catch(() => false)));
  }

  health(): ProviderHealthData {
    const circuitState = this.breaker.opened ? 'OPEN' : this.breaker.halfOpen ? 'HALF_OPEN' : 'CLOSED';
    let status: ProviderHealthData['status'] = 'UNKNOWN';
    if (circuitState === 'OPEN') status = 'DOWN';
    else if (this.lastErrorAt && (!this.lastSuccessAt || this.lastErrorAt >= this.lastSuccessAt)) status = 'DOWN';
    else if (this.lastSuccessAt) status = 'UP';
    return { status, lastSuccessAt: this.lastSuccessAt, lastErrorAt: this.lastErrorAt, lastError: this.lastError, circuitState };
  }

  async close(): Promise<void> {
    this.breaker.shutdown();
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private headersOf(responseType: ResponseType, own: Record<string, string> | undefined, extra: Record<string, string> | undefined): Record<string, string> {
    const headers: Record<string, string> = { accept: responseType === 'json' ? 'application/json' : '*/*', ...own, ...extra };
    injectTraceContext(headers); // W3C traceparent: the upstream's own traces join ours
    return headers;
  }

  /** `path` is relative to baseUrl, or an absolute URL (e.g. a pre-signed log archive link). */
  url(path: string, searchParams?: Query): URL {
    const u = /^https?:\/\//i.test(path) ? new URL(path) : new URL(this.baseUrl + (path.startsWith('/') ? path : `/${path}`));
    for (const [k, v] of Object.entries(searchParams ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
      if (v !== undefined && v !== null) u.searchParams.set(k, String(v));
    }
    return u;
  }

  private cacheKey(url: string): string {
    return `bg:upstream:${this.providerId}:${url}`;
  }

  private async request<T>(method: Method, path: string, opts: RequestOptions): Promise<T> {
    const url = this.url(path, opts.searchParams);
    const responseType = opts.responseType ?? 'json';
    const what = `${method} ${scrubText(url.pathname, this.secrets)}`;
    const cacheable = method === 'GET' && this.opts.cacheTtlMs > 0 && opts.cache !== false && responseType !== 'buffer';
    const key = this.cacheKey(url.toString());
    const check = (body: unknown) => (opts.schema ? this.parse(opts.schema, body, what) : body) as T;

    // A fresh read (live pollers) skips the cached answer and refreshes it below.
    if (cacheable && !readsFresh()) {
      const hit = await this.opts.cache.get(key).catch((err: unknown) => {
        this.log.warn({ err: String(err) }, 'cache read failed; calling upstream');
        return undefined;
      });
      this.opts.instruments?.cacheLookup(this.providerId, hit !== undefined);
      if (hit !== undefined) return check(hit);
    }
    if (method === 'GET') {
      const shared = this.inFlight.get(key);
      if (shared) return check(await shared);
    }
    const generation = this.generation;
    const call = this.withRetries(method, url, what, responseType, opts);
    if (method === 'GET') this.inFlight.set(key, call);
    try {
      const body = await call;
      if (cacheable && generation === this.generation) await this.remember(key, body);
      return check(body);
    } finally {
      if (method === 'GET') this.inFlight.delete(key);
    }
  }

  private async remember(key: string, body: unknown): Promise<void> {
    try {
      await this.opts.cache.set(key, body, this.opts.cacheTtlMs);
      this.knownKeys.add(key);
      if (this.knownKeys.size > MAX_KNOWN_KEYS) this.knownKeys.delete(this.knownKeys.values().next().value!);
    } catch (err) {
      this.log.warn({ err: String(err) }, 'cache write failed');
    }
  }

  private async withRetries(method: Method, url: URL, what: string, responseType: ResponseType, opts: RequestOptions): Promise<unknown> {
    const attempts = IDEMPOTENT.has(method) ? Math.max(0, this.opts.retries) + 1 : 1;
    const backoff = this.opts.backoffMs ?? 200;
    const maxRetryAfterMs = this.opts.maxRetryAfterMs ?? 5000;
    // Reads answer a screen: they get one deadline for all attempts. Writes and downloads keep
    // the per-attempt timeout (a write must not be abandoned half-way for a screen's sake).
    const reads = (method === 'GET' || method === 'HEAD') && responseType !== 'buffer';
    const deadline = reads ? Date.now() + this.deadlineMs : Infinity;
    for (let attempt = 0; ; attempt++) {
      const timeoutMs = Math.max(1, Math.min(this.opts.timeoutMs, deadline - Date.now()));
      const cutByDeadline = timeoutMs < this.opts.timeoutMs;
      try {
        const body = await this.breaker.fire(() => this.once(method, url, what, responseType, opts, timeoutMs));
        this.lastSuccessAt = new Date();
        this.hangs = 0;
        return body;
      } catch (raw) {
        const circuitOpen = (raw as { code?: string } | null)?.code === 'EOPENBREAKER';
        let err = this.asUpstreamError(raw, what);
        // No answer at all (not an HTTP 408): a hang.
        const hung = err.code === ErrorCode.UPSTREAM_TIMEOUT && err.extensions.status === undefined;
        if (hung && cutByDeadline) {
          err = new UpstreamError(ErrorCode.UPSTREAM_TIMEOUT, this.providerId, `${what} gave no answer within the ${this.deadlineMs} ms deadline`);
        }
        if (hung) {
          if (++this.hangs >= (this.opts.breaker?.openAfterHangs ?? 3) && !this.breaker.opened) {
            this.log.warn({ hangs: this.hangs }, 'upstream hangs: opening the circuit');
            this.breaker.open();
          }
        } else if (!circuitOpen) {
          this.hangs = 0; // it answered, even if with an error
        }
        if (err.code !== ErrorCode.UPSTREAM_NOT_FOUND && err.code !== ErrorCode.UPSTREAM_REJECTED) {
          this.lastErrorAt = new Date();
          this.lastError = err.message;
        } else {
          this.lastSuccessAt = new Date(); // the upstream answered sensibly
        }
        const retryAfterSec = err.extensions.retryAfterSec as number | undefined;
        const retryable =
          !circuitOpen &&
          (err.code === ErrorCode.UPSTREAM_UNAVAILABLE || err.code === ErrorCode.UPSTREAM_TIMEOUT || err.code === ErrorCode.UPSTREAM_RATE_LIMITED);
        if (attempt + 1 >= attempts || !retryable) throw err;
        let delay = Math.min(backoff * 2 ** attempt, 10_000) * (0.8 + Math.random() * 0.4);
        if (retryAfterSec !== undefined) {
          if (retryAfterSec * 1000 > maxRetryAfterMs) throw err;
          delay = retryAfterSec * 1000;
        }
        // A retry that could not start before the deadline would only add waiting.
        if (Date.now() + delay >= deadline) throw err;
        this.log.warn({ code: err.code, attempt: attempt + 1, delayMs: Math.round(delay), what }, 'upstream call failed; retrying');
        await sleep(delay);
      }
    }
  }

  private asUpstreamError(raw: unknown, what: string): UpstreamError {
    if (raw instanceof UpstreamError) return raw;
    const code = (raw as { code?: string } | null)?.code;
    if (code === 'EOPENBREAKER') {
      return new UpstreamError(ErrorCode.UPSTREAM_UNAVAILABLE, this.providerId, `${what}: circuit open after repeated failures; not calling upstream`);
    }
    if (code === 'ESHUTDOWN') {
      return new UpstreamError(ErrorCode.UPSTREAM_UNAVAILABLE, this.providerId, `${what}: provider client is closed`);
    }
    return failureFromNetwork(this.providerId, what, raw, this.secrets);
  }

  /** One HTTP attempt, counted and (when tracing) spanned by its route template. Throws UpstreamError for every failure. */
  private once(method: Method, url: URL, what: string, responseType: ResponseType, opts: RequestOptions, timeoutMs: number): Promise<unknown> {
    const endpoint = this.routes.of(url, this.origin);
    const started = process.hrtime.bigint();
    let status = 'none';
    const count = () => this.opts.instruments?.upstreamRequest(this.providerId, method, endpoint, status, Number(process.hrtime.bigint() - started) / 1e9);
    return traced(`${method} ${endpoint}`, () => ({ 'http.request.method': method, 'http.route': endpoint, 'server.address': url.hostname, 'buildgate.provider': this.providerId }), async (span) => {
      try {
        const body = await this.attempt(method, url, what, responseType, opts, timeoutMs, (s) => { status = String(s); });
        span?.setAttribute('http.response.status_code', Number(status));
        return body;
      } catch (e) {
        // No HTTP answer: the status label is the failure's code (bounded: ErrorCode values).
        if (status === 'none' && e instanceof UpstreamError) status = e.code;
        if (/^\d+$/.test(status)) span?.setAttribute('http.response.status_code', Number(status));
        failed(span, e);
        throw e;
      } finally {
        count();
      }
    }, SpanKind.CLIENT);
  }

  private async attempt(method: Method, url: URL, what: string, responseType: ResponseType, opts: RequestOptions, timeoutMs: number, answered: (status: number) => void): Promise<unknown> {
    this.stats.calls++;
    const started = Date.now();
    // Our auth headers go only to our own upstream, never to a foreign (e.g. pre-signed) URL.
    const foreign = url.origin !== this.origin;
    const own = foreign ? {} : this.opts.headers;
    const allow = this.opts.allowPrivateHosts ?? [];
    let res;
    try {
      if (foreign) {
        await assertAllowedHost(url.hostname, allow).catch((e: Error) => {
          throw new UpstreamError(ErrorCode.UPSTREAM_REJECTED, this.providerId, `${what}: refused to fetch ${url.origin} (${e.message})`);
        });
      }
      res = await got(url, {
        ...(foreign ? { dnsLookup: guardedLookup(allow) as never, followRedirect: false } : {}),
        method,
        headers: this.headersOf(responseType, own, opts.headers),
        json: opts.json,
        responseType: 'buffer',
        throwHttpErrors: false,
        retry: { limit: 0 },
        timeout: { request: timeoutMs },
        agent: this.agents,
      });
    } catch (err) {
      if (err instanceof UpstreamError) throw err;
      this.log.warn({ what, ms: Date.now() - started, code: (err as { code?: string }).code }, 'upstream request failed');
      throw failureFromNetwork(this.providerId, what, err, this.secrets);
    }
    answered(res.statusCode);
    this.log.debug({ what, status: res.statusCode, ms: Date.now() - started }, 'upstream call');
    const body = res.body;
    if (res.statusCode >= 400 || res.statusCode < 200) {
      throw failureFromResponse({
        providerId: this.providerId, what, method, status: res.statusCode, headers: res.headers,
        raw: body.toString('utf8'), secrets: this.secrets, describeError: this.opts.describeError, classifyError: this.opts.classifyError,
      });
    }
    if (responseType === 'buffer') return body;
    const text = body.toString('utf8');
    if (responseType === 'text') return text;
    if (text.trim() === '') return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw new UpstreamError(ErrorCode.UPSTREAM_BAD_RESPONSE, this.providerId, `${what} returned malformed JSON (HTTP ${res.statusCode})`, {
        status: res.statusCode,
        upstream: scrub(text.slice(0, 200), this.secrets),
      });
    }
  }
}

/** The client of one configured provider instance: its URL, timeouts, retries, cache and SSRF allow-list. */
export function clientForInstance(
  instance: ProviderInstanceConfig,
  deps: ProviderDeps,
  extra: Pick<UpstreamClientOptions, 'headers' | 'secrets' | 'describeError' | 'classifyError' | 'routes'>,
): UpstreamClient {
  return new UpstreamClient({
    providerId: instance.id, baseUrl: instance.baseUrl, timeoutMs: instance.timeoutMs, deadlineMs: instance.deadlineMs, retries: instance.retries,
    cacheTtlMs: instance.cacheTtlMs, breaker: instance.breaker, cache: deps.cache, logger: deps.logger, allowPrivateHosts: deps.allowPrivateHosts,
    instruments: deps.instruments, ...extra,
  });
}
