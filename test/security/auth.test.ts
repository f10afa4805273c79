import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { anonymousRole } from '../../src/auth/principal.js';
import { parseConfig } from '../../src/config/index.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { createKey, post, SHELL_BUILD, startJwks, storeCounts, strictGateway, waitFor, wsConnect } from './helpers.js';

const LIST = '{ builds(first: 5) { totalCount } }';
const CREATE = 'mutation($input: BuildInput!) { createBuild(input: { build: $input }) { build { id } } }';

describe('anonymous access defaults', () => {
  it('reads on loopback, refuses elsewhere, unless configured', () => {
    expect(anonymousRole(parseConfig({}))).toBe('viewer');
    expect(anonymousRole(parseConfig({ server: { host: '::1' } }))).toBe('viewer');
    expect(anonymousRole(parseConfig({ server: { host: '0.0.0.0' } }))).toBeNull();
    expect(anonymousRole(parseConfig({ server: { host: '10.1.2.3' } }))).toBeNull();
    expect(anonymousRole(parseConfig({ server: { host: '0.0.0.0' }, auth: { anonymous: 'viewer' } }))).toBe('viewer');
    expect(anonymousRole(parseConfig({ auth: { anonymous: 'none' } }))).toBeNull();
  });
});

describe('embedded default (loopback, anonymous viewer)', () => {
  let gw: TestGateway;
  beforeAll(async () => { gw = await startGateway({ config: { auth: { anonymous: undefined } } }); });
  afterAll(async () => { await gw?.close(); });

  it('anonymous reads but may not mutate; a bad credential is 401 even here', async () => {
    expect((await post(gw.url, { query: LIST })).json.data.builds.totalCount).toBe(0);
    const denied = await post(gw.url, { query: CREATE, variables: { input: SHELL_BUILD('x') } });
    expect(denied.json.errors[0].extensions.code).toBe('FORBIDDEN');
    expect((await storeCounts(gw)).builds).toBe(0);
    const bad = await post(gw.url, { query: LIST }, { authorization: 'Bearer bgk_nothere_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' });
    expect(bad.status).toBe(401);
    expect(bad.json.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });
});

describe('authentication with anonymous refused', () => {
  let gw: TestGateway;
  let jwks: Awaited<ReturnType<typeof startJwks>>;
  let privateKey: CryptoKey;
  let otherKey: CryptoKey;
  const ISS = 'https://idp.test/';
  const AUD = 'buildgate';

  beforeAll(async () => {
    otherKey = (await generateKeyPair('RS256')).privateKey;
    jwks = await startJwks();
    privateKey = jwks.privateKey;
    gw = await strictGateway({ auth: { jwt: { jwksUrl: jwks.url, issuer: ISS, audience: AUD, rolesClaim: 'realm_access.roles' } } });
  });
  afterAll(async () => { await gw?.close(); await jwks?.close(); });

  const jwt = (claims: Record<string, unknown>, opts: { key?: CryptoKey; aud?: string; exp?: string | number; iss?: string } = {}) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject('alice').setIssuer(opts.iss ?? ISS)
      .setAudience(opts.aud ?? AUD).setIssuedAt().setExpirationTime(opts.exp ?? '5m').sign(opts.key ?? privateKey);

  it('no credential: 401 UNAUTHENTICATED with WWW-Authenticate, nothing read', async () => {
    const r = await post(gw.url, { query: LIST });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(r.json.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(r.json.data).toBeUndefined();
    const get = await fetch(`${gw.url}?query=${encodeURIComponent(LIST)}`, { headers: { 'apollo-require-preflight': '1' } });
    expect(get.status).toBe(401);
  });

  it('the playground page still loads without a credential (it executes nothing)', async () => {
    const r = await fetch(gw.url, { headers: { accept: 'text/html' } });
    expect(r.status).toBe(200);
  });

  it('API keys: valid works, malformed / unknown / revoked are 401', async () => {
    const k = await createKey(gw, 'viewer');
    expect((await post(gw.url, { query: LIST }, k.auth)).json.data.builds.totalCount).toBe(0);
    for (const authorization of ['Basic abc', 'Bearer', `Bearer ${k.key}x`, 'Bearer bgk_', `Token ${k.key}`]) {
      const r = await post(gw.url, { query: LIST }, { authorization });
      expect([authorization, r.status]).toEqual([authorization, 401]);
    }
    const { ApiKeys } = await import('../../src/auth/api-keys.js');
    expect(await new ApiKeys(gw.server.store).revoke(k.id)).toBe(true);
    expect((await post(gw.url, { query: LIST }, k.auth)).status).toBe(401);
  });

  it('keys are stored hashed, never in clear', async () => {
    const k = await createKey(gw, 'admin');
    const rows = await (gw.server.store.db as any).selectFrom('api_keys').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(k.key.split('_').slice(2).join('_'));
  });

  it('JWT: roles from a nested claim; wrong signature, audience, issuer, expiry are 401; no role is 403', async () => {
    const op = await jwt({ realm_access: { roles: ['offline', 'operator'] } });
    expect((await post(gw.url, { query: LIST }, { authorization: `Bearer ${op}` })).status).toBe(200);
    const create = await post(gw.url, { query: CREATE, variables: { input: SHELL_BUILD('j') } }, { authorization: `Bearer ${op}` });
    expect(create.json.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(create.json.errors[0].message).toContain('jwt:alice');
    const admin = await jwt({ realm_access: { roles: ['admin'] } });
    const ok = await post(gw.url, { query: CREATE, variables: { input: SHELL_BUILD('j') } }, { authorization: `Bearer ${admin}` });
    expect(ok.json.errors).toBeUndefined();
    for (const bad of [
      await jwt({ realm_access: { roles: ['admin'] } }, { key: otherKey }),
      await jwt({ realm_access: { roles: ['admin'] } }, { aud: 'someone-else' }),
      await jwt({ realm_access: { roles: ['admin'] } }, { iss: 'https://evil/' }),
      await jwt({ realm_access: { roles: ['admin'] } }, { exp: Math.floor(Date.now() / 1000) - 3600 }),
      'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
    ]) {
      const r = await post(gw.url, { query: LIST }, { authorization: `Bearer ${bad}` });
      expect(r.status).toBe(401);
      expect(r.json.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    }
    const noRole = await post(gw.url, { query: LIST }, { authorization: `Bearer ${await jwt({ realm_access: { roles: ['offline'] } })}` });
    expect(noRole.status).toBe(403);
    expect(noRole.json.errors[0].extensions.code).toBe('FORBIDDEN');
  });

  it('graphql-ws: no or bad credential closes with 4401; a key in connectionParams or the upgrade header is accepted', async () => {
    expect((await wsConnect(gw.url, undefined)).outcome).toBe(4401);
    expect((await wsConnect(gw.url, { authorization: 'Bearer bgk_bad_bad' })).outcome).toBe(4401);
    expect((await wsConnect(gw.url, { authorization: 42 })).outcome).toBe(4401);
    const k = await createKey(gw, 'viewer');
    const a = await wsConnect(gw.url, { authorization: `Bearer ${k.key}` });
    expect(a.outcome).toBe('ack');
    a.socket.close();
    const b = await wsConnect(gw.url, {}, { authorization: `Bearer ${k.key}` });
    expect(b.outcome).toBe('ack');
    b.socket.close();
    const tok = await jwt({ realm_access: { roles: ['viewer'] } });
    const c = await wsConnect(gw.url, { authorization: `Bearer ${tok}` });
    expect(c.outcome).toBe('ack');
    c.socket.close();
  });

  it('the log download needs a credential too', async () => {
    const admin = await createKey(gw, 'admin');
    const b = await post(gw.url, { query: CREATE, variables: { input: SHELL_BUILD('dl') } }, admin.auth);
    const run = await post(gw.url, { query: 'mutation($id: ID!) { runBuild(input: { buildId: $id }) { run { id } } }', variables: { id: b.json.data.createBuild.build.id } }, admin.auth);
    const runId = run.json.data.runBuild.run.id as string;
    const base = gw.url.replace(/\/graphql$/, '');
    expect((await fetch(`${base}/logs/${runId}.txt`)).status).toBe(401);
    await waitFor(async () => (await fetch(`${base}/logs/${runId}.txt`, { headers: admin.auth })).status === 200);
    const scoped = await createKey(gw, 'viewer', ['elsewhere']);
    expect((await fetch(`${base}/logs/${runId}.txt`, { headers: scoped.auth })).status).toBe(403);
  });
});
