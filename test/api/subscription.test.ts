import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { print } from 'graphql';
import { BuildsChangedDocument, CreateBuildDocument, DeleteBuildDocument, UpdateBuildDocument, type BuildsChangedSubscription } from '../generated/graphql.js';
import { collect, startGateway, type TestGateway } from '../support/gateway.js';

describe('buildsChanged over a real graphql-ws client on the same port and path', () => {
  let gw: TestGateway;
  beforeAll(async () => { gw = await startGateway(); });
  afterAll(async () => { await gw?.close(); });

  it('delivers CREATED, UPDATED and DELETED with the build', async () => {
    const client = gw.ws();
    const sub = collect<BuildsChangedSubscription>(client, print(BuildsChangedDocument), { providerIds: ['native'] }, 3);
    await sub.ready;
    const input = { name: 'live', steps: [{ stepOrder: 1, stepType: 'SHELL' as const, shell: { command: 'true' } }] };
    const created = (await gw.gql(CreateBuildDocument, { build: input })).data!.createBuild.build!;
    await gw.gql(UpdateBuildDocument, { buildId: created.id, build: { ...input, name: 'live-2' } });
    await gw.gql(DeleteBuildDocument, { buildId: created.id });
    const events = (await sub.events).map((e) => e.data!.buildsChanged);
    expect(events.map((e) => e.kind)).toEqual(['CREATED', 'UPDATED', 'DELETED']);
    expect(events[0]!.build!.name).toBe('live');
    expect(events[1]!.build!.name).toBe('live-2');
    expect(events[2]!.build).toBeNull();
    expect(new Set(events.map((e) => e.buildId))).toEqual(new Set([created.id]));
  });

  it('filters by provider', async () => {
    const client = gw.ws();
    const sub = collect<BuildsChangedSubscription>(client, print(BuildsChangedDocument), { providerIds: ['someone-else'] }, 1, 1500);
    await sub.ready;
    await gw.gql(CreateBuildDocument, { build: { name: 'x', steps: [{ stepOrder: 1, stepType: 'SHELL', shell: { command: 'true' } }] } });
    await expect(sub.events).rejects.toThrow(/timed out with 0\/1/);
  });
});
