import type http from 'node:http';
import { execute, getOperationAST, GraphQLError, Kind, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { CloseCode, handleProtocols, makeServer, type Context as WsContext } from 'graphql-ws';
import type { Logger } from 'pino';
import WebSocket, { WebSocketServer } from 'ws';
import { ApiKeys, keyRevocations } from '../auth/api-keys.js';
import { AuthFailure } from '../auth/authenticator.js';
import { isLoopbackHost, type Principal } from '../auth/principal.js';
import { WS_CLOSE, type Security } from '../auth/security.js';
import type { Config } from '../config/index.js';
import { ErrorCode } from '../errors.js';
import { bucketOf, RateLimitedError } from '../limits/rate-limits.js';
import { DIRECT } from '../live/direct.js';
import { sharedSerialization, sharedSubscribe, type ResultWriter, type SharedStream } from '../live/shared-execution.js';
import type { Context } from '../schema/context.js';
import type { Store } from '../store/db.js';
import type { OperationPipeline } from './pipeline.js';
import { tracingOn } from '../tracing/index.js';
import { wsOperationSpan } from './tracing.js';
import { hostAllowed } from './host-guard.js';

/** Interval of graphql-ws keep-alive pings; a socket that does not pong within it is dropped. */
const KEEP_ALIVE_MS = 12_000;

/** One open socket and who is behind it (once connection_init is authenticated). */
interface Connection {
  socket: WebSocket;
  ip: string;
  /** What connection_init presented: checked again before every operation. */
  credential: unknown;
  principal: Principal | null;
  ctx: WsContext | null;
  /** Root field of each subscription operation by its id (metrics: active subscriptions by field). */
  fields: Map<string, string>;
}

/** What /metrics reads of the websocket transport at scrape time. */
export interface WsStats {
  sockets: number;
  /** Subscriptions open now by root field. */
  subscriptions: Map<string, number>;
}

export interface WsTransportOptions {
  config: Config;
  httpServer: http.Server;
  schema: GraphQLSchema;
  security: Security;
  pipeline: OperationPipeline;
  store: Store;
  logger: Logger;
  newContext(principal: Principal): Context;
}

/**
 * The websocket transport: graphql-ws (graphql-transport-ws) on the HTTP server's /graphql,
 * fed through the same OperationPipeline as HTTP. Owns what only a socket has:
 * - the Origin allow-list, checked before the upgrade (HTTP 403): own origin, loopback
 *   origins, `server.ws.allowedOrigins`; no Origin (not a browser) passes;
 * - message size: `maxPayloadBeforeInit` until connection_init is authenticated, then `maxPayload`;
 * - the credential re-checked before every operation, and sockets closed (4403) when their
 *   API key is revoked or their JWT expires;
 * - operations open at once per socket and per credential;
 * - the shared-frame send of shared subscription results (live/shared-execution).
 */
export function startWsTransport(o: WsTransportOptions): { dispose(): Promise<void>; stats(): WsStats } {
  const { config, security, pipeline, schema, logger } = o;
  const settings = config.server.ws;
  const limits = config.limits;
  const connections = new Map<WebSocket, Connection>();
  const keys = new ApiKeys(o.store);

  const wss = new WebSocketServer({
    server: o.httpServer,
    path: '/graphql',
    maxPayload: settings.maxPayloadBeforeInit,
    handleProtocols,
    verifyClient: (info: { origin?: string; req: http.IncomingMessage }, cb: (ok: boolean, code?: number, message?: string) => void) => {
      if (!hostAllowed(info.req.headers.host, config.server.host, config.server.allowedHosts)) cb(false, 403, 'Host not allowed');
      else if (originAllowed(info.origin, info.req.headers.host, settings.allowedOrigins)) cb(true);
      else cb(false, 403, 'Origin not allowed');
    },
  });

  const close = (c: Connection, code: number, reason: string) => {
    if (c.socket.readyState === WebSocket.OPEN || c.socket.readyState === WebSocket.CONNECTING) c.socket.close(code, reason);
  };
  const onRevoked = (keyId: string) => {
    for (const c of connections.values()) if (c.principal?.kind === 'apiKey' && c.principal.id === keyId) close(c, WS_CLOSE.FORBIDDEN, 'API key revoked');
  };
  keyRevocations.on('revoked', onRevoked);
  // Revocations by other processes and JWT expiry: one query per interval for all open sockets.
  const recheck = setInterval(() => {
    const now = Date.now();
    const byKey = new Map<string, Connection[]>();
    for (const c of connections.values()) {
      const p = c.principal;
      if (p?.expiresAt !== undefined && p.expiresAt <= now) close(c, WS_CLOSE.FORBIDDEN, 'token expired');
      if (p?.kind !== 'apiKey') continue;
      const list = byKey.get(p.id);
      if (list) list.push(c); else byKey.set(p.id, [c]);
    }
    keys.goneAmong([...byKey.keys()]).then((gone) => {
      for (const id of gone) for (const c of byKey.get(id) ?? []) close(c, WS_CLOSE.FORBIDDEN, 'API key revoked');
    }, (e: unknown) => logger.warn({ err: e }, 'websocket credential re-check failed'));
  }, settings.credentialRecheckMs);
  recheck.unref();

  /** Operations open now over every socket of the caller's rate-limit bucket. */
  const openForBucket = (bucket: string) => {
    let n = 0;
    for (const c of connections.values()) if (c.principal && bucketOf(c.principal) === bucket) n += Object.keys(c.ctx?.subscriptions ?? {}).length;
    return n;
  };

  /** Operations the pipeline refused with errors that belong in their result (see OperationRefusal.asResult). */
  const resultErrors = new WeakMap<object, readonly GraphQLError[]>();
  // Spans only when tracing is on at start: otherwise graphql-ws calls execute and subscribe directly.
  const traceWs = <F extends (args: ExecutionArgs) => unknown>(fn: F): F => (tracingOn() ? wsOperationSpan(fn) : fn);
  /** The graphql-ws subscription behind an operation's context: where its directly delivered events go. */
  const operations = new WeakMap<object, { ctx: WsContext<Record<string, unknown> | undefined, { socket: WebSocket }>; id: string }>();
  /**
   * Writes a directly delivered event (live/direct.ts) as graphql-ws would send it, while the
   * subscription is still the one graphql-ws holds under this id (not completed by the client,
   * not replaced by a new one with the same id) and its socket is open.
   */
  const directWriter = (ctx: WsContext<Record<string, unknown> | undefined, { socket: WebSocket }>, id: string, stream: SharedStream): ResultWriter => {
    const socket = ctx.extra.socket;
    const head = Buffer.from(`{"id":${JSON.stringify(id)},"type":"next"`);
    return (result) => {
      if (ctx.subscriptions[id] !== stream || socket.readyState !== WebSocket.OPEN) return;
      const tail = result.errors?.length ? null : sharedSerialization.tailOf(result);
      if (tail) writeFramed(socket, head, tail);
      else socket.send(JSON.stringify({ id, type: 'next', payload: result.errors?.length ? { ...result, errors: result.errors.map(pipeline.formatWsError) } : result }));
    };
  };
  const shared = sharedSubscribe((ctx) => { const p = (ctx as Context).principal; return `${p.role}|${p.providers?.join(',') ?? '*'}`; });

  const server = makeServer<Record<string, unknown> | undefined, { socket: WebSocket }>({
    schema,
    onConnect: async (ctx) => {
      const c = connections.get(ctx.extra.socket)!;
      const params = ctx.connectionParams ?? {};
      c.credential = params.authorization ?? params.Authorization ?? c.credential;
      try {
        c.principal = await security.authenticator.authenticate(c.credential, c.ip);
        await security.rateLimits.consumeConnect(c.principal);
      } catch (e) {
        c.principal = null;
        if (e instanceof AuthFailure) close(c, e.status === 401 ? WS_CLOSE.UNAUTHENTICATED : WS_CLOSE.FORBIDDEN, e.message.slice(0, 120));
        else if (e instanceof RateLimitedError) close(c, WS_CLOSE.RATE_LIMITED, `Rate limited: retry after ${e.retryAfterSec} s`);
        else { logger.error({ err: e }, 'websocket authentication failed'); close(c, 1011, 'Internal error'); }
        return false;
      }
      c.ctx = ctx;
      setMaxPayload(c.socket, settings.maxPayload);
      return true;
    },
    onSubscribe: async (ctx, _id, payload): Promise<ExecutionArgs | readonly GraphQLError[]> => {
      const c = connections.get(ctx.extra.socket)!;
      // A socket outlives its credential: every operation authenticates again.
      let principal: Principal;
      try {
        principal = await security.authenticator.authenticate(c.credential, c.ip);
      } catch (e) {
        if (!(e instanceof AuthFailure)) throw e;
        await security.auditRefused(payload, e.code, c.ip, '');
        close(c, WS_CLOSE.FORBIDDEN, e.message.slice(0, 120));
        return [new GraphQLError(e.message, { extensions: { code: ErrorCode.UNAUTHENTICATED } })];
      }
      c.principal = principal;
      // This operation is already counted in ctx.subscriptions.
      if (Object.keys(ctx.subscriptions).length > limits.wsOperationsPerSocket) {
        return [limitError(`At most ${limits.wsOperationsPerSocket} operations may be open on one socket`)];
      }
      if (openForBucket(bucketOf(principal)) > limits.wsOperationsPerCredential) {
        return [limitError(`At most ${limits.wsOperationsPerCredential} operations may be open at once per credential`)];
      }
      const checked = security.limits.check(schema, payload?.query);
      if ('errors' in checked) return checked.errors;
      const operation = getOperationAST(checked.document, payload.operationName);
      if (!operation) return [new GraphQLError('Unable to identify operation', { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })];
      const root = operation.selectionSet.selections[0];
      if (operation.operation === 'subscription' && root?.kind === Kind.FIELD) c.fields.set(_id, root.name.value);
      const contextValue = { ...o.newContext(principal), socket: c.socket };
      operations.set(contextValue, { ctx: ctx as never, id: _id });
      const refused = await pipeline.check({ principal, schema, document: checked.document, operation, variables: payload.variables, logger: contextValue.logger });
      if (refused && !refused.asResult) return refused.errors;
      if (refused) resultErrors.set(contextValue, refused.errors); // sent as the operation's result, as graphql-js would
      const variables = payload.variables;
      return { schema, document: checked.document, operationName: payload.operationName, contextValue, variableValues: variables && typeof variables === 'object' ? variables : undefined };
    },
    execute: traceWs((args) => resultErrors.get(args.contextValue as object) ? { errors: resultErrors.get(args.contextValue as object)! } : execute(args)),
    // Identical subscriptions (same operation, variables and role) share one execution per event.
    subscribe: traceWs(async (args) => {
      const refused = resultErrors.get(args.contextValue as object);
      if (refused) return { errors: refused };
      const result = await shared(args);
      const op = operations.get(args.contextValue as object);
      if (op && DIRECT in result) result[DIRECT](directWriter(op.ctx, op.id, result));
      return result;
    }),
    onNext: ((ctx: unknown, id: string, payload: unknown, args: unknown, result: ExecutionResult) => (result.errors?.length
      ? { ...result, errors: result.errors.map(pipeline.formatWsError) }
      : sharedSerialization.onNext(ctx, id, payload, args, result))) as never,
    onError: (_ctx, _id, _payload, errors) => {
      logger.warn({ errors: errors.map((e) => pipeline.formatWsError(e).message) }, 'subscription error');
      return errors.map(pipeline.formatWsError);
    },
    onComplete: (ctx, id) => { connections.get(ctx.extra.socket)?.fields.delete(id); },
    jsonMessageReplacer: sharedSerialization.jsonMessageReplacer,
  });

  wss.on('connection', (socket, request) => {
    const c: Connection = { socket, ip: request.socket.remoteAddress ?? 'unknown', credential: request.headers.authorization, principal: null, ctx: null, fields: new Map() };
    connections.set(socket, c);
    // Protocol violations (a message over maxPayload: 1009, bad UTF-8: 1007) and resets: ws closes the socket itself.
    socket.on('error', (err) => logger.debug({ err: err.message }, 'websocket error'));
    let pongWait: NodeJS.Timeout | null = null;
    const ping = setInterval(() => {
      if (socket.readyState !== WebSocket.OPEN) return;
      pongWait = setTimeout(() => socket.terminate(), KEEP_ALIVE_MS);
      socket.once('pong', () => { if (pongWait) clearTimeout(pongWait); pongWait = null; });
      socket.ping();
    }, KEEP_ALIVE_MS);
    const closed = server.opened({
      protocol: socket.protocol,
      send: (data) => sendMessage(socket, data),
      close: (code, reason) => socket.close(code, reason),
      onMessage: (cb) => socket.on('message', (data: WebSocket.RawData) => {
        cb(String(data)).catch((err: unknown) => {
          logger.error({ err }, 'websocket message handling failed');
          close(c, CloseCode.InternalServerError, 'Internal server error');
        });
      }),
    }, { socket });
    socket.once('close', (code, reason) => {
      connections.delete(socket);
      clearInterval(ping);
      if (pongWait) clearTimeout(pongWait);
      void closed(code, String(reason));
    });
  });

  return {
    stats() {
      const subscriptions = new Map<string, number>();
      for (const c of connections.values()) {
        for (const [id, field] of c.fields) {
          // Ended subscriptions leave ctx.subscriptions; their entries go here.
          if (!c.ctx || !(id in c.ctx.subscriptions)) { c.fields.delete(id); continue; }
          subscriptions.set(field, (subscriptions.get(field) ?? 0) + 1);
        }
      }
      return { sockets: connections.size, subscriptions };
    },
    async dispose() {
      clearInterval(recheck);
      keyRevocations.off('revoked', onRevoked);
      for (const socket of wss.clients) socket.close(1001, 'Going away');
      await new Promise<void>((resolve, reject) => wss.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

const limitError = (message: string) => new GraphQLError(message, { extensions: { code: ErrorCode.RATE_LIMITED } });

/**
 * Sends one graphql-ws message. A message carrying a shared subscription result goes out as
 * one frame written from three parts: the frame header, the subscriber's own
 * `{"id":…,"type":"next"` and the shared tail (the same Buffer for every socket).
 */
export function sendMessage(socket: WebSocket, data: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.readyState !== WebSocket.OPEN) { resolve(); return; }
    const done = (err?: Error | null) => (err ? reject(err) : resolve());
    const shared = sharedSerialization.splitShared(data);
    if (!shared) { socket.send(data, done); return; }
    writeFramed(socket, Buffer.from(shared.head), shared.tail, done);
  });
}

interface WsInternals {
  _socket?: { cork(): void; uncork(): void; write(chunk: Buffer, cb?: (err?: Error | null) => void): boolean };
  _sender?: { _state: number; _queue: unknown[] };
}

/** Frame headers by payload length, for the tail last written: every socket of a batch gets the same one. */
let headerFor: { tail: Buffer | null; length: number; header: Buffer } = { tail: null, length: -1, header: Buffer.alloc(0) };

/**
 * Writes `head` + `tail` as one unmasked text frame (RFC 6455 §5.2) straight to the socket,
 * corked into one write: no copy of the shared tail, no fragments. ws's own sender is passed
 * by only while it has nothing queued (it queues only while compressing or reading a Blob,
 * neither of which this server does), so frames stay in order; otherwise ws sends the message.
 */
export function writeFramed(socket: WebSocket, head: Buffer, tail: Buffer, cb?: (err?: Error | null) => void): void {
  const ws = socket as unknown as WsInternals;
  const raw = ws._socket;
  if (!raw || !ws._sender || ws._sender._state !== 0 || ws._sender._queue.length) {
    socket.send(Buffer.concat([head, tail]), { binary: false }, cb);
    return;
  }
  const length = head.length + tail.length;
  if (headerFor.tail !== tail || headerFor.length !== length) headerFor = { tail, length, header: frameHeader(length) };
  raw.cork();
  raw.write(headerFor.header);
  raw.write(head);
  raw.write(tail, cb);
  raw.uncork();
}

/** FIN + text opcode, then the payload length in 7, 7+16 or 7+64 bits; server frames are not masked. */
function frameHeader(length: number): Buffer {
  if (length < 126) return Buffer.from([0x81, length]);
  if (length < 65536) {
    const h = Buffer.allocUnsafe(4);
    h[0] = 0x81; h[1] = 126; h.writeUInt16BE(length, 2);
    return h;
  }
  const h = Buffer.allocUnsafe(10);
  h[0] = 0x81; h[1] = 127; h.writeBigUInt64BE(BigInt(length), 2);
  return h;
}

/**
 * ws fixes maxPayload per socket when it opens (the small pre-authentication bound); an
 * authenticated socket gets the larger one. ws keeps it on the socket's receiver.
 */
function setMaxPayload(socket: WebSocket, bytes: number): void {
  const receiver = (socket as unknown as { _receiver?: { _maxPayload: number } })._receiver;
  if (receiver && typeof receiver._maxPayload === 'number') receiver._maxPayload = bytes;
}

/**
 * Browsers send Origin on websocket handshakes and do not apply CORS to them, so a page of
 * any site could open a socket with the user's network position (the embedded default lets
 * loopback callers read anonymously). Allowed: no Origin (not a browser), the gateway's own
 * origin (same host as the request's Host), loopback origins, and the configured list.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined || origin === '') return true;
  if (allowed.includes('*') || allowed.includes(origin)) return true;
  let u: URL;
  try { u = new URL(origin); } catch { return false; }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
  return isLoopbackHost(u.hostname) || (host !== undefined && u.host === host.toLowerCase());
}
