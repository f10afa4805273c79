import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApiKeys } from '../../src/auth/api-keys.js';
import type { TestGateway } from '../support/gateway.js';
import { codesOf, createKey, messagesOf, operation, SHELL_BUILD, strictGateway, TRANSPORTS, wsConnect, wsOperation, type OperationBody, type Transport } from './helpers.js';

/**
 * The parity suite: every protection of the operation pipeline, asserted the same way over
 * HTTP POST and over graphql-ws. A protection that holds on one transport only fails here.
 */
const LIMITS = { maxDepth: 6, maxAliases: 4, maxDirectives: 3, maxTokens: 200, maxCost: 150 };
const nest = (depth: number) => {
  let q = 'id';
  for (let d = depth - 1; d >= 2; d--) q = `${d % 2 === 0 ? 'lastRun' : 'build'} { ${q} }`;
  return `{ build(id: "x") { ${q} } }`;
};
const REQUEST_ERROR = /^GRAPHQL_(VALIDATION|PARSE)_FAILED$/;

describe.each(TRANSPORTS)('the operation pipeline over %s', (transport: Transport) => {
  let gw: TestGateway;
  let viewer: Record<string, string>;
  let admin: Record<string, string>;
  beforeAll(async () => {
    gw = await strictGateway({ limits: LIMITS, server: { introspection: false, fieldSuggestions: false } });
    viewer = (await createKey(gw, 'viewer')).auth;
    admin = (await createKey(gw, 'admin')).auth;
  });
  afterAll(async () => { await gw?.close(); });
  const op = (body: OperationBody, auth = viewer) => operation(transport, gw.url, auth, body);

  it('static limits: depth, aliases, directives, tokens, cost', async () => {
    const over = [nest(7), `{ ${Array.from({ length: 5 }, (_, i) => `a${i}: providers { id }`).join(' ')} }`,
      `{ providers { ${Array.from({ length: 4 }, (_, i) => `f${i}: id @include(if: true)`).join(' ')} } }`, `{ ${'__typename '.repeat(199)}}`, `{ ${'__typename '.repeat(151)}}`];
    for (const query of over) {
      const r = await op({ query });
      expect([query.slice(0, 40), codesOf(r)[0]]).toEqual([query.slice(0, 40), expect.stringMatching(REQUEST_ERROR)]);
      expect(r.data ?? undefined).toBeUndefined();
    }
    expect(codesOf(await op({ query: nest(6) }))).not.toContainEqual(expect.stringMatching(REQUEST_ERROR));
  });

  it('cost counts `first: $n` with the value of $n (variables coerced before the cost check), defaults included', async () => {
    const query = 'query($n: Int) { builds(first: $n) { totalCount } }';
    const small = await op({ query, variables: { n: 10 } });
    expect(small.errors).toBeUndefined();
    expect(small.data.builds.totalCount).toBe(0);
    const big = await op({ query, variables: { n: 100 } });
    expect(codesOf(big)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(messagesOf(big)[0]).toMatch(/Cost limit of 150 exceeded, found 350/);
    expect(big.data ?? undefined).toBeUndefined();
    if (transport === 'http') expect(big.status).toBe(400);
    const byDefault = await op({ query: 'query($n: Int = 100) { builds(first: $n) { totalCount } }' });
    expect(codesOf(byDefault)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    // Inside a fragment too: the same count as the literal would give.
    const fragment = await op({ query: 'query($n: Int) { ...F } fragment F on Query { builds(last: $n) { totalCount } }', variables: { n: 100 } });
    expect(codesOf(fragment)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it('introspection off: __schema and __type are refused; __typename still answers', async () => {
    for (const query of ['{ __schema { types { name } } }', '{ __type(name: "Build") { name fields { name } } }']) {
      const r = await op({ query });
      expect([query, codesOf(r)]).toEqual([query, ['GRAPHQL_VALIDATION_FAILED']]);
      expect(messagesOf(r)[0]).toMatch(/introspection/i);
      expect(r.data ?? undefined).toBeUndefined();
    }
    expect((await op({ query: '{ __typename }' })).data).toEqual({ __typename: 'Query' });
  });

  it('suggestions masked everywhere: fields, arguments, enum values in literals and in variables; no stray " ?"', async () => {
    const cases = [
      { query: '{ buildz { totalCount } }' },
      { query: '{ builds(firs: 1) { totalCount } }' },
      { query: '{ builds(order: ASCX) { totalCount } }' },
      { query: 'query($o: SortOrder!) { builds(order: $o) { totalCount } }', variables: { o: 'ASCX' } },
      { query: 'query($f: BuildFilterInput) { builds(filter: $f) { totalCount } }', variables: { f: { nameContain: 'x' } } },
    ];
    for (const c of cases) {
      const r = await op(c);
      const text = messagesOf(r).join('\n');
      expect([c.query, r.errors?.length ?? 0]).toEqual([c.query, 1]);
      expect(text).not.toMatch(/Did you mean|\s\?|ASC"|nameContains/);
    }
  });

  it('variable errors: BAD_USER_INPUT, and the value is not echoed', async () => {
    const r = await op({ query: 'query($n: Int) { builds(first: $n) { totalCount } }', variables: { n: 'pw-Hunter2' } });
    expect(codesOf(r)).toEqual(['BAD_USER_INPUT']);
    expect(JSON.stringify(r)).not.toContain('Hunter2');
  });

  it('variables nested 100,000 levels deep: BAD_USER_INPUT, never a 5xx or an internal error', async () => {
    const deep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    for (const body of [
      { query: 'mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id } } }', variablesJson: `{"i":${deep}}` },
      { query: 'query($f: BuildFilterInput) { builds(filter: $f) { totalCount } }', variablesJson: `{"f":${deep}}` },
    ]) {
      const r = await op(body, admin);
      expect(r.closed).toBeUndefined();
      if (transport === 'http') expect(r.status).toBe(400);
      expect(codesOf(r)).toEqual(['BAD_USER_INPUT']);
    }
    expect((await op({ query: '{ builds { totalCount } }' })).data.builds.totalCount).toBe(0);
  });

  it('roles: a viewer may not mutate', async () => {
    const r = await op({ query: 'mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id } } }', variables: { i: SHELL_BUILD('p') } });
    expect(codesOf(r)).toEqual(['FORBIDDEN']);
  });

  it('a revoked API key does nothing more: refused on the next operation, also on a connection opened before', async () => {
    const k = await createKey(gw, 'operator');
    let open: Awaited<ReturnType<typeof wsConnect>> | null = null;
    if (transport === 'ws') {
      open = await wsConnect(gw.url, { authorization: k.auth.authorization });
      expect(open.outcome).toBe('ack');
      expect((await wsOperation(open.socket, { query: '{ builds { totalCount } }' })).data.builds.totalCount).toBe(0);
    }
    await new ApiKeys(gw.server.store).revoke(k.id); // as `buildgate keys revoke` does: another process, the same store
    // A mutation, refused before it runs, and audited as refused.
    const mutation = { query: 'mutation($id: ID!) { runBuild(input: { buildId: $id }) { run { id } } }', variables: { id: `revoked-${transport}` } };
    if (transport === 'http') {
      const r = await op(mutation, k.auth);
      expect(r.status).toBe(401);
      expect(codesOf(r)).toEqual(['UNAUTHENTICATED']);
    } else {
      const r = await wsOperation(open!.socket, mutation, '2');
      expect(r).toEqual({ closed: 4403 });
      expect((await op({ query: '{ builds { totalCount } }' }, k.auth)).closed).toBe(4401);
    }
    const log = await operation('http', gw.url, admin, { query: '{ auditLog(first: 3) { edges { node { operation targetId outcome } } } }' });
    expect(log.data.auditLog.edges.map((e: any) => e.node)).toContainEqual({ operation: 'runBuild', targetId: `revoked-${transport}`, outcome: 'UNAUTHENTICATED' });
  });
});
