import { mkdir, mkdtemp, readdir, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { codeDownStep } from '../../../src/engine/steps/code-down.js';
import { createImageStep } from '../../../src/engine/steps/create-image.js';
import type { StepContext } from '../../../src/engine/steps/types.js';
import { userTaskStep } from '../../../src/engine/steps/user-task.js';
import { workspacePath } from '../../../src/engine/workspace.js';
import type { StepConfig } from '../../../src/providers/types.js';

/**
 * Every workspace path a step uses is resolved for real: a symlink the cloned repository
 * (or an earlier step) put there must not lead a mount, a Dockerfile or a clone out of the
 * workspace. The refusals happen before buildah or git are started, so no registry is needed.
 */

let workspace: string;
let outside: string;
beforeEach(async () => {
  workspace = await mkdtemp(path.join(os.tmpdir(), 'ws-paths-'));
  outside = await mkdtemp(path.join(os.tmpdir(), 'ws-outside-'));
  await writeFile(path.join(outside, 'Dockerfile'), 'FROM scratch\n');
  // what a repository can carry: a link to a host directory, a link to a host file, a link inside
  await symlink(outside, path.join(workspace, 'hostdir'));
  await symlink('/etc/hostname', path.join(workspace, 'Dockerfile.evil'));
  await mkdir(path.join(workspace, 'real'));
  await symlink('real', path.join(workspace, 'inner'));
  await symlink(path.join(workspace, 'gone'), path.join(workspace, 'dangling'));
});
afterEach(async () => {
  await rm(workspace, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

function context(config: StepConfig): StepContext {
  return {
    runKey: 'r1', stepRunKey: 's1', workspace, tempDir: os.tmpdir(), config, signal: new AbortController().signal, tagName: 't1',
    log: () => undefined,
    build: { imageName: null, registryName: null },
    env: {
      // nothing listens there: a step that got as far as contacting it would fail differently
      registry: { host: '127.0.0.1:1', insecure: true }, buildah: { storageDriver: 'vfs', isolation: 'chroot' },
      allowPrivateHosts: ['127.0.0.1'], defaultStepTimeoutSec: 30,
    },
  };
}

describe('workspacePath', () => {
  it('refuses a symlink out of the workspace, a dangling one and `..`; follows one that stays inside', async () => {
    await expect(workspacePath(workspace, 'hostdir/x', 'f')).rejects.toThrow(/leaves the workspace through a symlink/);
    await expect(workspacePath(workspace, 'Dockerfile.evil', 'f')).rejects.toThrow(/leaves the workspace through a symlink/);
    await expect(workspacePath(workspace, 'dangling', 'f', { create: 'dir' })).rejects.toThrow(/symlink that leads nowhere/);
    await expect(workspacePath(workspace, '../etc', 'f')).rejects.toThrow(/outside the run's workspace/);
    expect(await workspacePath(workspace, '$PWD/inner/a', 'f')).toBe(path.join(await realpath(workspace), 'real', 'a'));
    expect(await workspacePath(workspace, '', 'f')).toBe(await realpath(workspace));
  });

  it('creates missing directories one by one when asked', async () => {
    const made = await workspacePath(workspace, 'inner/a/b', 'f', { create: 'dir' });
    expect((await stat(made)).isDirectory()).toBe(true);
    expect(made).toBe(path.join(await realpath(workspace), 'real', 'a', 'b'));
    await expect(workspacePath(workspace, 'hostdir/new', 'f', { create: 'dir' })).rejects.toThrow(/through a symlink/);
    expect(await readdir(outside)).toEqual(['Dockerfile']);
  });
});

describe('steps resolve their workspace paths through workspacePath', () => {
  it('USER_TASK refuses to mount a repository symlink to a host directory (read-write)', async () => {
    const res = await userTaskStep(context({
      stepType: 'USER_TASK', imageName: 'base/busybox', imageTag: '1', cmd: ['sh', '-c', 'echo x > /mnt/pwned'],
      dockerVolumeMountVOList: [{ hostPath: '$PWD/hostdir', containerPath: '/mnt' }],
    }));
    expect(res).toEqual({ ok: false, error: expect.stringMatching(/^USER_TASK: dockerVolumeMountVOList\.hostPath .* leaves the workspace through a symlink/) });
    const below = await userTaskStep(context({
      stepType: 'USER_TASK', imageName: 'base/busybox', imageTag: '1', cmd: ['true'],
      dockerVolumeMountVOList: [{ hostPath: 'hostdir/sub', containerPath: '/mnt' }],
    }));
    expect(below.error).toMatch(/leaves the workspace through a symlink/);
    expect(await readdir(outside)).toEqual(['Dockerfile']);
  });

  it('CREATE_IMAGE refuses a dockerFilePath that is a symlink to a host file or goes through one', async () => {
    for (const dockerFilePath of ['Dockerfile.evil', 'hostdir/Dockerfile']) {
      const res = await createImageStep(context({
        stepType: 'CREATE_IMAGE', dockerFileType: 'FILE_PATH', dockerFilePath, registryName: 'dev', imageName: 'app',
      }));
      expect(res).toEqual({ ok: false, error: expect.stringMatching(/^CREATE_IMAGE: dockerFilePath .* leaves the workspace through a symlink/) });
    }
  });

  it('CODE_DOWN refuses a codeSaveDir that goes through a symlink out of the workspace', async () => {
    const res = await codeDownStep(context({
      stepType: 'CODE_DOWN', repositoryType: 'GIT', commonType: 'COMMON', protocolType: 'http',
      repositoryUrl: '127.0.0.1:1/app.git', branchName: 'main', codeSaveDir: 'hostdir/app',
    }));
    expect(res).toEqual({ ok: false, error: expect.stringMatching(/codeSaveDir .* leaves the workspace through a symlink/) });
    expect(await readdir(outside)).toEqual(['Dockerfile']);
  });
});
