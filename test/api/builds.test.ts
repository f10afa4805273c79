import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  BuildDetailDocument, BuildsListDocument, CreateBuildDocument, DeleteBuildDocument, NodeDocument, UpdateBuildDocument,
  type BuildInput,
} from '../generated/graphql.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

const fullBuild = (name: string): BuildInput => ({
  name,
  description: 'every step type',
  imageName: 'demo/app',
  registryName: 'dev',
  tagName: '1.0',
  autotag: { enabled: false },
  buildServerClientKey: 'CLIENT-KEY-SECRET-123',
  steps: [
    { stepOrder: 1, stepType: 'CODE_DOWN', codeDown: { repositoryUrl: 'github.com/x/y.git', branchName: 'main', commonType: 'PRIVATE', protocolType: 'HTTPS', userId: 'bob', password: 'GIT-PASSWORD-123' } },
    { stepOrder: 2, stepType: 'USER_TASK', userTask: { cmd: ['sh', '-c', 'echo hi'], imageName: 'busybox', imageTag: '1', workingDir: '/build', volumeMounts: [{ containerPath: '/build', hostPath: '$PWD/repo' }], envs: [{ key: 'A', value: 'b' }] } },
    { stepOrder: 3, stepType: 'FTP', ftp: { url: 'ftp.example:21', ftpType: 'SFTP', username: 'u', password: 'FTP-PASSWORD-123', sourceFiles: 'out', remoteDirectory: '/data', ftpExecType: 'DIR_FTP_UPLOAD' } },
    { stepOrder: 4, stepType: 'HTTP', http: { url: 'https://example.com/api', httpMode: 'POST', timeout: 5, validResponseCodes: '200-299', customHeaders: [{ name: 'Authorization', value: 'Bearer HTTP-TOKEN-123' }, { name: 'X-Trace', value: 'visible' }] } },
    { stepOrder: 5, stepType: 'SHELL', useFlag: false, shell: { shellType: 'SCRIPT', command: 'echo hello' } },
    { stepOrder: 6, stepType: 'CREATE_IMAGE', createImage: { dockerFileType: 'CONTENTS', dockerFile: 'FROM scratch', registryName: 'dev', imageName: 'app', loginId: 'reg', password: 'REG-PASSWORD-123' } },
  ],
});

const SECRETS = ['CLIENT-KEY-SECRET-123', 'GIT-PASSWORD-123', 'FTP-PASSWORD-123', 'HTTP-TOKEN-123', 'REG-PASSWORD-123'];

describe.each(['sqlite', 'postgres'] as const)('native build definitions over HTTP (%s)', (database) => {
  let gw: TestGateway;
  beforeAll(async () => { gw = await startGateway({ database }); });
  afterAll(async () => { await gw?.close(); });

  it('creates, reads, lists, updates and deletes a build with every step type, never returning secrets', async () => {
    const created = await gw.gql(CreateBuildDocument, { build: fullBuild('alpha') });
    expect(created.errors).toBeUndefined();
    const build = created.data!.createBuild.build!;
    expect(build.steps!.map((s) => s.stepType)).toEqual(['CODE_DOWN', 'USER_TASK', 'FTP', 'HTTP', 'SHELL', 'CREATE_IMAGE']);

    const detail = await gw.gql(BuildDetailDocument, { id: build.id });
    expect(detail.errors).toBeUndefined();
    const b = detail.data!.build!;
    expect(b.hasBuildServerClientKey).toBe(true);
    expect(b.steps![4]!.useFlag).toBe(false);
    const configs = b.steps!.map((s) => s.config) as any[];
    expect(configs[0]).toMatchObject({ __typename: 'CodeDownStepConfig', userId: 'bob', hasPassword: true });
    expect(configs[1].volumeMounts).toEqual([{ containerPath: '/build', hostPath: '$PWD/repo' }]);
    expect(configs[2]).toMatchObject({ hasPassword: true, ftpExecType: 'DIR_FTP_UPLOAD' });
    expect(configs[3].customHeaders).toEqual([{ name: 'Authorization', value: null, secret: true }, { name: 'X-Trace', value: 'visible', secret: false }]);
    expect(configs[5]).toMatchObject({ hasPassword: true, dockerFile: 'FROM scratch' });
    expect(b.stats).toMatchObject({ runCount: 0, tagCount: 0 });
    const text = JSON.stringify(detail) + JSON.stringify(created);
    for (const s of SECRETS) expect(text).not.toContain(s);

    // Update: the CODE_DOWN step keeps its stored password (omitted), the FTP one is cleared ("").
    const input = fullBuild('alpha-2');
    const steps = input.steps as any[];
    steps[0] = { ...steps[0], stepId: b.steps![0]!.id, codeDown: { ...steps[0].codeDown, password: undefined } };
    steps[2] = { ...steps[2], stepId: b.steps![2]!.id, ftp: { ...steps[2].ftp, password: '' } };
    delete (input as any).buildServerClientKey;
    const updated = await gw.gql(UpdateBuildDocument, { buildId: build.id, build: input });
    expect(updated.errors).toBeUndefined();
    expect(updated.data!.updateBuild.errors).toEqual([]);
    const after = (await gw.gql(BuildDetailDocument, { id: build.id })).data!.build!;
    expect(after.name).toBe('alpha-2');
    expect((after.steps![0]!.config as any).hasPassword).toBe(true);
    expect((after.steps![2]!.config as any).hasPassword).toBe(false);
    expect(after.hasBuildServerClientKey).toBe(true);

    const list = await gw.gql(BuildsListDocument, { filter: { nameContains: 'ALPHA' } });
    expect(list.data!.builds.totalCount).toBe(1);
    expect(list.data!.builds.edges[0]!.node.name).toBe('alpha-2');

    const node = await gw.gql(NodeDocument, { id: build.id });
    expect(node.data!.node).toMatchObject({ __typename: 'Build', name: 'alpha-2' });

    const del = await gw.gql(DeleteBuildDocument, { buildId: build.id });
    expect(del.data!.deleteBuild.deletedBuildId).toBe(build.id);
    const gone = await gw.gql(BuildDetailDocument, { id: build.id });
    expect(gone.errors![0]!.extensions!.code).toBe('NOT_FOUND');
    const again = await gw.gql(DeleteBuildDocument, { buildId: build.id });
    expect(again.errors).toBeUndefined();
    expect(again.data!.deleteBuild).toMatchObject({ deletedBuildId: null, errors: [{ code: 'NOT_FOUND', path: ['input', 'buildId'] }] });
  });

  it('pages forward and backward with cursors and sorts by name', async () => {
    for (const n of ['p-c', 'p-a', 'p-e', 'p-b', 'p-d']) {
      const r = await gw.gql(CreateBuildDocument, { build: { name: n, steps: [{ stepOrder: 1, stepType: 'SHELL', shell: { shellType: 'COMMAND', command: 'true' } }] } });
      expect(r.errors).toBeUndefined();
      expect(r.data!.createBuild.errors).toEqual([]);
    }
    const page1 = await gw.gql(BuildsListDocument, { filter: { nameContains: 'p-' }, first: 2 });
    expect(page1.data!.builds.edges.map((e) => e.node.name)).toEqual(['p-a', 'p-b']);
    expect(page1.data!.builds.pageInfo.hasNextPage).toBe(true);
    expect(page1.data!.builds.totalCount).toBe(5);
    const page2 = await gw.gql(BuildsListDocument, { filter: { nameContains: 'p-' }, first: 2, after: page1.data!.builds.pageInfo.endCursor });
    expect(page2.data!.builds.edges.map((e) => e.node.name)).toEqual(['p-c', 'p-d']);
    const desc = await gw.gql(BuildsListDocument, { filter: { nameContains: 'p-' }, order: 'DESC', first: 1 });
    expect(desc.data!.builds.edges[0]!.node.name).toBe('p-e');
    const last = await gw.gql(`{ builds(filter: {nameContains: "p-"}, last: 2) { edges { node { name } } pageInfo { hasPreviousPage hasNextPage } } }`);
    expect((last.data as any).builds.edges.map((e: any) => e.node.name)).toEqual(['p-d', 'p-e']);
    expect((last.data as any).builds.pageInfo.hasPreviousPage).toBe(true);
  });
});
