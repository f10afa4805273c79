import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { TestGateway } from '../support/gateway.js';
import { createKey, operation, post, SHELL_BUILD, storeCounts, strictGateway, TRANSPORTS, waitFor } from './helpers.js';

type Auth = Record<string, string>;
const ZADIG_INPUT = { name: 'z', infrastructure: 'KUBERNETES', buildOs: 'focal', installs: [], scriptType: 'SHELL', buildScript: 'make', services: [] };
const ZADIG_TEMPLATE = { name: 'z', templateName: 't', targetServices: [{ serviceName: 's', serviceModule: 'm', repoInfo: [], inputs: [] }] };

/** Every mutation of the schema, with arguments that would succeed (or reach the provider) if allowed. */
function mutations(ids: { build: string; run: string; key?: string }): Array<{ name: string; role: 'operator' | 'admin'; query: string; variables: object }> {
  return [
    { name: 'createBuild', role: 'admin', query: 'mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id } } }', variables: { i: SHELL_BUILD('new') } },
    { name: 'updateBuild', role: 'admin', query: 'mutation($id: ID!, $i: BuildInput!) { updateBuild(input: { buildId: $id, build: $i }) { build { id } } }', variables: { id: ids.build, i: SHELL_BUILD('renamed') } },
    { name: 'deleteBuild', role: 'admin', query: 'mutation($id: ID!) { deleteBuild(input: { buildId: $id }) { deletedBuildId } }', variables: { id: ids.build } },
    { name: 'runBuild', role: 'operator', query: 'mutation($id: ID!) { runBuild(input: { buildId: $id }) { run { id } } }', variables: { id: ids.build } },
    { name: 'cancelRun', role: 'operator', query: 'mutation($id: ID!) { cancelRun(input: { runId: $id }) { run { id } } }', variables: { id: ids.run } },
    { name: 'removeRun', role: 'operator', query: 'mutation($id: ID!) { removeRun(input: { runId: $id }) { removedRunId } }', variables: { id: ids.run } },
    { name: 'createZadigBuild', role: 'admin', query: 'mutation($i: ZadigBuildInput!) { createZadigBuild(input: { providerId: "native", projectKey: "p", build: $i }) { build { id } } }', variables: { i: ZADIG_INPUT } },
    { name: 'updateZadigBuild', role: 'admin', query: 'mutation($i: ZadigBuildInput!) { updateZadigBuild(input: { providerId: "native", projectKey: "p", build: $i }) { build { id } } }', variables: { i: ZADIG_INPUT } },
    { name: 'createZadigBuildFromTemplate', role: 'admin', query: 'mutation($i: ZadigTemplateBuildInput!) { createZadigBuildFromTemplate(input: { providerId: "native", projectKey: "p", build: $i }) { build { id } } }', variables: { i: ZADIG_TEMPLATE } },
    { name: 'updateZadigBuildFromTemplate', role: 'admin', query: 'mutation($i: ZadigTemplateBuildInput!) { updateZadigBuildFromTemplate(input: { providerId: "native", projectKey: "p", build: $i }) { build { id } } }', variables: { i: ZADIG_TEMPLATE } },
    { name: 'createApiKey', role: 'admin', query: 'mutation { createApiKey(input: { role: ADMIN }) { key } }', variables: {} },
    { name: 'revokeApiKey', role: 'admin', query: 'mutation($id: ID!) { revokeApiKey(input: { apiKeyId: $id }) { apiKey { id } } }', variables: { id: ids.key ?? '' } },
    { name: 'requestQuayBuild', role: 'operator', query: 'mutation($id: ID!) { requestQuayBuild(input: { buildId: $id, archiveUrl: "https://example.com/a.tar.gz" }) { run { id } } }', variables: { id: ids.build } },
  ];
}

describe('authorization: roles and provider scopes, checked before anything runs', () => {
  let gw: TestGateway;
  let admin: Auth; let operator: Auth; let viewer: Auth; let scopedOp: Auth;
  let buildId: string; let runId: string; let operatorKeyId: string;

  beforeAll(async () => {
    gw = await strictGateway();
    admin = (await createKey(gw, 'admin')).auth;
    const op = await createKey(gw, 'operator');
    operator = op.auth;
    operatorKeyId = op.id;
    viewer = (await createKey(gw, 'viewer')).auth;
    scopedOp = (await createKey(gw, 'operator', ['quay-prod'])).auth;
    buildId = (await post(gw.url, { query: 'mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id } } }', variables: { i: SHELL_BUILD('target') } }, admin)).json.data.createBuild.build.id;
    runId = (await post(gw.url, { query: 'mutation($id: ID!) { runBuild(input: { buildId: $id }) { run { id } } }', variables: { id: buildId } }, admin)).json.data.runBuild.run.id;
    await waitFor(async () => (await post(gw.url, { query: '{ run(id: "' + runId + '") { state } }' }, viewer)).json.data.run!.state === 'DONE');
  });
  afterAll(async () => { await gw?.close(); });

  it('the schema has exactly these mutations (a new one must be added to this test)', async () => {
    const r = await post(gw.url, { query: '{ __schema { mutationType { fields { name } } } }' }, viewer);
    const names = r.json.data.__schema.mutationType.fields.map((f: { name: string }) => f.name).sort();
    expect(names).toEqual(mutations({ build: '', run: '' }).map((m) => m.name).sort());
  });

  const who = (role: string) => (role === 'viewer' ? viewer : role === 'operator' ? operator : scopedOp);
  for (const [caller, label] of [['viewer', 'a viewer'], ['operator', 'an operator'], ['scoped', 'an operator scoped to another provider']] as const) {
    it.each(TRANSPORTS)(`${label}: every mutation above its role is FORBIDDEN and the store is unchanged (%s)`, async (transport) => {
      for (const m of mutations({ build: buildId, run: runId, key: operatorKeyId })) {
        const allowed = caller === 'operator' && m.role === 'operator';
        if (allowed) continue;
        const before = await storeCounts(gw);
        const r = await operation(transport, gw.url, who(caller), { query: m.query, variables: m.variables });
        expect([m.name, r.errors?.[0]?.extensions?.code]).toEqual([m.name, 'FORBIDDEN']);
        expect(r.data).toBeNull();
        expect(await storeCounts(gw)).toEqual(before);
      }
      const b = await post(gw.url, { query: '{ build(id: "' + buildId + '") { name runs { totalCount } } }' }, admin);
      expect(b.json.data.build).toEqual({ name: 'target', runs: { totalCount: 1 } });
    });
  }

  it('an operator runs builds but does not change them; an admin does everything', async () => {
    const run = await post(gw.url, { query: 'mutation($id: ID!) { runBuild(input: { buildId: $id }) { run { id } } }', variables: { id: buildId } }, operator);
    expect(run.json.errors).toBeUndefined();
    // Let it finish: its log lines must not land while later tests compare row counts.
    const id = run.json.data.runBuild.run.id;
    await waitFor(async () => (await post(gw.url, { query: '{ run(id: "' + id + '") { state } }' }, viewer)).json.data.run!.state === 'DONE');
    const upd = await post(gw.url, { query: 'mutation($id: ID!, $i: BuildInput!) { updateBuild(input: { buildId: $id, build: $i }) { build { name } } }', variables: { id: buildId, i: SHELL_BUILD('target') } }, admin);
    expect(upd.json.data.updateBuild.build.name).toBe('target');
  });

  it('queries: auditLog is admin only; a scoped key may not read another provider by ID', async () => {
    const q = '{ auditLog(first: 5) { totalCount } }';
    expect((await post(gw.url, { query: q }, operator)).json.errors[0].extensions.code).toBe('FORBIDDEN');
    expect((await post(gw.url, { query: q }, admin)).json.data.auditLog.totalCount).toBeGreaterThan(0);
    const r = await post(gw.url, { query: `{ build(id: "${buildId}") { name } }` }, scopedOp);
    expect(r.json.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(r.json.data).toEqual({ build: null }); // a nullable lookup: null with the error, not the whole answer
    expect((await post(gw.url, { query: '{ providers { providerId } }' }, scopedOp)).json.errors).toBeUndefined();
  });

  it('lists that name no provider show a scoped key only its providers', async () => {
    const all = (await post(gw.url, { query: '{ builds { totalCount } providers { providerId } }' }, viewer)).json.data;
    expect(all.builds.totalCount).toBeGreaterThan(0);
    expect(all.providers.map((p: { providerId: string }) => p.providerId)).toContain('native');
    // scopedOp is scoped to quay-prod, which this gateway does not have: nothing of native shows.
    const scoped = await post(gw.url, { query: '{ builds { totalCount edges { node { id } } } providers { providerId } }' }, scopedOp);
    expect(scoped.json.errors).toBeUndefined();
    expect(scoped.json.data).toEqual({ builds: { totalCount: 0, edges: [] }, providers: [] });
  });

  it('buildsChanged sends a scoped key only its providers\' changes', async () => {
    const url = gw.url.replace(/^http/, 'ws');
    const watch = (authorization: string) => {
      const client = createClient({ url, webSocketImpl: WebSocket, connectionParams: { authorization }, retryAttempts: 0 });
      const seen: unknown[] = [];
      const ready = new Promise<void>((resolve) => client.on('connected', () => resolve()));
      client.subscribe({ query: 'subscription { buildsChanged { kind build { name } } }' }, { next: (v) => { seen.push(v); }, error: () => undefined, complete: () => undefined });
      return { client, seen, ready };
    };
    const all = watch(viewer.authorization!);
    const scoped = watch(scopedOp.authorization!);
    await Promise.all([all.ready, scoped.ready]);
    await new Promise((r) => setTimeout(r, 200)); // both subscriptions registered
    await post(gw.url, { query: 'mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id } } }', variables: { i: SHELL_BUILD('scope-watch') } }, admin);
    await waitFor(async () => all.seen.length > 0);
    await new Promise((r) => setTimeout(r, 300));
    expect(scoped.seen).toEqual([]);
    await all.client.dispose();
    await scoped.client.dispose();
  });

  it('subscriptions: a scoped key is refused before the stream opens', async () => {
    const scopedKey = scopedOp.authorization!;
    const client = createClient({ url: gw.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: scopedKey }, retryAttempts: 0 });
    const result = await new Promise<unknown>((resolve) => {
      client.subscribe({ query: `subscription { runUpdated(runId: "${runId}") { state } }` }, {
        next: (v) => resolve(v), error: (e) => resolve(e), complete: () => resolve('complete'),
      });
    });
    expect(JSON.stringify(result)).toContain('FORBIDDEN');
    const viewerClient = createClient({ url: gw.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: viewer.authorization }, retryAttempts: 0 });
    const ok = await new Promise<any>((resolve) => {
      viewerClient.subscribe({ query: `subscription { runUpdated(runId: "${runId}") { state } }` }, { next: (v) => resolve(v), error: (e) => resolve(e), complete: () => undefined });
    });
    expect(ok.data.runUpdated.state).toBe('DONE');
    await client.dispose(); await viewerClient.dispose();
  });

  it('a viewer may not mutate over graphql-ws either', async () => {
    const client = createClient({ url: gw.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: viewer.authorization }, retryAttempts: 0 });
    const before = await storeCounts(gw);
    const r = await new Promise<any>((resolve) => {
      client.subscribe({ query: 'mutation($id: ID!) { deleteBuild(input: { buildId: $id }) { deletedBuildId } }', variables: { id: buildId } }, { next: resolve, error: resolve, complete: () => undefined });
    });
    expect(r.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(await storeCounts(gw)).toEqual(before);
    await client.dispose();
  });

  it('an unscoped admin manages API keys over GraphQL: shown once, works at once, revoked at once', async () => {
    const created = await post(gw.url, { query: 'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key apiKey { id role name providerIds revokedAt } } }', variables: { i: { role: 'OPERATOR', name: 'ci' } } }, admin);
    expect(created.json.errors).toBeUndefined();
    const { key, apiKey } = created.json.data.createApiKey;
    expect(key).toMatch(new RegExp(`^bgk_${apiKey.id}_[A-Za-z0-9_-]{43}$`));
    expect(apiKey).toMatchObject({ role: 'OPERATOR', name: 'ci', providerIds: null, revokedAt: null });
    // Listed without the key; the audit entry does not carry it either.
    const listed = await post(gw.url, { query: '{ apiKeys { id role name createdAt revokedAt } auditLog(first: 5) { edges { node { operation arguments } } } }' }, admin);
    expect(listed.json.data.apiKeys.map((k: { id: string }) => k.id)).toContain(apiKey.id);
    expect(JSON.stringify(listed.json)).not.toContain(key.split('_').slice(2).join('_'));
    // It works as an operator: runs builds, may not change them.
    const as = { authorization: `Bearer ${key}` };
    const started = await post(gw.url, { query: 'mutation($id: ID!) { runBuild(input: { buildId: $id }) { run { id } } }', variables: { id: buildId } }, as);
    expect(started.json.errors).toBeUndefined();
    // Let it finish: its log lines must not land while row counts are compared.
    const newRun = started.json.data.runBuild.run.id;
    await waitFor(async () => (await post(gw.url, { query: '{ run(id: "' + newRun + '") { state } }' }, admin)).json.data.run!.state === 'DONE');
    expect((await post(gw.url, { query: 'mutation($id: ID!) { deleteBuild(input: { buildId: $id }) { deletedBuildId } }', variables: { id: buildId } }, as)).json.errors[0].extensions.code).toBe('FORBIDDEN');
    // Revoked: refused on the very next request.
    const revoked = await post(gw.url, { query: 'mutation($id: ID!) { revokeApiKey(input: { apiKeyId: $id }) { apiKey { id revokedAt } } }', variables: { id: apiKey.id } }, admin);
    expect(revoked.json.data.revokeApiKey.apiKey.revokedAt).not.toBeNull();
    const after = await post(gw.url, { query: '{ builds { totalCount } }' }, as);
    expect(after.status).toBe(401);
    expect(after.json.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    // Unknown id, bad scope: stable codes; a scoped admin may not manage keys at all.
    expect((await post(gw.url, { query: 'mutation { revokeApiKey(input: { apiKeyId: "nope" }) { apiKey { id } errors { code path } } }' }, admin)).json.data.revokeApiKey)
      .toEqual({ apiKey: null, errors: [{ code: 'NOT_FOUND', path: ['input', 'apiKeyId'] }] });
    expect((await post(gw.url, { query: 'mutation { createApiKey(input: { role: VIEWER, providerIds: ["Not A Provider"] }) { key errors { code path } } }' }, admin)).json.data.createApiKey)
      .toEqual({ key: null, errors: [{ code: 'VALIDATION', path: ['input', 'providerIds'] }] });
    const scopedAdmin = (await createKey(gw, 'admin', ['native'])).auth;
    const before = await storeCounts(gw);
    expect((await post(gw.url, { query: 'mutation { createApiKey(input: { role: ADMIN }) { key } }' }, scopedAdmin)).json.errors[0].extensions.code).toBe('FORBIDDEN');
    expect((await post(gw.url, { query: '{ apiKeys { id } }' }, scopedAdmin)).json.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(await storeCounts(gw)).toEqual(before);
  });

  it('the audit log records who, what, target, outcome, with secrets removed', async () => {
    const input = { ...SHELL_BUILD('audited'), buildServerClientKey: 'AUDIT-SECRET-KEY-1', steps: [{ stepOrder: 1, stepType: 'HTTP', http: { url: 'https://example.com', httpMode: 'GET', timeout: 5, password: 'AUDIT-SECRET-PW-2', customHeaders: [{ name: 'X-Api-Key', value: 'AUDIT-SECRET-HDR-3' }, { name: 'X-Plain', value: 'visible' }] } }] };
    const c = await post(gw.url, { query: 'mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id } } }', variables: { i: input } }, admin);
    expect(c.json.errors).toBeUndefined();
    await post(gw.url, { query: 'mutation($id: ID!) { deleteBuild(input: { buildId: $id }) { deletedBuildId } }', variables: { id: buildId } }, viewer);
    const log = await post(gw.url, { query: '{ auditLog(first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { node { actor operation targetId arguments outcome requestedAt requestId } } } }' }, admin);
    const [denied, created] = log.json.data.auditLog.edges.map((e: any) => e.node);
    expect(denied).toMatchObject({ operation: 'deleteBuild', targetId: buildId, outcome: 'FORBIDDEN' });
    expect(denied.actor).toMatch(/^apiKey:[0-9a-f]{12}$/);
    expect(created).toMatchObject({ operation: 'createBuild', outcome: 'OK', targetId: 'native' });
    const text = JSON.stringify(log.json);
    for (const s of ['AUDIT-SECRET-KEY-1', 'AUDIT-SECRET-PW-2', 'AUDIT-SECRET-HDR-3']) expect(text).not.toContain(s);
    expect(text).toContain('visible');
    expect(log.json.data.auditLog.pageInfo.hasNextPage).toBe(true);
    const next = await post(gw.url, { query: `{ auditLog(first: 100, after: "${log.json.data.auditLog.pageInfo.endCursor}") { edges { node { operation outcome } } } }` }, admin);
    const ops = next.json.data.auditLog.edges.map((e: any) => `${e.node.operation}:${e.node.outcome}`);
    expect(ops).toContain('runBuild:OK');
    expect(ops).toContain('createZadigBuild:FORBIDDEN');
    expect(log.json.data.auditLog.totalCount).toBe(ops.length + 2);
  });
});
