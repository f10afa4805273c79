import { spawn } from 'node:child_process';
import type { LogSource } from '../model.js';
import { killGroupIfSame, processStart, Supervisor } from './supervisor.js';

export interface ProcessOptions {
  cwd: string;
  env?: Record<string, string>;
  signal: AbortSignal;
  /** Milliseconds; 0 or undefined = no limit. */
  timeoutMs?: number;
  /**
   * Called once per output line, without its line ending (see lineReader). A line longer
   * than READ_PIECE_BYTES comes in pieces: `partial` is true on every piece but its last.
   * `redraw`: the line ended with a lone \r (a progress state the next line overwrites).
   * Also true for a \r\n whose \n comes in the next read.
   * A returned promise means "slow down": both pipes are paused until it settles
   * (backpressure from log storage).
   */
  onLine(stream: LogSource, text: string, partial: boolean, redraw: boolean): void | Promise<void>;
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
    const out = lineReader((text, partial, redraw) => opts.onLine('STDOUT', text, partial, redraw));
    const err = lineReader((text, partial, redraw) => opts.onLine('STDERR', text, partial, redraw));
    const push = (reader: LineReader) => (c: Buffer) => { const wait = reader.push(c); if (wait) pauseUntil(wait); };
    child.stdout!.on('data', push(out));
    child.stderr!.on('data', push(err));
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
 * line) gives no line. Only complete lines (or pieces) are decoded, so a character split
 * across reads stays whole and invalid UTF-8 becomes U+FFFD. A line longer than READ_PIECE_BYTES is handed on
 * in pieces cut between characters, so memory stays bounded without newlines.
 */
export function lineReader(emit: (text: string, partial: boolean, redraw: boolean) => void | Promise<void>): LineReader {
  let parts: Buffer[] = [];
  let size = 0;
  /** Pieces of the current line were handed on already. */
  let open = false;
  /** The last byte read ended a line with \r: a \n right after it ends nothing more. */
  let afterCR = false;
  let wait: void | Promise<void> = undefined;
  const hand = (text: string, partial: boolean, redraw = false) => { wait = emit(text, partial, redraw) ?? wait; };
  const take = (tail?: Buffer): Buffer => {
    const all = parts.length === 0 ? (tail ?? Buffer.alloc(0)) : Buffer.concat(tail ? [...parts, tail] : parts);
    parts = [];
    size = 0;
    return all;
  };
  return {
    push(chunk) {
      wait = undefined;
      // Lines end by the last \n or \r of the chunk. No UTF-8 character holds those bytes, so
      // all before can be decoded at once: one string per chunk, lines are slices of it.
      const last = Math.max(chunk.lastIndexOf(LF), chunk.lastIndexOf(CR));
      let rest = chunk;
      if (last !== -1) {
        const held = size;
        const all = held === 0 ? chunk : take(chunk);
        const text = all.toString('utf8', 0, held + last + 1);
        rest = all.subarray(held + last + 1);
        let start = 0;
        // Next \n and \r at or after `start`, each searched again only once passed: one scan per character.
        let lf = text.indexOf('\n');
        let cr = text.indexOf('\r');
        while (start < text.length) {
          const end = cr === -1 || (lf !== -1 && lf < cr) ? lf : cr;
          const isCR = end === cr;
          if (end === start && !open && (isCR || afterCR)) {
            // \r\n, or a \r after a line end: nothing to hand on.
          } else {
            // A \r\n split across two reads counts as a redraw: \n-ended output (git's) is never one.
            hand(text.slice(start, end), false, isCR && text.charCodeAt(end + 1) !== 10);
            open = false;
          }
          afterCR = isCR;
          start = end + 1;
          if (isCR) cr = text.indexOf('\r', start);
          else lf = text.indexOf('\n', start);
        }
      }
      if (rest.length) {
        afterCR = false;
        parts.push(rest);
        size += rest.length;
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
      if (size > 0 || open) emit(take().toString('utf8'), false, false);
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
