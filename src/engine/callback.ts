import got from 'got';
import type { Logger } from 'pino';
import type { RunData } from '../model.js';
import { assertAllowedHost, guardedLookup } from '../net/guard.js';
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

/**
 * Delivers the summary with retries and exponential backoff (POST is retried on purpose:
 * receivers must treat the callback as at-least-once). Returns the outcome to record.
 */
export async function deliverCallback(url: string, body: unknown, opts: { allowPrivateHosts: string[]; retries?: number; logger: Logger }): Promise<string> {
  let attempts = 0;
  try {
    // An IP literal never reaches dnsLookup: check it (and any name) before connecting.
    await assertAllowedHost(new URL(url).hostname, opts.allowPrivateHosts);
    const res = await got.post(url, {
      json: body,
      timeout: { request: 10_000 },
      dnsLookup: guardedLookup(opts.allowPrivateHosts) as never,
      followRedirect: false,
      retry: {
        limit: opts.retries ?? 3,
        methods: ['POST'],
        statusCodes: [408, 429, 500, 502, 503, 504],
        calculateDelay: ({ attemptCount, computedValue }) => (computedValue === 0 ? 0 : Math.min(200 * 2 ** (attemptCount - 1), 5000)),
      },
      hooks: { beforeRequest: [() => { attempts++; }] },
    });
    return `DELIVERED ${res.statusCode} after ${attempts} attempt(s)`;
  } catch (e) {
    const err = e as { response?: { statusCode: number }; message: string };
    // got's messages may quote the URL, whose token the run's callbackStatus must not show.
    const why = err.response ? `HTTP ${err.response.statusCode}` : maskUrlsInText(err.message);
    opts.logger.warn({ why, attempts }, 'run callback failed');
    return `FAILED after ${attempts} attempt(s): ${why}`.slice(0, 500);
  }
}
