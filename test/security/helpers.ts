import http from 'node:http';
import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import WebSocket from 'ws';
import { ApiKeys } from '../../src/auth/api-keys.js';
import type { Role } from '../../src/auth/principal.js';
import type { ConfigInput } from '../../src/config/index.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

/** A gateway with the production posture: anonymous refused, limits on. */
export function strictGateway(config: ConfigInput = {}, database: 'sqlite' | 'postgres' = 'sqlite'): Promise<TestGateway> {
  return startGateway({ database, config: { ...config, auth: { anonymous: 'none', ...(config.auth ?? {}) }, limits: { mutationsPerMinute: 0, wsConnectsPerMinute: 0, ...(config.limits ?? {}) } } });
}

export async function createKey(gw: TestGateway, role: Role, providers: string[] | null = null): Promise<{ key: string; id: string; auth: Record<string, string> }> {
  const { key, info } = await new ApiKeys(gw.server.store).create({ role, providers, name: `test-${role}` });
  return { key, id: info.id, auth: { authorization: `Bearer ${key}` } };
}

export interface RawResponse { status: number; headers: Headers; text: string; json: any }

/** A POST with full control over body and headers; never throws on a non-JSON answer. */
export async function post(url: string, body: string | object, headers: Record<string, string> = {}): Promise<RawResponse> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, text, json };
}

/** Opens a graphql-transport-ws socket, sends connection_init, resolves with the close code or 'ack'. */
export function wsConnect(url: string, payload: unknown, headers: Record<string, string> = {}): Promise<{ outcome: 'ack' | number; reason: string; socket: WebSocket }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers });
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', ...(payload === undefined ? {} : { payload }) })));
    socket.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { type: string };
      if (msg.type === 'connection_ack') resolve({ outcome: 'ack', reason: '', socket });
    });
    socket.on('close', (code, reason) => resolve({ outcome: code, reason: String(reason), socket }));
    socket.on('error', reject);
  });
}

/** Row counts of every table a mutation could change. */
export async function storeCounts(gw: TestGateway): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of ['builds', 'build_steps', 'build_runs', 'step_runs', 'log_lines', 'image_tags', 'api_keys'] as const) {
    const r = await (gw.server.store.db as any).selectFrom(t).select((e: any) => e.fn.countAll().as('n')).executeTakeFirstOrThrow();
    out[t] = Number(r.n);
  }
  return out;
}

export const SHELL_BUILD = (name: string, command = 'echo hi') => ({ name, steps: [{ stepOrder: 1, stepType: 'SHELL', shell: { shellType: 'SCRIPT', command } }] });

export async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs = 15000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What one operation came back as, whichever transport carried it. */
export interface OperationOutcome { status?: number; data?: any; errors?: any[]; closed?: number }
export type Transport = 'http' | 'ws';
export const TRANSPORTS: readonly Transport[] = ['http', 'ws'];

/** Sends `body` as a subscribe message on an acknowledged graphql-transport-ws socket; resolves with its first result, its error, or the close code. */
export function wsOperation(socket: WebSocket, body: OperationBody, id = '1', timeoutMs = 15000): Promise<OperationOutcome> {
  return new Promise((resolve) => {
    const done = (o: OperationOutcome) => { clearTimeout(timer); socket.off('message', onMessage); socket.off('close', onClose); resolve(o); };
    const timer = setTimeout(() => done({ errors: [{ message: 'timed out', extensions: { code: 'TEST_TIMEOUT' } }] }), timeoutMs);
    const onMessage = (d: WebSocket.RawData) => {
      const m = JSON.parse(String(d)) as { id?: string; type: string; payload?: any };
      if (m.id !== id) return;
      if (m.type === 'next') done({ data: m.payload.data, errors: m.payload.errors });
      else if (m.type === 'error') done({ errors: m.payload });
      else if (m.type === 'complete') done({});
    };
    const onClose = (code: number) => done({ closed: code });
    socket.on('message', onMessage);
    socket.on('close', onClose);
    socket.send(`{"id":${JSON.stringify(id)},"type":"subscribe","payload":${bodyJson(body)}}`);
  });
}

/** An operation; `variablesJson` sends variables as this JSON text (values too deep for JSON.stringify). */
export interface OperationBody { query: string; variables?: unknown; operationName?: string; variablesJson?: string }
const bodyJson = ({ variablesJson, ...body }: OperationBody) =>
  (variablesJson === undefined ? JSON.stringify(body) : `${JSON.stringify(body).slice(0, -1)},"variables":${variablesJson}}`);

/** One operation over HTTP POST or over a fresh graphql-ws socket, as the same outcome shape. */
export async function operation(transport: Transport, url: string, auth: Record<string, string>, body: OperationBody): Promise<OperationOutcome> {
  if (transport === 'http') {
    const r = await post(url, bodyJson(body), auth);
    return { status: r.status, data: r.json?.data, errors: r.json?.errors };
  }
  const c = await wsConnect(url, auth.authorization ? { authorization: auth.authorization } : {});
  if (c.outcome !== 'ack') return { closed: c.outcome };
  try {
    return await wsOperation(c.socket, body);
  } finally {
    c.socket.close();
  }
}

/** Every message of every error of an outcome, as one string (for "never says X" checks). */
export const messagesOf = (o: OperationOutcome): string[] => (o.errors ?? []).map((e: { message: string }) => e.message);
export const codesOf = (o: OperationOutcome): string[] => (o.errors ?? []).map((e: { extensions?: { code?: string } }) => String(e.extensions?.code));

/** A JWKS endpoint serving one RS256 key (kid k1); sign tokens with `privateKey`. */
export async function startJwks(): Promise<{ url: string; privateKey: CryptoKey; close(): Promise<void> }> {
  const kp = await generateKeyPair('RS256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(kp.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const server = http.createServer((_req, res) => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ keys: [jwk] })); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as import('node:net').AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/jwks.json`, privateKey: kp.privateKey, close: () => new Promise((r) => server.close(() => r())) };
}
