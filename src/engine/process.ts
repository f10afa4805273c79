import { spawn } from 'node:child_process';
import type { LogStream } from '../model.js';

export interface ProcessOptions {
  cwd: string;
  env?: Record<string, string>;
  signal: AbortSignal;
  /** Milliseconds; 0 or undefined = no limit. */
  timeoutMs?: number;
  /**
   * Called once per output line, without its line ending (see lineReader). A line longer
   * than READ_PIECE_BYTES comes in pieces: `partial` is true on every piece but its last.
   * A returned promise means "slow down": both pipes are paused until it settles
   * (backpressure from log storage).
   */
  onLine(stream: LogStream, text: string, partial: boolean): void | Promise<void>;
  stdin?: string;
}

export interface ProcessResult { exitCode: number | null; signal: string | null; timedOut: boolean; aborted: boolean }

/**
 * Runs a command in its own process group so that cancel/timeout can kill the whole
 * tree (a shell's children included), and splits stdout/stderr into lines as they come.
 */
export function runProcess(cmd: string, args: string[], opts: ProcessOptions): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: process.env.HOME ?? '/root', ...opts.env },
      detached: true, // own process group: kill(-pid) reaches grandchildren
      stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
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
    const out = lineReader((text, partial) => opts.onLine('STDOUT', text, partial));
    const err = lineReader((text, partial) => opts.onLine('STDERR', text, partial));
    const push = (reader: LineReader) => (c: Buffer) => { const wait = reader.push(c); if (wait) pauseUntil(wait); };
    child.stdout!.on('data', push(out));
    child.stderr!.on('data', push(err));
    if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      reject(e);
    });
    child.on('close', (code, sig) => {
      if (timer) clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      out.flush();
      err.flush();
      resolve({ exitCode: code, signal: sig, timedOut, aborted });
    });
  });
}

/** Most bytes of one line the reader holds: a longer line is handed on in pieces of this size. */
export const READ_PIECE_BYTES = 64 * 1024;

const LF = 0x0a;
const CR = 0x0d;

export interface LineReader {
  /** Takes the next bytes; returns the last "slow down" promise of the lines it handed on. */
  push(chunk: Buffer): void | Promise<void>;
  /** At end of output: hands on an unterminated last line. */
  flush(): void;
}

/**
 * Splits raw output into lines in time linear in its size, whatever its shape. A line ends
 * at `\n`, `\r\n` or a lone `\r` (a progress bar's redraw: each state becomes a line of its
 * own, shown as it comes, instead of one endless line); a `\r` ending nothing (an empty
 * line) gives no line. Bytes are decoded per line, so a character split across reads stays
 * whole and invalid UTF-8 becomes U+FFFD. A line longer than READ_PIECE_BYTES is handed on
 * in pieces cut between characters, so memory stays bounded without newlines.
 */
export function lineReader(emit: (text: string, partial: boolean) => void | Promise<void>): LineReader {
  let parts: Buffer[] = [];
  let size = 0;
  /** Pieces of the current line were handed on already. */
  let open = false;
  /** The last byte read ended a line with \r: a \n right after it ends nothing more. */
  let afterCR = false;
  let wait: void | Promise<void> = undefined;
  const hand = (text: string, partial: boolean) => { wait = emit(text, partial) ?? wait; };
  const take = (tail?: Buffer): Buffer => {
    const all = parts.length === 0 ? (tail ?? Buffer.alloc(0)) : Buffer.concat(tail ? [...parts, tail] : parts);
    parts = [];
    size = 0;
    return all;
  };
  return {
    push(chunk) {
      wait = undefined;
      let start = 0;
      // Next \n and \r at or after `start`, each searched again only once passed: one scan per byte.
      let lf = chunk.indexOf(LF);
      let cr = chunk.indexOf(CR);
      while (lf !== -1 || cr !== -1) {
        const end = cr === -1 || (lf !== -1 && lf < cr) ? lf : cr;
        const isCR = end === cr;
        const empty = size === 0 && end === start;
        if (empty && !open && (isCR || afterCR)) {
          // \r\n, or a \r after a line end: nothing to hand on.
        } else {
          const line = size === 0 ? chunk.subarray(start, end) : take(chunk.subarray(start, end));
          hand(line.toString('utf8'), false);
          open = false;
        }
        afterCR = isCR;
        start = end + 1;
        if (isCR) cr = chunk.indexOf(CR, start);
        else lf = chunk.indexOf(LF, start);
      }
      if (start < chunk.length) {
        afterCR = false;
        parts.push(chunk.subarray(start));
        size += chunk.length - start;
      }
      while (size > READ_PIECE_BYTES) {
        const all = take();
        const cut = utf8Cut(all, READ_PIECE_BYTES);
        hand(all.toString('utf8', 0, cut), true);
        open = true;
        parts = [all.subarray(cut)];
        size = all.length - cut;
      }
      return wait;
    },
    flush() {
      if (size > 0 || open) emit(take().toString('utf8'), false);
      open = false;
    },
  };
}

/**
 * Where to cut `buf` to keep at most `max` bytes before the cut without splitting a UTF-8
 * character: before the lead byte of a character that would straddle it. Bytes that are
 * no valid character anyway (more than 3 continuation bytes) are cut at `max`.
 */
export function utf8Cut(buf: Buffer, max: number): number {
  if (buf.length <= max) return buf.length;
  let i = max;
  while (i > max - 4 && i > 0 && (buf[i]! & 0xc0) === 0x80) i--;
  return i > max - 4 && i > 0 ? i : max;
}
