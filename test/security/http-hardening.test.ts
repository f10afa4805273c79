import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseConfig } from '../../src/config/index.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { codesOf, createKey, messagesOf, operation, post, SHELL_BUILD, strictGateway, TRANSPORTS } from './helpers.js';

describe('/readyz', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ config: { auth: { anonymous: undefined }, providers: [{ id: 'quay-hidden', kind: 'QUAY', baseUrl: 'http://127.0.0.1:9', retries: 0, options: { token: 't', repositories: ['org/app'] } }] } });
  });
  afterAll(async () => { await gw?.close(); });

  it('tells anyone only whether it is ready; provider ids and health go to credentials that may see them', async () => {
    const url = gw.url.replace(/\/graphql$/, '/readyz');
    const anon = await fetch(url);
    expect(anon.status).toBe(200);
    expect(await anon.json()).toEqual({ status: 'ready' });
    const bad = await fetch(url, { headers: { authorization: 'Bearer bgk_nothere_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' } });
    expect(await bad.json()).toEqual({ status: 'ready' });
    const viewer = await createKey(gw, 'viewer');
    const seen = (await (await fetch(url, { headers: viewer.auth })).json()) as { providers: Array<{ id: string }> };
    expect(seen.providers.map((p) => p.id).sort()).toEqual(['native', 'quay-hidden']);
    const scoped = await createKey(gw, 'viewer', ['native']);
    expect(((await (await fetch(url, { headers: scoped.auth })).json()) as { providers: Array<{ id: string }> }).providers.map((p) => p.id)).toEqual(['native']);
  });
});

describe('mutations refused with 401 are audited', () => {
  let gw: TestGateway;
  beforeAll(async () => { gw = await strictGateway(); });
  afterAll(async () => { await gw?.close(); });

  it('one entry per mutation field, outcome UNAUTHENTICATED, neither the credential nor secrets stored; queries are not audited', async () => {
    const input = { ...SHELL_BUILD('refused'), buildServerClientKey: 'REFUSED-SECRET-1' };
    const noCred = await post(gw.url, { query: 'mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id } } }', variables: { i: input } }, { 'x-request-id': 'refused-1' });
    expect(noCred.status).toBe(401);
    const badKey = 'bgk_nothere_BADSECRETxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx';
    const bad = await post(gw.url, { query: 'mutation { a: deleteBuild(input: { buildId: "YmcxfG5hdGl2ZXxCdWlsZHw5" }) { deletedBuildId } b: runBuild(input: { buildId: "YmcxfG5hdGl2ZXxCdWlsZHw5" }) { run { id } } }' }, { authorization: `Bearer ${badKey}` });
    expect(bad.status).toBe(401);
    expect((await post(gw.url, { query: '{ builds { totalCount } }' })).status).toBe(401);
    const admin = await createKey(gw, 'admin');
    const log = await post(gw.url, { query: '{ auditLog(first: 10) { totalCount edges { node { actor operation targetId arguments outcome requestId } } } }' }, admin.auth);
    const entries = log.json.data.auditLog.edges.map((e: any) => e.node);
    expect(entries.map((e: any) => `${e.operation}:${e.outcome}`).sort()).toEqual(['createBuild:UNAUTHENTICATED', 'deleteBuild:UNAUTHENTICATED', 'runBuild:UNAUTHENTICATED']);
    expect(entries.find((e: any) => e.operation === 'createBuild')).toMatchObject({ actor: 'unauthenticated@127.0.0.1', targetId: null, requestId: 'refused-1' });
    expect(entries.find((e: any) => e.operation === 'deleteBuild').targetId).toBe('YmcxfG5hdGl2ZXxCdWlsZHw5');
    const text = JSON.stringify(log.json);
    expect(text).not.toContain('REFUSED-SECRET-1');
    expect(text).not.toContain('BADSECRET');
  });
});

describe.each(TRANSPORTS)('default limits over %s', (transport) => {
  let gw: TestGateway;
  let auth: Record<string, string>;
  beforeAll(async () => { gw = await strictGateway({ limits: { maxCost: undefined } }); auth = (await createKey(gw, 'viewer')).auth; });
  afterAll(async () => { await gw?.close(); });

  it('the nested page query of the report, with n = 100 as a variable, is refused like its literal twin; n = 2 runs', async () => {
    const query = 'query($n: Int) { builds(first: $n) { edges { node { runs(first: $n) { edges { node { build { runs(first: $n) { edges { node { id state } } } } } } } } } } }';
    const literal = await operation(transport, gw.url, auth, { query: query.replace('query($n: Int) ', '').replaceAll('$n', '100') });
    expect(messagesOf(literal)[0]).toMatch(/Cost limit of 250000 exceeded/);
    const big = await operation(transport, gw.url, auth, { query, variables: { n: 100 } });
    expect(codesOf(big)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(messagesOf(big)[0]).toMatch(/Cost limit of 250000 exceeded/);
    const small = await operation(transport, gw.url, auth, { query, variables: { n: 2 } });
    expect(small.errors).toBeUndefined();
  });

  it('the cost with variables is kept per document and page size: the same text alternating small and large pages is judged each time', async () => {
    const query = 'query($n: Int, $m: Int) { builds(first: $n) { edges { node { runs(first: $m) { edges { node { build { runs(first: $n) { edges { node { id } } } } } } } } } } }';
    for (const [n, m] of [[2, 2], [100, 100], [2, 2], [2, 100], [100, 100], [2, 100]] as const) {
      const r = await operation(transport, gw.url, auth, { query, variables: { n, m } });
      if (n === 100) expect([n, m, codesOf(r)]).toEqual([n, m, ['GRAPHQL_VALIDATION_FAILED']]);
      else expect([n, m, r.errors]).toEqual([n, m, undefined]);
    }
  });
});

describe('docs/production.md', () => {
  it('states the defaults the configuration has', () => {
    const doc = fs.readFileSync(path.join(process.cwd(), 'docs', 'production.md'), 'utf8');
    const defaults = parseConfig({}).limits as Record<string, unknown>;
    const rows = [...doc.matchAll(/^\| `(\w+)` \| ([^|]+) \|/gm)].filter(([, key]) => key! in defaults);
    expect(rows.length).toBeGreaterThanOrEqual(9);
    for (const [, key, stated] of rows) expect([key, stated!.trim()]).toEqual([key, String(defaults[key!])]);
  });
});
