import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CreateImageConfig, LogSource, StepConfig, UserTaskConfig } from '../../../src/providers/types.js';
import { storageArgs, type BuildahSettings } from '../../../src/engine/buildah.js';
import { parseRegistry, RegistryClient } from '../../../src/engine/registry.js';
import { createImageStep } from '../../../src/engine/steps/create-image.js';
import { userTaskStep } from '../../../src/engine/steps/user-task.js';
import type { StepContext, StepExecutor, StepResult } from '../../../src/engine/steps/types.js';
import { busyboxImage, tempBuildah } from '../../support/busybox-image.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';

let reg: TestRegistry;
let storage: { settings: BuildahSettings; cleanup(): Promise<void> };
let base: string;
let workspace: string;

beforeAll(async () => {
  reg = await startRegistry();
  storage = await tempBuildah();
  base = await busyboxImage(reg.host, storage.settings);
}, 120_000);
afterAll(async () => {
  await reg?.stop();
  await storage?.cleanup();
});
beforeEach(async () => {
  workspace = await mkdtemp(path.join(tmpdir(), 'buildgate-ws-'));
  await writeFile(path.join(workspace, 'hello.txt'), 'hello from the workspace\n');
});
afterEach(async () => { await rm(workspace, { recursive: true, force: true }); });

type Line = { stream: LogSource; text: string };
interface RunOpts { tagName?: string | null; signal?: AbortSignal; onLine?(l: Line): void; build?: StepContext['build']; allowPrivateHosts?: string[] }

async function run(step: StepExecutor, config: StepConfig, opts: RunOpts = {}) {
  const lines: Line[] = [];
  const ctx: StepContext = {
    runKey: 'r1', stepRunKey: 'sr1', workspace, tempDir: tmpdir(), config,
    signal: opts.signal ?? new AbortController().signal,
    log: (stream, text) => { lines.push({ stream, text }); opts.onLine?.({ stream, text }); },
    tagName: opts.tagName ?? null,
    build: opts.build ?? { imageName: null, registryName: null },
    env: { registry: { host: reg.host, insecure: true }, buildah: storage.settings, allowPrivateHosts: opts.allowPrivateHosts ?? [], defaultStepTimeoutSec: 300 },
  };
  const started = Date.now();
  const result: StepResult = await step(ctx);
  return { result, lines, seconds: (Date.now() - started) / 1000 };
}

/** Working containers left in the test storage (bud's own, when a build stops half-way). */
function containers(): string[] {
  return execFileSync('buildah', [...storageArgs(storage.settings), 'containers', '--all', '--noheading', '--format', '{{.ContainerName}}'])
    .toString().split('\n').filter(Boolean);
}

const image = (c: Partial<CreateImageConfig>): CreateImageConfig => ({
  stepType: 'CREATE_IMAGE', dockerFileType: 'CONTENTS', registryName: 'dev', imageName: 'app', ...c,
});
const dockerfile = () => `FROM ${base}\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt > /copied.txt\n`;

describe('CREATE_IMAGE step (buildah bud + push to a local docker-registry)', () => {
  it('builds from Dockerfile text, pushes tag and latest, and reports digest and size read from the registry', async () => {
    const { result, seconds } = await run(createImageStep, image({ dockerFile: dockerfile(), imageTag: 'ignored', latestApply: true }), { tagName: 'v1' });
    console.log(`CREATE_IMAGE (bud + push of 2 tags) took ${seconds.toFixed(2)}s`);
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.image).toEqual({
      url: `${reg.host}/dev/app:v1`, repository: 'dev/app', tag: 'v1',
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), size: expect.any(Number),
    });
    const client = new RegistryClient(parseRegistry(reg.host, true));
    expect((await client.listTags('dev/app')).sort()).toEqual(['latest', 'v1']);
    const m = await client.manifest('dev/app', 'v1');
    expect(m!.digest).toBe(result.image!.digest);
    expect(m!.size).toBe(result.image!.size);
    expect(result.image!.size).toBeGreaterThan(500_000);
    expect((await client.manifest('dev/app', 'latest'))!.digest).toBe(result.image!.digest);
    // The built image was only a local step on the way to the registry.
    expect(execFileSync('buildah', [...storageArgs(storage.settings), 'images', '--format', '{{.Name}}']).toString())
      .not.toMatch(/buildgate-build|dev\/app/);

    // The image really holds what the Dockerfile did: run it.
    const task: UserTaskConfig = { stepType: 'USER_TASK', imageName: 'dev/app', imageTag: 'v1', cmd: ['cat', '/copied.txt'] };
    const ran = await run(userTaskStep, task);
    expect(ran.result).toEqual({ ok: true });
    expect(ran.lines.filter((l) => l.stream === 'STDOUT').map((l) => l.text)).toContain('hello from the workspace');
  });

  it('builds from a Dockerfile path in the workspace, with the image tag of the config and names of the build', async () => {
    await mkdir(path.join(workspace, 'docker'));
    await writeFile(path.join(workspace, 'docker/Dockerfile.app'), dockerfile());
    const { result } = await run(
      createImageStep,
      image({ dockerFileType: 'FILE_PATH', dockerFilePath: '$PWD/docker/Dockerfile.app', registryName: '', imageName: '', imageTag: '2.0' }),
      { build: { registryName: 'team', imageName: 'svc' } },
    );
    expect(result.ok).toBe(true);
    expect(result.image).toMatchObject({ url: `${reg.host}/team/svc:2.0`, repository: 'team/svc', tag: '2.0' });
    expect(await new RegistryClient(parseRegistry(reg.host, true)).listTags('team/svc')).toEqual(['2.0']);
  });

  it('fails with the builder\'s reason when a Dockerfile instruction fails', async () => {
    const { result } = await run(createImageStep, image({ dockerFile: `FROM ${base}\nRUN echo boom && exit 7\n`, imageName: 'broken' }));
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(new RegExp(`^CREATE_IMAGE: building ${reg.host}/dev/broken:latest failed \\(exit code \\d+\\)`));
    expect(await new RegistryClient(parseRegistry(reg.host, true)).listTags('dev/broken')).toEqual([]);
    expect(containers()).toEqual([]);
  });

  it('fails at once with a clear error when the registry is down', async () => {
    const { result, seconds } = await run(createImageStep, image({ dockerFile: dockerfile(), registryUrl: 'http://127.0.0.1:1' }), { allowPrivateHosts: ['127.0.0.1'] });
    expect(result).toEqual({ ok: false, error: 'CREATE_IMAGE: registry 127.0.0.1:1 is unreachable (ECONNREFUSED)' });
    expect(seconds).toBeLessThan(5);
  });

  it('fails clearly when the registry goes down during the build, before the push', async () => {
    const doomed = await startRegistry();
    let stopped: Promise<void> | null = null;
    const { result, seconds } = await run(
      createImageStep,
      image({ dockerFile: `FROM ${base}\nRUN echo building && sleep 1\n`, registryUrl: doomed.host, imageName: 'late' }),
      { onLine: (l) => { if (l.text === 'building') stopped = doomed.stop(); }, allowPrivateHosts: ['127.0.0.1'] },
    );
    await stopped;
    console.log(`CREATE_IMAGE with the registry gone at push time failed after ${seconds.toFixed(2)}s: ${result.error}`);
    expect(stopped).not.toBeNull();
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(new RegExp(`^CREATE_IMAGE: pushing ${doomed.host}/dev/late:latest failed .*connection refused`));
    expect(containers()).toEqual([]);
  });

  it('refuses a Dockerfile path outside the workspace and names that are not image names', async () => {
    const outside = await run(createImageStep, image({ dockerFileType: 'FILE_PATH', dockerFilePath: '../../etc/passwd' }));
    expect(outside.result.error).toMatch(/outside the run's workspace/);
    const upper = await run(createImageStep, image({ dockerFile: dockerfile(), imageName: 'MyApp' }));
    expect(upper.result.error).toMatch(/imageName "MyApp" is not a valid image name/);
    const tag = await run(createImageStep, image({ dockerFile: dockerfile() }), { tagName: 'bad tag' });
    expect(tag.result.error).toMatch(/tag "bad tag" is not a valid image tag/);
  });

  it('is canceled during the build, leaving no process behind', async () => {
    const ac = new AbortController();
    const marker = `sleep ${4000 + Math.floor(Math.random() * 900)}`;
    const { result, seconds } = await run(
      createImageStep,
      image({ dockerFile: `FROM ${base}\nRUN echo building && ${marker}\n`, imageName: 'slow' }),
      { signal: ac.signal, onLine: (l) => { if (l.text === 'building') ac.abort(); } },
    );
    expect(result).toEqual({ ok: false, error: 'CREATE_IMAGE step canceled' });
    expect(seconds).toBeLessThan(30);
    expect(execFileSync('ps', ['-eo', 'args']).toString()).not.toContain(marker);
    expect(containers()).toEqual([]);
  });
});

describe('CREATE_IMAGE to a registry that needs a login', () => {
  let authReg: TestRegistry;
  const password = 'S3cret-registry-pass';
  beforeAll(async () => { authReg = await startRegistry({ auth: { username: 'ci', password } }); }, 30_000);
  afterAll(async () => { await authReg?.stop(); });

  it('pushes with loginId/password and never shows the password', async () => {
    const { result, lines } = await run(createImageStep, image({
      dockerFile: dockerfile(), registryUrl: authReg.host, registryName: 'secure', loginId: 'ci', password,
    }), { tagName: 't1', allowPrivateHosts: ['127.0.0.1'] });
    expect(result.error).toBeUndefined();
    expect(result.image).toMatchObject({ url: `${authReg.host}/secure/app:t1`, size: expect.any(Number) });
    expect(JSON.stringify(lines)).not.toContain(password);
    const client = new RegistryClient({ ...parseRegistry(authReg.host, true), username: 'ci', password });
    expect(await client.listTags('secure/app')).toEqual(['t1']);
  });

  it('fails clearly with a wrong password, without repeating it', async () => {
    const wrong = `${password}-wrong`;
    const { result, lines } = await run(createImageStep, image({
      dockerFile: dockerfile(), registryUrl: authReg.host, registryName: 'secure', loginId: 'ci', password: wrong,
    }), { allowPrivateHosts: ['127.0.0.1'] });
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/401 \(credentials missing or wrong\)/);
    expect(JSON.stringify({ result, lines })).not.toContain(wrong);
  });
});
