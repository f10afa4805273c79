import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { toGlobalId } from '../../src/ids.js';
import type { TestGateway } from '../support/gateway.js';
import { createKey, post, strictGateway } from './helpers.js';

/** A credential scoped to providers sees neither the audit log nor another provider's objects by ID. */
describe('a credential scoped to providers', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await strictGateway({ providers: [{ id: 'quay-x', kind: 'QUAY', baseUrl: 'http://127.0.0.1:9', retries: 0, timeoutMs: 300, options: { token: 'x', repositories: ['org/app'] } }] });
  });
  afterAll(() => gw.close());

  it('may not read the audit log, even as admin', async () => {
    const scopedAdmin = (await createKey(gw, 'admin', ['quay-x'])).auth;
    const r = await post(gw.url, { query: '{ auditLog(first: 5) { totalCount } }' }, scopedAdmin);
    expect(r.json.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(r.json.data).toBeNull();
    expect((await post(gw.url, { query: '{ auditLog(first: 5) { totalCount } }' }, (await createKey(gw, 'admin')).auth)).json.errors).toBeUndefined();
  });

  it('gets no object of another provider by ID, whatever its type, through node and nodes', async () => {
    const scoped = (await createKey(gw, 'operator', ['quay-x'])).auth;
    // An ID naming an allowed provider but another provider's key: the Provider node must not follow the key.
    const forged = Buffer.from('bg1|quay-x|Provider|native').toString('base64url');
    const ask = (query: string, variables: object) => post(gw.url, { query, variables }, scoped);
    const forgedRead = await ask('query($id: ID!) { node(id: $id) { ... on Provider { providerId baseUrl health { status } } } }', { id: forged });
    expect(forgedRead.json.errors[0].extensions.code).toBe('NOT_FOUND');
    expect(JSON.stringify(forgedRead.json.data)).not.toContain('native');
    // Its own provider answers.
    const own = await ask('query($id: ID!) { node(id: $id) { ... on Provider { providerId } } }', { id: toGlobalId('quay-x', 'Provider', 'quay-x') });
    expect(own.json.data.node).toEqual({ providerId: 'quay-x' });
    // Every node type of the native provider: refused, alone and among others.
    for (const type of ['Build', 'BuildStep', 'BuildRun', 'StepRun', 'ImageTag', 'BuildRecord', 'Provider'] as const) {
      const id = toGlobalId('native', type, type === 'Provider' ? 'native' : type === 'BuildStep' ? '1#1' : '1');
      const one = await ask('query($id: ID!) { node(id: $id) { id } }', { id });
      expect([type, one.json.data?.node ?? null, ['FORBIDDEN', 'NOT_FOUND'].includes(one.json.errors?.[0]?.extensions?.code)]).toEqual([type, null, true]);
      const many = await ask('query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: [toGlobalId('quay-x', 'Provider', 'quay-x'), id] });
      expect([type, JSON.stringify(many.json.data ?? null).includes(id), ['FORBIDDEN', 'NOT_FOUND'].includes(many.json.errors?.[0]?.extensions?.code)]).toEqual([type, false, true]);
    }
  });
});
