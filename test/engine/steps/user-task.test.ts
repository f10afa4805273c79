import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LogSource, UserTaskConfig } from '../../../src/providers/types.js';
import { storageArgs, type BuildahSettings } from '../../../src/engine/buildah.js';
import { userTaskStep } from '../../../src/engine/steps/user-task.js';
import type { StepContext, StepResult } from '../../../src/engine/steps/types.js';
import { busyboxImage, tempBuildah } from '../../support/busybox-image.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';

let reg: TestRegistry;
let storage: { settings: BuildahSettings; cleanup(): Promise<void> };
let workspace: string;

beforeAll(async () => {
  reg = await startRegistry();
  storage = await tempBuildah();
  await busyboxImage(reg.host, storage.settings);
}, 120_000);
afterAll(async () => {
  await reg?.stop();
  await storage?.cleanup();
});
beforeEach(async () => { workspace = await mkdtemp(path.join(tmpdir(), 'buildgate-ws-')); });
afterEach(async () => { await rm(workspace, { recursive: true, force: true }); });

type Line = { stream: LogSource; text: string };

function run(config: Partial<UserTaskConfig>, opts: { signal?: AbortSignal; timeoutSec?: number; onLine?(l: Line): void } = {}) {
  const lines: Line[] = [];
  const ctx: StepContext = {
    runKey: 'r1', stepRunKey: 'sr1', workspace, tempDir: tmpdir(),
    config: { stepType: 'USER_TASK', imageName: 'base/busybox', imageTag: '1', cmd: ['true'], ...config },
    signal: opts.signal ?? new AbortController().signal,
    log: (stream, text) => { lines.push({ stream, text }); opts.onLine?.({ stream, text }); },
    tagName: null,
    build: { imageName: null, registryName: null },
    env: {
      registry: { host: reg.host, insecure: true },
      buildah: storage.settings,
      allowPrivateHosts: [],
      defaultStepTimeoutSec: opts.timeoutSec ?? 120,
    },
  };
  const started = Date.now();
  return userTaskStep(ctx).then((result: StepResult) => ({ result, lines, seconds: (Date.now() - started) / 1000 }));
}

/** Working containers left in the test storage: the step must always remove its own. */
function containers(): string[] {
  return execFileSync('buildah', [...storageArgs(storage.settings), 'containers', '--noheading', '--format', '{{.ContainerName}}'])
    .toString().split('\n').filter(Boolean);
}

const texts = (lines: Line[], stream: LogSource = 'STDOUT') => lines.filter((l) => l.stream === stream).map((l) => l.text);

describe('USER_TASK step (buildah, busybox image from a local registry)', () => {
  it('runs a script that sees its env vars and writes into a mounted workspace dir', async () => {
    const { result, lines, seconds } = await run({
      cmd: ['sh', '-c', 'echo "hello $GREETING"; pwd; mkdir -p out && echo built > out/result.txt; echo to-stderr >&2'],
      workingDir: '/build',
      dockerVolumeMountVOList: [{ hostPath: '$PWD/repo', containerPath: '/build' }],
      envs: [{ key: 'GREETING', value: 'from env' }],
    });
    console.log(`USER_TASK (pull + run) took ${seconds.toFixed(2)}s`);
    expect(result).toEqual({ ok: true });
    expect(texts(lines)).toEqual(expect.arrayContaining(['hello from env', '/build']));
    expect(texts(lines, 'STDERR')).toContain('to-stderr');
    expect(await readFile(path.join(workspace, 'repo/out/result.txt'), 'utf8')).toBe('built\n');
    expect(containers()).toEqual([]);
  });

  it('resolves a bare image name against the default registry and reports what it runs', async () => {
    const { result, lines } = await run({ cmd: ['echo', 'hi'] });
    expect(result.ok).toBe(true);
    expect(lines.find((l) => l.stream === 'SYSTEM')?.text).toContain(`${reg.host}/base/busybox:1`);
  });

  it('marks a non-zero exit code as ERROR', async () => {
    const { result } = await run({ cmd: ['sh', '-c', 'echo failing; exit 3'] });
    expect(result).toEqual({ ok: false, error: 'USER_TASK command exited with code 3' });
    expect(containers()).toEqual([]);
  });

  it('is canceled through the signal: the command dies and the container is removed', async () => {
    const ac = new AbortController();
    const marker = `sleep ${3000 + Math.floor(Math.random() * 900)}`;
    const { result, seconds } = await run({ cmd: ['sh', '-c', `echo started; ${marker}`] }, {
      signal: ac.signal,
      onLine: (l) => { if (l.text === 'started') ac.abort(); },
    });
    expect(result).toEqual({ ok: false, error: 'USER_TASK step canceled' });
    expect(seconds).toBeLessThan(20);
    expect(execFileSync('ps', ['-eo', 'args']).toString()).not.toContain(marker);
    expect(containers()).toEqual([]);
  });

  it('times out after defaultStepTimeoutSec', async () => {
    const { result, seconds } = await run({ cmd: ['sleep', '60'] }, { timeoutSec: 3 });
    expect(result).toEqual({ ok: false, error: 'USER_TASK step timed out after 3s' });
    expect(seconds).toBeLessThan(10);
    expect(containers()).toEqual([]);
  });

  it('refuses mounts outside the workspace and relative container paths', async () => {
    const outside = await run({ cmd: ['true'], dockerVolumeMountVOList: [{ hostPath: '$PWD/../etc', containerPath: '/x' }] });
    expect(outside.result.ok).toBe(false);
    expect(outside.result.error).toMatch(/outside the run's workspace/);
    const relative = await run({ cmd: ['true'], dockerVolumeMountVOList: [{ hostPath: 'a', containerPath: 'x' }] });
    expect(relative.result.error).toMatch(/containerPath "x" must be an absolute path/);
    const badEnv = await run({ cmd: ['true'], envs: [{ key: 'A=B', value: '1' }] });
    expect(badEnv.result.error).toMatch(/env name "A=B" is not valid/);
    expect((await run({ cmd: [] })).result.error).toMatch(/cmd must be a non-empty list/);
  });

  it('fails clearly when the image does not exist', async () => {
    const { result } = await run({ imageName: 'base/nothing-here', imageTag: '9' });
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(new RegExp(`USER_TASK: pulling ${reg.host}/base/nothing-here:9 failed`));
    expect(containers()).toEqual([]);
  });
});
