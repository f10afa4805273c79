import { spawn } from 'node:child_process';
import type { LogStream } from '../providers/types.js';
import { killGroupIfSame, processStart, Supervisor } from './supervisor.js';

export interface ProcessOptions {
  cwd: string;
  env?: Record<string, string>;
  signal: AbortSignal;
  /** Milliseconds; 0 or undefined = no limit. */
  timeoutMs?: number;
  /**
   * Called once per complete output line, without the newline. A returned promise means
   * "slow down": both pipes are paused until it settles (backpressure from log storage).
   */
  onLine(stream: LogStream, text: string): void | Promise<void>;
  stdin?: string;
}

export interface ProcessResult { exitCode: number | null; signal: string | null; timedOut: boolean; aborted: boolean }

/**
 * Runs a command in its own process group so that cancel/timeout can kill the whole
 * tree (a shell's children included), and splits stdout/stderr into lines as they come.
 * The group is recorded while it lives (supervisor.ts: killed at the next start should this
 * process die first), and what is left of it when the command ends is killed then.
 */
export function runProcess(cmd: string, args: string[], opts: ProcessOptions): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: process.env.HOME ?? '/root', ...opts.env },
      detached: true, // own process group: kill(-pid) reaches grandchildren
      stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const pgid = child.pid;
    const pgStart = pgid === undefined ? null : processStart(pgid);
    const untrack = pgid === undefined ? async () => undefined : Supervisor.track(pgid);
    // Background children that let go of our pipes would otherwise live on after the step.
    const endGroup = () => {
      if (pgid !== undefined && pgStart !== null) killGroupIfSame(pgid, pgStart);
      void untrack();
    };
    let timedOut = false;
    let aborted = false;
    const killTree = () => {
      if (child.pid === undefined || child.exitCode !== null) return;
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
      setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, 2000).unref();
    };
    const onAbort = () => { aborted = true; killTree(); };
    if (opts.signal.aborted) onAbort();
    opts.signal.addEventListener('abort', onAbort, { once: true });
    const timer = opts.timeoutMs ? setTimeout(() => { timedOut = true; killTree(); }, opts.timeoutMs) : null;

    let paused: Promise<void> | null = null;
    const pauseUntil = (p: Promise<void>) => {
      if (paused) return;
      child.stdout!.pause();
      child.stderr!.pause();
      paused = p.catch(() => undefined).then(() => {
        paused = null;
        child.stdout!.resume();
        child.stderr!.resume();
      });
    };
    const splitter = (stream: LogStream) => {
      let rest = '';
      return {
        push(chunk: string) {
          const text = rest + chunk;
          let start = 0;
          let wait: void | Promise<void> = undefined;
          for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', start)) {
            const end = i > start && text.charCodeAt(i - 1) === 13 ? i - 1 : i;
            wait = opts.onLine(stream, text.slice(start, end)) ?? wait;
            start = i + 1;
          }
          rest = text.slice(start);
          if (wait) pauseUntil(wait);
        },
        flush() { if (rest.length) opts.onLine(stream, rest); rest = ''; },
      };
    };
    const out = splitter('STDOUT');
    const err = splitter('STDERR');
    child.stdout!.setEncoding('utf8').on('data', (c: string) => out.push(c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => err.push(c));
    if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
    child.on('error', (e) => {
      endGroup();
      if (timer) clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      reject(e);
    });
    child.on('close', (code, sig) => {
      endGroup();
      if (timer) clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      out.flush();
      err.flush();
      resolve({ exitCode: code, signal: sig, timedOut, aborted });
    });
  });
}
