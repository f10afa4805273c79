import got, { RequestError } from 'got';
import type { Logger } from 'pino';
import { badInput } from '../errors.js';
import type { RunData } from '../model.js';
import { assertAllowedHost, guardedLookup, HostNotAllowedError } from '../net/guard.js';
import { maskUrlsInText } from '../secrets/mask.js';

/** The body POSTed to a run's callback URL when it ends (Cocktail-style field names). */
export function runSummary(run: RunData, buildName: string | null) {
  return {
    buildRunSeq: Number(run.key), buildSeq: Number(run.buildKey), buildName, buildNo: run.buildNo, runType: run.runType,
    runState: run.state, runDesc: run.description, tagName: run.tagName, imageUrl: run.imageUrl ?? null,
    imageDigest: run.imageDigest ?? null, imageSize: run.imageSize ?? null, sourceRevision: run.sourceRevision ?? null,
    errorMessage: run.errorMessage ?? null, beginTime: run.beginTime?.toISOString() ?? null, endTime: run.endTime?.toISOString() ?? null,
    runTimeBySec: run.beginTime && run.endTime ? Math.round((run.endTime.getTime() - run.beginTime.getTime()) / 1000) : null,
  };
}

/** `engine.callback`: how hard a run's callback is tried. */
export interface CallbackSettings {
  /** Most POSTs per callback, the first included. */
  attempts: number;
  /** Wait before the second attempt; each further wait doubles, up to maxDelayMs. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** Longest one POST may take. */
  timeoutMs: number;
}

/**
 * `callbackStatus` as stored, one of:
 * `PENDING: attempt 1 of 10` (the first attempt is under way),
 * `PENDING: attempt 2 of 10 failed (HTTP 503); next attempt at <ISO time>`,
 * `DELIVERED 200 after 3 attempt(s)`, `FAILED after 10 attempt(s): <why>`.
 * A run whose status still starts with PENDING when the gateway starts gets its callback
 * resumed (see CallbackDelivery.resumable).
 */
export const PENDING_PREFIX = 'PENDING';

type Attempt = { ok: true; status: number } | { ok: false; retry: boolean; why: string };

/** Statuses worth another try: the receiver is busy or broken for now. */
const RETRY_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

/**
 * One POST. Only a 2xx is delivery: a redirect is not followed (it could point inward) and
 * does not count; 408/429/5xx and network errors are worth retrying, other answers and a
 * host the SSRF guard refuses are final.
 */
async function postOnce(url: string, body: unknown, allowPrivateHosts: readonly string[], timeoutMs: number, signal: AbortSignal): Promise<Attempt> {
  try {
    // An IP literal never reaches dnsLookup: check it (and any name) before connecting.
    await assertAllowedHost(new URL(url).hostname, allowPrivateHosts);
    const res = await got.post(url, {
      json: body,
      timeout: { request: timeoutMs },
      dnsLookup: guardedLookup(allowPrivateHosts) as never,
      followRedirect: false,
      throwHttpErrors: false,
      retry: { limit: 0 },
      signal,
    });
    const status = res.statusCode;
    if (status >= 200 && status < 300) return { ok: true, status };
    if (status >= 300 && status < 400) return { ok: false, retry: false, why: `HTTP ${status} (redirects are not followed)` };
    return { ok: false, retry: RETRY_STATUS.has(status), why: `HTTP ${status}` };
  } catch (e) {
    const cause = e instanceof RequestError && e.cause instanceof Error ? e.cause : (e as Error);
    if (cause instanceof HostNotAllowedError) return { ok: false, retry: false, why: cause.message };
    // got's messages may quote the URL, whose token the run's callbackStatus must not show.
    return { ok: false, retry: true, why: (e as { code?: string }).code ?? maskUrlsInText(cause.message) };
  }
}

/** Wait before attempt `n + 1` (n ≥ 1): initialDelayMs · 2^(n−1), at most maxDelayMs. */
export function backoff(settings: CallbackSettings, n: number): number {
  return Math.min(settings.initialDelayMs * 2 ** (n - 1), settings.maxDelayMs);
}

/**
 * Delivers run callbacks in the background: a run ends at once, its callback is tried
 * `attempts` times with exponential backoff (minutes in all by default), and every attempt
 * is recorded through `record` so that `callbackStatus` shows where it stands. POSTs are
 * retried on purpose: receivers must treat the callback as at-least-once.
 *
 * `stop()` (shutdown) lets attempts under way finish for a short grace, then cancels the
 * waits: those callbacks stay PENDING in the store and are resumed, from a fresh series of
 * attempts, by the next start of a gateway that runs builds itself (`resume`).
 */
export class CallbackDelivery {
  private readonly waits = new Map<NodeJS.Timeout, () => void>();
  private readonly running = new Map<number, Promise<void>>();
  private readonly controller = new AbortController();
  private stopped = false;

  constructor(
    private readonly settings: CallbackSettings,
    private readonly allowPrivateHosts: readonly string[],
    private readonly logger: Logger,
    private readonly record: (runRowId: number, status: string) => Promise<void>,
  ) {}

  /** Starts delivering; the promise settles when the callback is delivered, given up or stopped. */
  deliver(runRowId: number, url: string, body: unknown): Promise<void> {
    if (this.stopped) return Promise.resolve();
    // one delivery per run at a time: a resume at start must not double one just begun
    const current = this.running.get(runRowId);
    if (current) return current;
    const p = this.run(runRowId, url, body)
      .catch((e) => this.logger.error({ err: e, runRowId }, 'run callback failed unexpectedly'))
      .finally(() => this.running.delete(runRowId));
    this.running.set(runRowId, p);
    return p;
  }

  private async run(runRowId: number, url: string, body: unknown): Promise<void> {
    const { attempts } = this.settings;
    for (let n = 1; ; n++) {
      await this.record(runRowId, `${PENDING_PREFIX}: attempt ${n} of ${attempts}`);
      const r = await postOnce(url, body, this.allowPrivateHosts, this.settings.timeoutMs, this.controller.signal);
      if (this.stopped && !r.ok) return; // cut by shutdown: stays PENDING, resumed at the next start
      if (r.ok) {
        await this.record(runRowId, `DELIVERED ${r.status} after ${n} attempt(s)`);
        return;
      }
      if (!r.retry || n >= attempts) {
        this.logger.warn({ runRowId, why: r.why, attempts: n }, 'run callback failed');
        await this.record(runRowId, `FAILED after ${n} attempt(s): ${r.why}`.slice(0, 500));
        return;
      }
      const delay = backoff(this.settings, n);
      await this.record(runRowId, `${PENDING_PREFIX}: attempt ${n} of ${attempts} failed (${r.why}); next attempt at ${new Date(Date.now() + delay).toISOString()}`.slice(0, 500));
      if (!(await this.wait(delay))) return;
    }
  }

  /** Resolves true after `ms`, false at once when stopped meanwhile. */
  private wait(ms: number): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.waits.delete(timer); resolve(true); }, ms);
      this.waits.set(timer, () => { clearTimeout(timer); resolve(false); });
    });
  }

  /** Number of callbacks under way or waiting for their next attempt. */
  get pending(): number {
    return this.running.size;
  }

  /**
   * Stops for shutdown: no new deliveries, no further waits; attempts under way get up to
   * `graceMs` to finish (a run ended by the shutdown itself still gets its first POST), then
   * are aborted. Never takes longer than about `graceMs`.
   */
  async stop(graceMs = 2000): Promise<void> {
    this.stopped = true;
    for (const cancel of this.waits.values()) cancel();
    this.waits.clear();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.running.values()]),
      new Promise((r) => { timer = setTimeout(r, graceMs); }),
    ]);
    clearTimeout(timer);
    this.controller.abort();
    await Promise.allSettled([...this.running.values()]);
  }
}

/**
 * `runBuild(callbackUrl)` is refused at once (BAD_USER_INPUT, no run created) when the SSRF
 * guard would refuse the URL's host now. A name that does not resolve here is let through:
 * it is checked again when the run ends.
 */
export async function assertCallbackAllowed(url: string, allowPrivateHosts: readonly string[]): Promise<void> {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    throw badInput('callbackUrl must be an http(s) URL', 'callbackUrl');
  }
  try {
    await assertAllowedHost(host, allowPrivateHosts);
  } catch (e) {
    if (e instanceof HostNotAllowedError) throw badInput(`callbackUrl: ${e.message}`, 'callbackUrl');
  }
}
