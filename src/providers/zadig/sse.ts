import http from 'node:http';
import https from 'node:https';
import { ErrorCode, UpstreamError } from '../../errors.js';
import { failureFromNetwork, failureFromResponse } from '../upstream/failures.js';

export interface SseSnapshotOptions {
  providerId: string;
  url: URL;
  headers: Record<string, string>;
  secrets: readonly string[];
  /** No first byte within this time: UPSTREAM_TIMEOUT. */
  timeoutMs: number;
  /** Stop reading after this much silence: the log so far has been sent. */
  idleMs: number;
  /** Hard cap on one read. */
  maxMs: number;
}

/**
 * Reads a Zadig live-log stream (`event: message`, one log line per `data:`) for as long
 * as lines keep coming, then hangs up. Zadig's SSE never says "that is all for now", so
 * a pause of `idleMs` is taken as "caught up"; `ended` is true when the server closed
 * the stream itself (the job's container is gone). An incomplete trailing event is dropped.
 */
export function readSseSnapshot(o: SseSnapshotOptions): Promise<{ lines: string[]; ended: boolean }> {
  const what = `GET ${o.url.pathname}`;
  const lib = o.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    let buf = '';
    let settled = false;
    let idle: NodeJS.Timeout | undefined;
    const finish = (ended: boolean, err?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      clearTimeout(first);
      clearTimeout(cap);
      req.destroy();
      if (err) reject(err); else resolve({ lines, ended });
    };
    const first = setTimeout(() => finish(false, new UpstreamError(ErrorCode.UPSTREAM_TIMEOUT, o.providerId, `${what} timed out`)), o.timeoutMs);
    const cap = setTimeout(() => finish(false), o.maxMs);
    const req = lib.request(o.url, { method: 'GET', headers: { accept: 'text/event-stream', ...o.headers } }, (res) => {
      clearTimeout(first);
      res.setEncoding('utf8');
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        let raw = '';
        res.on('data', (c: string) => { if (raw.length < 8000) raw += c; });
        res.on('end', () => finish(false, failureFromResponse({ providerId: o.providerId, what, status, headers: res.headers, raw, secrets: o.secrets })));
        res.on('error', (e) => finish(false, failureFromNetwork(o.providerId, what, e, o.secrets)));
        return;
      }
      const bump = () => { clearTimeout(idle); idle = setTimeout(() => finish(false), o.idleMs); };
      bump();
      res.on('data', (chunk: string) => {
        buf += chunk;
        const events = buf.split(/\r?\n\r?\n/);
        buf = events.pop() ?? '';
        for (const ev of events) lines.push(...parseEvent(ev));
        bump();
      });
      res.on('end', () => finish(true));
      res.on('error', (e) => finish(false, failureFromNetwork(o.providerId, what, e, o.secrets)));
    });
    req.on('error', (e) => finish(false, failureFromNetwork(o.providerId, what, e, o.secrets)));
    req.end();
  });
}

/** One SSE event block -> its log lines (only `message` events carry log text). */
function parseEvent(block: string): string[] {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? '' : line.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return event === 'message' && data.length ? data.join('\n').split('\n') : [];
}
