import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildSchema, getNamedType, isEnumType, isInputObjectType, isListType, isNonNullType, isScalarType, type GraphQLArgument, type GraphQLField, type GraphQLInputType } from 'graphql';
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import type { TestGateway } from '../support/gateway.js';
import { createKey, strictGateway } from './helpers.js';

/** Deterministic PRNG so a failure can be replayed (seed printed on failure). */
function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(a: readonly T[]): T => a[Math.floor(next() * a.length)]! };
}
const SEED = Number(process.env.FUZZ_SEED ?? 1234);
const R = rng(SEED);

const NASTY = ['', ' ', 'null', '\u0000', '💥'.repeat(50), 'x'.repeat(100_000), '../../etc/passwd', '${jndi:ldap://x}', "'; drop table builds; --", '<script>', 'YmcxfG5hdGl2ZXxCdWlsZHwx',
  'YmcxfG5hdGl2ZXxCdWlsZFJ1bnwx', 'YmcxfHx8', 'bg1|native|Build|1', 'http://169.254.169.254/latest', 'file:///etc/passwd', '-1', '1e309'];
const NUMS = [0, -1, 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 1.5, Number.MAX_SAFE_INTEGER];

/** A random (often wrong) value for an input type: right shape sometimes, anything otherwise. */
function value(t: GraphQLInputType, depth = 0): unknown {
  if (R.next() < 0.15) return R.pick<unknown>([null, R.pick(NASTY), R.pick(NUMS), true, [], {}, [[[]]], { a: { b: 1 } }]);
  if (isNonNullType(t)) return value(t.ofType, depth);
  if (isListType(t)) return depth > 3 ? [] : Array.from({ length: R.int(3) }, () => value(t.ofType, depth + 1));
  const n = getNamedType(t);
  if (isEnumType(n)) return R.next() < 0.8 ? R.pick(n.getValues()).name : 'NOT_A_VALUE';
  if (isInputObjectType(n)) {
    if (depth > 4) return {};
    const out: Record<string, unknown> = {};
    for (const f of Object.values(n.getFields())) if (isNonNullType(f.type) || R.next() < 0.5) out[f.name] = value(f.type, depth + 1);
    return out;
  }
  if (isScalarType(n)) {
    if (n.name === 'Int' || n.name === 'Float') return R.pick(NUMS);
    if (n.name === 'Boolean') return R.next() < 0.5;
    return R.pick(NASTY);
  }
  return null;
}

function selection(field: GraphQLField<unknown, unknown>): string {
  const t = getNamedType(field.type);
  if (isScalarType(t) || isEnumType(t)) return '';
  return ' { __typename }';
}

function operation(kind: 'query' | 'mutation' | 'subscription', fields: Record<string, GraphQLField<unknown, unknown>>): { query: string; variables: Record<string, unknown> } {
  const f = R.pick(Object.values(fields));
  const defs = f.args.map((a: GraphQLArgument) => `$${a.name}: ${a.type.toString()}`);
  const variables = Object.fromEntries(f.args.filter(() => R.next() < 0.9).map((a) => [a.name, value(a.type)]));
  const args = f.args.length ? `(${f.args.map((a) => `${a.name}: $${a.name}`).join(', ')})` : '';
  return { query: `${kind}${defs.length ? `(${defs.join(', ')})` : ''} { ${f.name}${args}${selection(f)} }`, variables };
}

describe(`fuzzing the endpoint (seed ${SEED})`, () => {
  let gw: TestGateway;
  let auth: Record<string, string>;
  const statuses = new Map<number, number>();
  const internalErrors: string[] = [];
  let sent = 0;

  beforeAll(async () => {
    gw = await strictGateway({ limits: { mutationsPerMinute: 0, wsConnectsPerMinute: 0 } });
    auth = (await createKey(gw, 'admin')).auth;
  });
  afterAll(async () => { await gw?.close(); });

  async function send(body: string | Buffer, headers: Record<string, string> = {}, method = 'POST', query = '') {
    sent++;
    const res = await fetch(gw.url + query, { method, headers: { 'content-type': 'application/json', ...auth, ...headers }, body: method === 'GET' ? undefined : body });
    const text = await res.text();
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    if (res.status >= 500 || /INTERNAL_SERVER_ERROR/.test(text)) internalErrors.push(`${res.status} ${String(body).slice(0, 300)} -> ${text.slice(0, 300)}`);
  }

  it('survives 1,000+ hostile HTTP requests without a 5xx', async () => {
    const schema = buildSchema(fs.readFileSync(path.join(process.cwd(), 'schema', 'schema.graphql'), 'utf8'));
    const q = schema.getQueryType()!.getFields();
    const m = schema.getMutationType()!.getFields();
    for (let i = 0; i < 700; i++) {
      const isQuery = R.next() < 0.5;
      // Mostly the right operation kind for the field; sometimes not (a validation error).
      const kind = R.next() < 0.9 ? (isQuery ? 'query' : 'mutation') : R.pick(['query', 'mutation', 'subscription'] as const);
      await send(JSON.stringify(operation(kind, isQuery ? q : m)));
    }
    const broken = ['{', '{"query":', '[', '{"query": 1}', '{"query": null}', '{"query": "{ builds { totalCount } }", "variables": "x"}', '{"query": "{ builds { totalCount } }", "variables": [1]}',
      '{"query": "{ builds { totalCount } }", "operationName": 5}', '{"query": "{ builds { totalCount } }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "00"}}}', 'null', '1', '"str"', '[]', '[{}]', '{"__proto__": {"x": 1}, "query": "{ __typename }"}',
      '{"query": "mutation { deleteBuild(input: { buildId: \\"YmcxfG5hdGl2ZXxCdWlsZHwx\\" }) { deletedBuildId } } query Q { __typename }"}', '{"query": "subscription { buildsChanged { kind } }"}', '\u0000\u0001\u0002', '{"query": "{ __typename }"}'.repeat(3)];
    for (let i = 0; i < 200; i++) await send(R.pick(broken));
    for (let i = 0; i < 60; i++) {
      const depth = 1 + R.int(1200);
      await send(JSON.stringify({ query: `${'{ build(id: "x") { lastRun '.repeat(1)}${'{ build '.repeat(depth)}{ id }${' }'.repeat(depth + 2)}` }));
    }
    for (let i = 0; i < 20; i++) await send(JSON.stringify({ query: `{ builds(filter: { nameContains: "${'a'.repeat(R.int(1_200_000))}" }) { totalCount } }` }));
    for (let i = 0; i < 20; i++) await send(JSON.stringify({ query: `{ ${Array.from({ length: 50 + R.int(500) }, (_, k) => `a${k}: builds { totalCount }`).join(' ')} }` }));
    const types = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/graphql', 'application/json; charset=utf-16', 'application/xml', ''];
    for (let i = 0; i < 60; i++) await send('{"query":"{ __typename }"}', { 'content-type': R.pick(types) });
    for (let i = 0; i < 30; i++) await send('', { 'apollo-require-preflight': '1' }, 'GET', `?query=${encodeURIComponent(R.pick(['{ __typename }', 'mutation { deleteBuild(input: { buildId: "x" }) { deletedBuildId } }', '{', '']))}&variables=${encodeURIComponent(R.pick(['{', '[]', '{"a":1}']))}`);
    for (let i = 0; i < 30; i++) await send('{"query":"{ __typename }"}', { authorization: R.pick(['Bearer', 'Bearer ' + 'x'.repeat(5000), 'Basic Og==', 'Bearer eyJ.eyJ.sig', 'Bearer bgk_\u00ff', '\t']) });
    expect(sent).toBeGreaterThanOrEqual(1000);
    expect([...statuses.keys()].filter((s) => s >= 500)).toEqual([]);
    expect(internalErrors).toEqual([]);
  }, 120_000);

  it('survives 300 bad websocket messages: every socket is answered or closed with a 4xxx code, never 1011/4500', async () => {
    const closes = new Map<number, number>();
    const messages = [
      'not json', '{}', '[]', 'null', '{"type":"subscribe"}', '{"type":"subscribe","id":"1","payload":{"query":"{ __typename }"}}',
      '{"type":"connection_init","payload":"str"}', '{"type":"connection_init","payload":{"authorization":["a"]}}', '{"type":"ping","payload":1}', '{"type":"unknown"}',
      JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer ' + 'x'.repeat(100_000) } }),
    ];
    const afterInit = [
      '{"type":"subscribe","id":"1","payload":{"query":"{"}}', '{"type":"subscribe","id":"1","payload":{"query":5}}', '{"type":"subscribe","id":"1","payload":{}}',
      '{"type":"subscribe","id":"1","payload":{"query":"subscription { runLog(runId: \\"x\\") { lastSeq } }"}}', '{"type":"subscribe","id":"1","payload":{"query":"{ __typename }","variables":"x"}}',
      '{"type":"subscribe","id":"1","payload":{"query":"subscription { buildsChanged { kind } }"}}{"type":"subscribe","id":"1"}', '{"type":"complete","id":"nope"}',
      JSON.stringify({ type: 'subscribe', id: '2', payload: { query: `{ ${'{ build '.repeat(900)} }` } }), '{"type":"connection_init"}',
    ];
    // Attack classes beside the malformed messages: foreign Origins (refused with 403 before the
    // upgrade), frames over the pre-authentication bound (closed 1009), and many operations on one socket.
    const origins = ['http://evil.example', 'null', 'https://127.0.0.1.evil.example', 'http://localhost:1', ''];
    let foreignRefused = 0; let foreignTried = 0;
    for (let i = 0; i < 300; i++) {
      const code = await new Promise<number>((resolve) => {
        const bogus = R.next() < 0.1;
        const origin = R.next() < 0.15 ? R.pick(origins) : undefined;
        const foreign = origin !== undefined && origin !== '' && !origin.startsWith('http://localhost');
        if (foreign) foreignTried++;
        const ws = new WebSocket(gw.url.replace(/^http/, 'ws'), bogus ? 'bogus' : 'graphql-transport-ws', origin ? { headers: { origin } } : {});
        const timer = setTimeout(() => { ws.close(); resolve(0); }, 3000);
        ws.on('open', () => {
          const authed = R.next() < 0.6;
          if (authed) ws.send(JSON.stringify({ type: 'connection_init', payload: auth }));
          const pool = authed ? afterInit : messages;
          for (let k = 0; k < 1 + R.int(3); k++) {
            const r = R.next();
            if (r < 0.05 && !authed) ws.send('x'.repeat(100_000 + R.int(1_000_000)));
            else if (r < 0.1 && authed) for (let s = 0; s < 150; s++) ws.send(JSON.stringify({ id: `m${s}`, type: 'subscribe', payload: { query: 'subscription { buildsChanged { kind } }' } }));
            else ws.send(r < 0.15 ? Buffer.from([0xff, 0x00, 0x13]) : R.pick(pool));
          }
          setTimeout(() => ws.close(1000), 50);
        });
        ws.on('close', (c) => { clearTimeout(timer); resolve(c); });
        ws.on('unexpected-response', (_req, res) => { clearTimeout(timer); res.resume(); if (foreign && res.statusCode === 403) foreignRefused++; resolve(-(res.statusCode ?? 1)); });
        // An unknown subprotocol is refused in the handshake: the client errors, the server is fine.
        ws.on('error', () => { clearTimeout(timer); resolve(bogus ? -2 : -1); });
      });
      closes.set(code, (closes.get(code) ?? 0) + 1);
    }
    expect(foreignRefused).toBe(foreignTried);
    expect(closes.get(-403) ?? 0).toBe(foreignTried);
    expect(closes.get(1011) ?? 0).toBe(0);
    expect(closes.get(4500) ?? 0).toBe(0);
    expect(closes.get(-1) ?? 0).toBe(0);
    console.info(`fuzz: HTTP ${sent} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}; websocket closes ${JSON.stringify(Object.fromEntries(closes))}`);
  }, 120_000);

  it('is healthy afterwards', async () => {
    expect((await fetch(gw.url.replace('/graphql', '/healthz'))).status).toBe(200);
    const r = await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ query: '{ builds { totalCount } providers { providerId } }' }) });
    expect(r.status).toBe(200);
    expect(((await r.json()) as any).data.providers[0].providerId).toBe('native');
  });
});
