import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LogSource } from '../model.js';
import { runProcess, type ProcessResult } from './process.js';
import type { StepEnvironment } from './steps/types.js';

/**
 * A thin wrapper over the `buildah` CLI. Every call carries the same global storage flags
 * so that the engine (and each test) works in the storage it was configured with, and
 * goes through runProcess so that cancel/timeout kill buildah and what it started.
 */

export type BuildahSettings = StepEnvironment['buildah'];

export interface BuildahCall {
  cwd: string;
  signal: AbortSignal;
  /** Milliseconds; 0 or undefined = no limit. */
  timeoutMs?: number;
  onLine?(stream: LogSource, text: string, partial: boolean): void;
}

export interface BuildahResult extends ProcessResult {
  /** The last few stderr lines, to explain a failure without replaying the whole log. */
  errorTail: string[];
}

/** Registry credentials; the password reaches buildah only through a 0600 auth file. */
export interface RegistryLogin { host: string; username: string; password: string }

const TAIL_LINES = 5;

/** The global flags that select buildah's storage: `--root`, `--runroot`, `--storage-driver`. */
export function storageArgs(settings: BuildahSettings): string[] {
  const args: string[] = [];
  if (settings.root) args.push('--root', settings.root);
  if (settings.runroot) args.push('--runroot', settings.runroot);
  if (settings.storageDriver) args.push('--storage-driver', settings.storageDriver);
  return args;
}

/** `--tls-verify=false` for a registry served over plain HTTP or with a self-signed cert. */
export function tlsArgs(insecure: boolean): string[] {
  return insecure ? ['--tls-verify=false'] : [];
}

export async function buildah(settings: BuildahSettings, args: string[], call: BuildahCall): Promise<BuildahResult> {
  const errorTail: string[] = [];
  const result = await runProcess('buildah', [...storageArgs(settings), ...args], {
    cwd: call.cwd,
    signal: call.signal,
    timeoutMs: call.timeoutMs,
    onLine(stream, text, partial) {
      if (stream === 'STDERR' && text.trim()) {
        errorTail.push(text);
        if (errorTail.length > TAIL_LINES) errorTail.shift();
      }
      call.onLine?.(stream, text, partial);
    },
  });
  return { ...result, errorTail };
}

/** One sentence for a buildah call that did not succeed. */
export function describeFailure(what: string, r: BuildahResult, timeoutMs?: number): string {
  if (r.aborted) return `${what} was canceled`;
  if (r.timedOut) return `${what} timed out after ${Math.round((timeoutMs ?? 0) / 1000)}s`;
  const cause = r.errorTail.filter((l) => /error|denied|refused|unauthorized|not found|no such/i.test(l)).pop()
    ?? r.errorTail[r.errorTail.length - 1];
  const how = r.exitCode !== null ? `exit code ${r.exitCode}` : `signal ${r.signal}`;
  return `${what} failed (${how})${cause ? `: ${cause.replace(/^Error:\s*/, '')}` : ''}`;
}

/**
 * Runs `fn` with the `--authfile` arguments for `logins` (none: no arguments). The auth
 * file lives in a private dir under `parent` (the run's temp dir), mode 0600, and is removed afterwards whatever happens:
 * `--creds user:pass` would put the password on the command line for `ps` to read.
 */
export async function withAuthFile<T>(parent: string, logins: RegistryLogin[], fn: (args: string[]) => Promise<T>): Promise<T> {
  if (!logins.length) return fn([]);
  const dir = await mkdtemp(path.join(parent, 'auth-'));
  try {
    const file = path.join(dir, `auth-${randomBytes(4).toString('hex')}.json`);
    const auths: Record<string, { auth: string }> = {};
    for (const l of logins) auths[l.host] = { auth: Buffer.from(`${l.username}:${l.password}`).toString('base64') };
    await writeFile(file, JSON.stringify({ auths }), { mode: 0o600 });
    return await fn(['--authfile', file]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Removes a working container; a container that is already gone is not an error. */
export async function removeContainer(settings: BuildahSettings, name: string, cwd: string): Promise<void> {
  // A fresh signal: cleanup must run even when the step itself was canceled.
  await buildah(settings, ['rm', '--', name], { cwd, signal: new AbortController().signal, timeoutMs: 60_000 })
    .catch(() => undefined);
}
