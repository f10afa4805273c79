import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { TestGateway } from '../support/gateway.js';
import { createKey, post, strictGateway } from './helpers.js';

const nest = (depth: number) => {
  // build(1) { lastRun(2) { build(3) { ... id(depth) } } }
  let q = 'id';
  for (let d = depth - 1; d >= 2; d--) q = `${d % 2 === 0 ? 'lastRun' : 'build'} { ${q} }`;
  return `{ build(id: "x") { ${q} } }`;
};
const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: providers { id }`).join(' ')} }`;
const directives = (n: number) => `{ providers { ${Array.from({ length: n }, (_, i) => `f${i}: id @include(if: true)`).join(' ')} } }`;
const typenames = (n: number) => `{ ${'__typename '.repeat(n)}}`; // n + 2 tokens, cost n

const LIMITS = { maxDepth: 6, maxAliases: 4, maxDirectives: 3, maxTokens: 200, maxCost: 150 };

describe('operation limits (graphql-armor + parser token limit), HTTP and graphql-ws', () => {
  let gw: TestGateway;
  let auth: Record<string, string>;
  beforeAll(async () => {
    gw = await strictGateway({ limits: LIMITS, server: { introspection: false, fieldSuggestions: false } });
    auth = (await createKey(gw, 'viewer')).auth;
  });
  afterAll(async () => { await gw?.close(); });

  const cases: Array<[string, string, string, RegExp]> = [
    ['maxDepth', nest(6), nest(7), /depth limit of 6/],
    ['maxAliases', aliases(4), aliases(5), /Aliases limit of 4/i],
    ['maxDirectives', directives(3), directives(4), /Directives limit of 3/i],
    ['maxTokens', typenames(148), typenames(199), /more tha.? 200 tokens/],
    ['maxCost', typenames(150), typenames(151), /Cost limit of 150/i],
  ];

  for (const [name, under, over, message] of cases) {
    it(`${name}: just under passes, just over is a 400 before execution`, async () => {
      const ok = await post(gw.url, { query: under }, auth);
      expect(ok.json.errors?.filter((e: any) => /GRAPHQL_(VALIDATION|PARSE)_FAILED/.test(e.extensions.code)) ?? []).toEqual([]);
      const bad = await post(gw.url, { query: over }, auth);
      expect(bad.status).toBe(400);
      expect(bad.json.errors[0].message).toMatch(message);
      // Only the token limit stops the parser; the others refuse a query that parsed.
      if (name !== 'maxTokens') expect(bad.json.errors[0].message).not.toMatch(/^Syntax Error/);
      expect(bad.json.data).toBeUndefined();
    });
  }

  it('the same limits hold over graphql-ws', async () => {
    const client = createClient({ url: gw.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: auth, retryAttempts: 0 });
    const run = (query: string) => new Promise<any>((resolve) => {
      client.subscribe({ query }, { next: resolve, error: resolve, complete: () => undefined });
    });
    for (const [, under, over, message] of cases) {
      const bad = await run(over);
      expect(Array.isArray(bad) ? bad[0].message : JSON.stringify(bad)).toMatch(message);
      const ok = await run(under);
      expect(JSON.stringify(ok)).not.toMatch(/limit of|tokens/);
    }
    const syntax = await run('{ providers { ');
    expect(syntax[0].extensions.code).toBe('GRAPHQL_PARSE_FAILED');
    await client.dispose();
  });

  it('batched HTTP requests are refused by default', async () => {
    const r = await post(gw.url, [{ query: '{ __typename }' }, { query: '{ __typename }' }], auth);
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/batch/i);
  });

  it('introspection off and field suggestions masked, over HTTP and graphql-ws', async () => {
    const i = await post(gw.url, { query: '{ __schema { types { name } } }' }, auth);
    expect(i.status).toBe(400);
    expect(i.text).toMatch(/introspection/i);
    const s = await post(gw.url, { query: '{ buildz { totalCount } }' }, auth);
    expect(s.status).toBe(400);
    expect(s.text).not.toMatch(/Did you mean/);
    const client = createClient({ url: gw.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: auth, retryAttempts: 0 });
    const w = await new Promise<any>((resolve) => client.subscribe({ query: '{ buildz { totalCount } }' }, { next: resolve, error: resolve, complete: () => undefined }));
    expect(JSON.stringify(w)).toMatch(/Cannot query field/);
    expect(JSON.stringify(w)).not.toMatch(/Did you mean/);
    await client.dispose();
  });

  it('CSRF prevention: a simple GET without a preflight header executes nothing', async () => {
    const r = await fetch(`${gw.url}?query=${encodeURIComponent('{ __typename }')}`, { headers: auth });
    expect(r.status).toBe(400);
  });
});

describe('defaults', () => {
  let gw: TestGateway;
  beforeAll(async () => { gw = await strictGateway({ limits: { batchedRequests: true } }); });
  afterAll(async () => { await gw?.close(); });

  it('every example operation of the playground passes the default limits; suggestions and introspection are on', async () => {
    const { auth } = await createKey(gw, 'viewer');
    const dir = path.join(process.cwd(), 'schema', 'operations');
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.graphql'))) {
      const r = await post(gw.url, { query: fs.readFileSync(path.join(dir, f), 'utf8') }, auth);
      const limitErrors = (r.json?.errors ?? []).filter((e: any) => /limit|tokens/.test(e.message));
      expect([f, limitErrors]).toEqual([f, []]);
    }
    expect((await post(gw.url, { query: '{ buildz { totalCount } }' }, auth)).text).toMatch(/Did you mean/);
    expect((await post(gw.url, { query: '{ __schema { queryType { name } } }' }, auth)).status).toBe(200);
  });

  it('maxTokens default 2000: exactly 2000 tokens pass, 2001 fail', async () => {
    const { auth } = await createKey(gw, 'viewer');
    // 12 tokens around n string tokens (commas are not tokens).
    const ids = (n: number) => `{ nodes(ids: [${Array.from({ length: n }, () => '"x"').join(',')}]) { id } }`;
    const ok = await post(gw.url, { query: ids(1988) }, auth);
    expect(ok.status).toBe(200);
    expect(ok.json.errors[0].extensions.code).not.toMatch(/GRAPHQL_/); // executed: the resolver refuses > 100 ids
    const bad = await post(gw.url, { query: ids(1989) }, auth);
    expect(bad.status).toBe(400);
    expect(bad.json.errors[0].message).toMatch(/more tha.? 2000 tokens/);
  });

  it('page sizes are capped (limits.maxPageSize)', async () => {
    const { auth } = await createKey(gw, 'viewer');
    expect((await post(gw.url, { query: '{ builds(first: 100) { totalCount } }' }, auth)).json.errors).toBeUndefined();
    const r = await post(gw.url, { query: '{ builds(first: 101) { totalCount } }' }, auth);
    expect(r.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('batching can be switched on', async () => {
    const { auth } = await createKey(gw, 'viewer');
    const r = await post(gw.url, [{ query: '{ __typename }' }, { query: '{ __typename }' }], auth);
    expect(r.status).toBe(200);
    expect(r.json).toHaveLength(2);
  });
});
