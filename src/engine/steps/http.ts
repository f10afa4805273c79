import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import got, { RequestError, TimeoutError } from 'got';
import type { HttpConfig, HttpHeader } from '../../model.js';
import { assertAllowedHost, guardedLookup } from '../../net/guard.js';
import { maskUrl, maskUrlsInText } from '../../secrets/mask.js';
import { workspacePath } from '../workspace.js';
import { checkStepConfig, parseResponseCodes } from './rules.js';
import type { StepExecutor } from './types.js';

/**
 * HTTP step: one request whose outcome decides the step. The field names follow Jenkins'
 * HTTP Request plugin, which the Cocktail model copies, and so do the defaults:
 *
 * - `validResponseCodes`: comma-separated codes and inclusive ranges, a range written
 *   `200-299` or Jenkins-style `200:299`; e.g. "200", "200,201", "200-299,304". Empty means
 *   `100-399` (the plugin's default). Redirects are followed, so the final status counts.
 * - `validResponseContent`: a substring the (UTF-8) body must contain.
 * - `timeout`: seconds for the whole request; 0 or less means the engine's default step timeout.
 * - `outputFile`: the body is written there, inside the workspace.
 * - `consoleLogResponseBody`: the body is logged line by line (at most MAX_LOGGED_LINES).
 *
 * Every host contacted (the first and each redirect target) must pass the SSRF guard.
 */

const MAX_LOGGED_LINES = 1000;
const DEFAULT_CODES = '100-399';
const SECRET_HEADER = /authorization|cookie|token|secret|passw|api[-_]?key|^x-.*key$/i;

const isSecretHeader = (h: HttpHeader) => Boolean(h.secret) || SECRET_HEADER.test(h.name);

/** Logged URLs show no credentials and no query values (their names say too little). */
const loggableUrl = (u: URL): string => maskUrl(u.toString(), { allParams: true });

export const httpStep: StepExecutor = async (ctx) => {
  const cfg = ctx.config as HttpConfig;
  let url: URL;
  let codes: Array<[number, number]>;
  let outputPath: string | null = null;
  try {
    checkStepConfig(cfg);
    url = new URL(cfg.url);
    codes = parseResponseCodes(cfg.validResponseCodes?.trim() || DEFAULT_CODES);
    if (cfg.outputFile) outputPath = await workspacePath(ctx.workspace, cfg.outputFile, 'outputFile');
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
  const method = cfg.httpMode ?? 'GET';
  const timeoutSec = cfg.timeout > 0 ? cfg.timeout : ctx.env.defaultStepTimeoutSec;
  const headers: Record<string, string> = {};
  for (const h of cfg.customHeaders ?? []) headers[h.name] = h.value;

  const shownHeaders = (cfg.customHeaders ?? []).map((h) => `${h.name}: ${isSecretHeader(h) ? '***' : h.value}`);
  ctx.log('SYSTEM', `HTTP ${method} ${loggableUrl(url)}` +
    (shownHeaders.length ? ` headers [${shownHeaders.join(', ')}]` : '') +
    (cfg.username ? ` basic auth as ${cfg.username}` : '') +
    (cfg.ignoreSslErrors ? ' (TLS certificate not verified)' : '') + ` timeout ${timeoutSec}s`);

  const allow = ctx.env.allowPrivateHosts;
  const started = Date.now();
  try {
    await assertAllowedHost(url.hostname, allow);
    const res = await got(url, {
      method,
      headers,
      username: cfg.username ?? undefined,
      password: cfg.password ?? undefined,
      body: cfg.requestBody && method !== 'HEAD' ? cfg.requestBody : undefined,
      allowGetBody: true,
      throwHttpErrors: false,
      retry: { limit: 0 },
      timeout: { request: timeoutSec * 1000 },
      https: { rejectUnauthorized: !cfg.ignoreSslErrors },
      responseType: 'buffer',
      signal: ctx.signal,
      dnsLookup: guardedLookup(allow) as never,
      hooks: {
        beforeRedirect: [async (opts) => {
          const target = opts.url as URL;
          ctx.log('SYSTEM', `redirected to ${loggableUrl(target)}`);
          await assertAllowedHost(target.hostname, allow);
          // got drops Authorization and Cookie on a cross-origin redirect; other secret headers too
          if (target.origin !== url.origin) {
            for (const h of cfg.customHeaders ?? []) if (isSecretHeader(h)) delete opts.headers[h.name.toLowerCase()];
          }
        }],
      },
    });
    const body = res.rawBody ?? Buffer.alloc(0);
    ctx.log('SYSTEM', `HTTP ${res.statusCode} ${res.statusMessage ?? ''} in ${Date.now() - started} ms, ${body.length} bytes`.replace('  ', ' '));
    if (cfg.consoleLogResponseBody) logBody(ctx.log, body);
    if (outputPath) {
      await mkdir(path.dirname(outputPath), { recursive: true });
      await writeFile(outputPath, body);
      ctx.log('SYSTEM', `response body written to ${cfg.outputFile}`);
    }
    if (!codes.some(([from, to]) => res.statusCode >= from && res.statusCode <= to)) {
      return { ok: false, error: `HTTP ${method} answered ${res.statusCode}, expected ${cfg.validResponseCodes?.trim() || DEFAULT_CODES}` };
    }
    if (cfg.validResponseContent && !body.toString('utf8').includes(cfg.validResponseContent)) {
      return { ok: false, error: `HTTP response body does not contain the expected content ${JSON.stringify(cfg.validResponseContent)}` };
    }
    return { ok: true };
  } catch (e) {
    if (ctx.signal.aborted) return { ok: false, error: 'HTTP step canceled' };
    if (e instanceof TimeoutError) return { ok: false, error: `HTTP ${method} timed out after ${timeoutSec}s` };
    // got wraps hook and lookup errors; the cause carries the SSRF guard's message
    const cause = e instanceof RequestError && e.cause instanceof Error ? e.cause : e;
    const message = (cause as Error).message ?? String(cause);
    return { ok: false, error: `HTTP ${method} ${loggableUrl(url)} failed: ${maskUrlsInText(message)}` };
  }
};

function logBody(log: (s: 'STDOUT', t: string) => void, body: Buffer): void {
  const lines = body.toString('utf8').split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  for (const line of lines.slice(0, MAX_LOGGED_LINES)) log('STDOUT', line);
  if (lines.length > MAX_LOGGED_LINES) log('STDOUT', `… ${lines.length - MAX_LOGGED_LINES} more line(s) not shown`);
}
