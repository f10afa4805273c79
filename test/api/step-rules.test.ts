import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { codeDownStep } from '../../src/engine/steps/code-down.js';
import type { StepContext } from '../../src/engine/steps/types.js';
import { userTaskStep } from '../../src/engine/steps/user-task.js';
import type { StepConfig } from '../../src/providers/types.js';
import { BuildDetailDocument, BuildsListDocument, CreateBuildDocument, UpdateBuildDocument, type BuildInput, type BuildStepInput } from '../generated/graphql.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

/**
 * Step input is judged when a build is saved, with the rules the engine applies when the
 * step runs (src/engine/steps/rules.ts): a build that could only fail at run time is
 * refused by createBuild / updateBuild with BAD_USER_INPUT naming the field, and nothing
 * is stored.
 */

const configField = (s: BuildStepInput) => Object.keys(s).find((k) => !['stepOrder', 'stepType', 'useFlag', 'stepId'].includes(k))!;
const build = (step: BuildStepInput): BuildInput => ({ name: 'rules', tagName: 'v1', steps: [step] });
const codeDown = (over: object) => ({ stepOrder: 1, stepType: 'CODE_DOWN', codeDown: { repositoryUrl: 'github.com/x/y.git', branchName: 'main', ...over } }) as BuildStepInput;
const userTask = (over: object) => ({ stepOrder: 1, stepType: 'USER_TASK', userTask: { cmd: ['true'], imageName: 'base/busybox', imageTag: '1', ...over } }) as BuildStepInput;
const http = (over: object) => ({ stepOrder: 1, stepType: 'HTTP', http: { url: 'https://example.com/x', httpMode: 'GET', timeout: 5, ...over } }) as BuildStepInput;
const ftp = (over: object) => ({ stepOrder: 1, stepType: 'FTP', ftp: { url: 'ftp.example.com', ftpType: 'FTP', sourceFiles: 'dist', remoteDirectory: 'out', ftpExecType: 'DIR_FTP_UPLOAD', ...over } }) as BuildStepInput;
const image = (over: object) => ({ stepOrder: 1, stepType: 'CREATE_IMAGE', createImage: { dockerFileType: 'CONTENTS', dockerFile: 'FROM scratch', registryName: 'dev', imageName: 'app', ...over } }) as BuildStepInput;

describe('createBuild / updateBuild apply the engine\'s step rules', () => {
  let gw: TestGateway;
  beforeAll(async () => { gw = await startGateway(); });
  afterAll(async () => { await gw?.close(); });

  const count = async () => (await gw.gql(BuildsListDocument, {})).data!.builds.totalCount;

  it.each([
    ['traversal in codeSaveDir', 'codeSaveDir', codeDown({ codeSaveDir: '../../etc' })],
    ['traversal in hostPath', 'volumeMounts', userTask({ volumeMounts: [{ hostPath: '../../../etc', containerPath: '/x' }] })],
    ['file:// git URL', 'repositoryUrl', codeDown({ repositoryUrl: 'file:///srv/git/app.git' })],
    ['ssh:// git URL', 'repositoryUrl', codeDown({ repositoryUrl: 'ssh://git@github.com/x/y.git' })],
    ['a branch git would take as an option', 'branchName', codeDown({ branchName: '--upload-pack=touch /tmp/x' })],
    ['private HTTP host', 'url', http({ url: 'http://127.0.0.1:9/x' })],
    ['name resolving to loopback', 'url', http({ url: 'http://localhost:9/x' })],
    ['metadata address as git host', 'repositoryUrl', codeDown({ repositoryUrl: 'http://169.254.169.254/latest.git' })],
    ['private FTP host', 'url', ftp({ url: '10.1.2.3:21' })],
    ['outputFile outside the workspace', 'outputFile', http({ outputFile: '/../../x' })],
    ['FTP sourceFiles outside the workspace', 'sourceFiles', ftp({ sourceFiles: '../up' })],
    ['an image name buildah would take as a flag', 'imageName', userTask({ imageName: '--creds=user:pass' })],
    ['image on a private registry', 'imageName', userTask({ imageName: '10.0.0.5:5000/base/busybox' })],
    ['bad image name', 'imageName', image({ imageName: 'My App' })],
    ['private registryUrl', 'registryUrl', image({ registryUrl: 'http://169.254.169.254' })],
    ['dockerFilePath outside the workspace', 'dockerFilePath', image({ dockerFileType: 'FILE_PATH', dockerFile: null, dockerFilePath: '../../etc/hostname' })],
  ])('%s → a VALIDATION user error at input.build.steps[0].<config>.%s', async (_t, field, step) => {
    const before = await count();
    const r = await gw.gql(CreateBuildDocument, { build: build(step) });
    expect(r.errors).toBeUndefined();
    expect(r.data!.createBuild.errors).toEqual([expect.objectContaining({ code: 'VALIDATION', path: ['input', 'build', 'steps', '0', configField(step), field] })]);
    expect(await count()).toBe(before);
  });

  it('updateBuild refuses the same and leaves the stored build as it was', async () => {
    const created = await gw.gql(CreateBuildDocument, { build: build(codeDown({ codeSaveDir: 'src' })) });
    expect(created.errors).toBeUndefined();
    const id = created.data!.createBuild.build!.id;
    const r = await gw.gql(UpdateBuildDocument, { buildId: id, build: build(codeDown({ codeSaveDir: '../../etc' })) });
    expect(r.errors).toBeUndefined();
    expect(r.data!.updateBuild).toMatchObject({ build: null, errors: [{ code: 'VALIDATION', path: ['input', 'build', 'steps', '0', 'codeDown', 'codeSaveDir'] }] });
    const stored = await gw.gql(`query($id: ID!) { build(id: $id) { steps { config { ... on CodeDownStepConfig { codeSaveDir } } } } }`, { id });
    expect((stored.data as any).build.steps[0].config.codeSaveDir).toBe('src');
    expect((await gw.gql(BuildDetailDocument, { id })).errors).toBeUndefined();
  });

  it('accepts what the engine accepts: public hosts, workspace paths, and images on the engine\'s own registry', async () => {
    for (const step of [
      codeDown({ codeSaveDir: '$PWD/src/app' }),
      userTask({ imageName: '127.0.0.1:5000/base/busybox', volumeMounts: [{ hostPath: '$PWD/src', containerPath: '/src' }] }),
      image({ registryUrl: '127.0.0.1:5000' }),
      http({ outputFile: 'out/body.json' }),
      // a name that does not resolve here may resolve where the run executes: checked again then
      http({ url: 'https://build-only.invalid/hook' }),
    ]) {
      const r = await gw.gql(CreateBuildDocument, { build: build(step) });
      expect(r.errors).toBeUndefined();
      expect(r.data!.createBuild.errors).toEqual([]);
    }
  });

  it('a private host listed in engine.allowPrivateHosts is accepted', async () => {
    const open = await startGateway({ config: { engine: { allowPrivateHosts: ['127.0.0.0/8'] } } });
    try {
      const r = await open.gql(CreateBuildDocument, { build: build(http({ url: 'http://127.0.0.1:9/x' })) });
      expect(r.errors).toBeUndefined();
      expect(r.data!.createBuild.errors).toEqual([]);
    } finally {
      await open.close();
    }
  });
});

describe('the same rules refuse the same input when a stored config runs', () => {
  let workspace: string;
  beforeAll(async () => { workspace = await mkdtemp(path.join(os.tmpdir(), 'rules-ws-')); });
  afterAll(async () => { await rm(workspace, { recursive: true, force: true }); });

  const ctx = (config: StepConfig): StepContext => ({
    runKey: 'r', stepRunKey: 's', workspace, tempDir: os.tmpdir(), config, signal: new AbortController().signal, tagName: null, log: () => undefined,
    build: { imageName: null, registryName: null },
    env: { registry: { host: '127.0.0.1:1', insecure: true }, buildah: { storageDriver: 'vfs', isolation: 'chroot' }, allowPrivateHosts: [], defaultStepTimeoutSec: 10 },
  });

  it('USER_TASK imageName starting with "--" and a private registry; CODE_DOWN ssh URL', async () => {
    const flag = await userTaskStep(ctx({ stepType: 'USER_TASK', imageName: '--creds=user:pass', imageTag: '1', cmd: ['true'] }));
    expect(flag.error).toMatch(/imageName "--creds=user:pass" is not an image reference/);
    const priv = await userTaskStep(ctx({ stepType: 'USER_TASK', imageName: '10.0.0.5:5000/base/busybox', imageTag: '1', cmd: ['true'] }));
    expect(priv.error).toMatch(/10\.0\.0\.5.*private\/loopback.*allowPrivateHosts/);
    const ssh = await codeDownStep(ctx({ stepType: 'CODE_DOWN', repositoryType: 'GIT', commonType: 'COMMON', protocolType: 'https', repositoryUrl: 'ssh://git@github.com/x/y.git', branchName: 'main' }));
    expect(ssh.error).toMatch(/repositoryUrl must use http or https, got ssh/);
  });
});
