import http, { type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

/**
 * A toolkit for fake upstream servers on node:http (127.0.0.1, port 0): routes with
 * `:params`, JSON/text replies, a request log, an auth hook, and fault injection so a test
 * can make the next N matching requests fail in each way a real upstream does.
 */

export interface FakeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Parsed JSON when the request sent JSON, else the raw text ('' when empty). */
  body: unknown;
}
export interface RouteRequest extends FakeRequest {
  params: Record<string, string>;
}

/** An explicit reply; a handler may also return plain data (sent as 200 JSON). */
export class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly kind: 'json' | 'text' | 'gzip' | 'empty' = 'json',
    readonly headers: Record<string, string> = {},
  ) {}
}
export const json = (body: unknown, status = 200, headers: Record<string, string> = {}) => new Reply(status, body, 'json', headers);
export const text = (body: string, status = 200, headers: Record<string, string> = {}) => new Reply(status, body, 'text', headers);
/** Gzip-compressed JSON served as a file (application/gzip, no Content-Encoding), like an archived log. */
export const gzipJson = (body: unknown) => new Reply(200, body, 'gzip');
export const empty = (status = 204) => new Reply(status, null, 'empty');

export type Handler = (req: RouteRequest) => unknown | Promise<unknown>;

export interface Fault {
  /** Answer with this status (and `body`, JSON) instead of running the route. */
  status?: number;
  body?: unknown;
  /** Adds a Retry-After header (seconds). */
  retryAfterSec?: number;
  /** timeout: never answer; reset: destroy the socket; malformed: 200 with broken JSON;
   * wrongType: run the route, then pass its JSON body through `mutate`. */
  kind?: 'timeout' | 'reset' | 'malformed' | 'wrongType';
  /** For kind 'wrongType': change the real body (e.g. make a number a string). */
  mutate?: (body: any) => unknown;
  /** Only requests whose path matches (default: all). */
  path?: RegExp;
  method?: string;
  /** How many matching requests it hits (default 1; Infinity for all). */
  times?: number;
}

interface Route { method: string; re: RegExp; names: string[]; handler: Handler }

export class FakeServer {
  /** Every request received, in order (including faulted and refused ones). */
  readonly requests: FakeRequest[] = [];
  private readonly routes: Route[] = [];
  private faults: Array<Fault & { left: number }> = [];
  private authCheck: ((req: FakeRequest) => boolean) | null = null;
  private authFailure: Reply = json({ message: 'unauthorized' }, 401);

  constructor(readonly name = 'fake') {}

  route(method: string, pattern: string, handler: Handler): this {
    const names: string[] = [];
    const re = new RegExp(
      '^' +
        pattern.replace(/\/+$/, '').replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:(\w+)/g, (_m, n: string) => {
          names.push(n);
          return '([^/]+)';
        }) +
        '/?$',
    );
    this.routes.push({ method: method.toUpperCase(), re, names, handler });
    return this;
  }
  get(pattern: string, h: Handler) { return this.route('GET', pattern, h); }
  post(pattern: string, h: Handler) { return this.route('POST', pattern, h); }
  put(pattern: string, h: Handler) { return this.route('PUT', pattern, h); }
  delete(pattern: string, h: Handler) { return this.route('DELETE', pattern, h); }

  /** Requests for which `check` is false get `failure` (default 401 JSON). */
  auth(check: (req: FakeRequest) => boolean, failure?: Reply): this {
    this.authCheck = check;
    if (failure) this.authFailure = failure;
    return this;
  }

  fault(f: Fault): this {
    this.faults.push({ ...f, left: f.times ?? 1 });
    return this;
  }
  clearFaults(): void {
    this.faults = [];
  }
  /** Requests so far matching method and path (a regexp or a substring). */
  count(method: string, path: RegExp | string): number {
    return this.requests.filter((r) => r.method === method && (typeof path === 'string' ? r.path.includes(path) : path.test(r.path))).length;
  }

  async start(): Promise<{ url: string; close: () => Promise<void> }> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void this.handle(req, Buffer.concat(chunks).toString('utf8'), res).catch((err) => {
          if (!res.headersSent) send(res, json({ message: `fake ${this.name} crashed: ${String(err)}` }, 500));
        });
      });
    });
    server.keepAliveTimeout = 2000;

    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }

  private takeFault(req: FakeRequest): Fault | null {
    const f = this.faults.find((x) => x.left > 0 && (!x.method || x.method.toUpperCase() === req.method) && (!x.path || x.path.test(req.path)));
    if (!f) return null;
    f.left--;
    this.faults = this.faults.filter((x) => x.left > 0);
    return f;
  }

  private async handle(req: http.IncomingMessage, raw: string, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://fake');
    let body: unknown = raw;
    if (raw && String(req.headers['content-type'] ?? '').includes('json')) {
      try { body = JSON.parse(raw); } catch { body = raw; }
    }
    const fr: FakeRequest = { method: req.method ?? 'GET', path: u.pathname, query: Object.fromEntries(u.searchParams), headers: req.headers, body };
    this.requests.push(fr);

    const fault = this.takeFault(fr);
    if (fault?.kind === 'timeout') return; // never answer; close() destroys the socket
    if (fault?.kind === 'reset') { req.socket.destroy(); return; }
    if (fault?.kind === 'malformed') { send(res, text('{"this is": not json', 200, { 'content-type': 'application/json' })); return; }
    const retryHeaders: Record<string, string> = fault?.retryAfterSec !== undefined ? { 'retry-after': String(fault.retryAfterSec) } : {};
    if (fault?.status) { send(res, json(fault.body ?? { message: `injected ${fault.status}` }, fault.status, retryHeaders)); return; }

    if (this.authCheck && !this.authCheck(fr)) { send(res, this.authFailure); return; }
    let params: Record<string, string> | null = null;
    const route = this.routes.find((r) => {
      if (r.method !== fr.method) return false;
      const m = r.re.exec(fr.path);
      if (!m) return false;
      params = Object.fromEntries(r.names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)]));
      return true;
    });
    if (!route) { send(res, json({ message: `no route for ${fr.method} ${fr.path}` }, 404)); return; }
    const out = await route.handler({ ...fr, params: params ?? {} });
    let reply = out instanceof Reply ? out : out === undefined ? empty() : json(out);
    if (fault?.kind === 'wrongType' && reply.kind === 'json') {
      const copy = JSON.parse(JSON.stringify(reply.body));
      reply = new Reply(reply.status, fault.mutate ? (fault.mutate(copy) ?? copy) : copy, 'json', { ...reply.headers, ...retryHeaders });
    }
    send(res, reply);
  }
}

function send(res: ServerResponse, r: Reply): void {
  if (r.kind === 'empty') { res.writeHead(r.status, r.headers).end(); return; }
  if (r.kind === 'gzip') {
    const buf = gzipSync(Buffer.from(JSON.stringify(r.body)));
    res.writeHead(r.status, { 'content-type': 'application/gzip', ...r.headers }).end(buf);
    return;
  }
  const payload = r.kind === 'text' ? String(r.body) : JSON.stringify(r.body);
  res.writeHead(r.status, { 'content-type': r.kind === 'text' ? 'text/plain; charset=utf-8' : 'application/json', ...r.headers }).end(payload);
}

