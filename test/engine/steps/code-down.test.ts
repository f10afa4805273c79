import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { codeDownStep } from '../../../src/engine/steps/code-down.js';
import { repositoryUrl } from '../../../src/engine/steps/rules.js';
import type { StepContext } from '../../../src/engine/steps/types.js';
import type { CodeDownConfig, LogSource } from '../../../src/providers/types.js';
import { startGitHttpServer, type GitHttpServer } from '../../servers/git-http.js';

const USER = 'builder';
const PASSWORD = 'pa55-Secret-xyz';
let root: string;
let server: GitHttpServer;
let commit: string;

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } }).trim();

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'git-root-'));
  const src = path.join(root, 'src');
  execFileSync('mkdir', ['-p', src]);
  git(src, 'init', '-q', '-b', 'main');
  await writeFile(path.join(src, 'README.md'), 'hello from main\n');
  git(src, 'add', '.');
  git(src, 'commit', '-q', '-m', 'first');
  git(src, 'checkout', '-q', '-b', 'feature');
  await writeFile(path.join(src, 'feature.txt'), 'feature\n');
  git(src, 'add', '.');
  git(src, 'commit', '-q', '-m', 'feature');
  commit = git(src, 'rev-parse', 'HEAD');
  git(root, 'clone', '-q', '--bare', src, path.join(root, 'app.git'));
  server = await startGitHttpServer(root, USER, PASSWORD);
});
afterAll(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
});

let workspace: string;
beforeEach(async () => { workspace = await mkdtemp(path.join(os.tmpdir(), 'codedown-test-')); });
afterEach(async () => { await rm(workspace, { recursive: true, force: true }); });

function context(config: Partial<CodeDownConfig>, allowPrivateHosts = ['127.0.0.1'], signal = new AbortController().signal) {
  const lines: { stream: LogSource; text: string }[] = [];
  const ctx: StepContext = {
    runKey: 'r1', stepRunKey: 's1', workspace, tempDir: os.tmpdir(), signal, tagName: null,
    config: {
      stepType: 'CODE_DOWN', repositoryType: 'GIT', commonType: 'PRIVATE', protocolType: 'http',
      repositoryUrl: `127.0.0.1:${server.port}/app.git`, branchName: 'feature', userId: USER, password: PASSWORD, ...config,
    },
    log: (stream, text) => { lines.push({ stream, text }); },
    build: { imageName: null, registryName: null },
    env: {
      registry: { host: '127.0.0.1:5000', insecure: true }, buildah: { storageDriver: 'vfs', isolation: 'chroot' },
      allowPrivateHosts, defaultStepTimeoutSec: 60,
    },
  };
  return { ctx, lines };
}

describe('CODE_DOWN step', () => {
  it('clones the branch with credentials kept out of URL, config and log, and reports the commit', async () => {
    const { ctx, lines } = context({ codeSaveDir: 'repo' });
    const res = await codeDownStep(ctx);
    expect(res).toEqual({ ok: true, sourceRevision: commit });
    expect(await readFile(path.join(workspace, 'repo/feature.txt'), 'utf8')).toBe('feature\n');
    expect(await readFile(path.join(workspace, 'repo/README.md'), 'utf8')).toBe('hello from main\n');
    const gitConfig = await readFile(path.join(workspace, 'repo/.git/config'), 'utf8');
    expect(gitConfig).toContain(`url = http://127.0.0.1:${server.port}/app.git`);
    expect(gitConfig).not.toContain(PASSWORD);
    expect(gitConfig).not.toContain(USER);
    const log = lines.map((l) => l.text).join('\n');
    expect(log).not.toContain(PASSWORD);
    expect(lines[0]!.text).toMatch(/^CODE_DOWN git clone http:\/\/127\.0\.0\.1:\d+\/app\.git branch feature into repo as builder \(password \*\*\*\)$/);
    expect(lines.some((l) => l.stream === 'STDERR' && /^Cloning into/.test(l.text))).toBe(true);
    expect(lines.at(-1)!.text).toBe(`checked out feature at ${commit}`);
    // the server did receive the right credentials (through the askpass helper)
    expect(server.authHeaders).toContain('Basic ' + Buffer.from(`${USER}:${PASSWORD}`).toString('base64'));
    // the single-branch clone knows no other branch
    expect(git(path.join(workspace, 'repo'), 'branch', '-r')).not.toContain('main');
  });

  it('clones into the repository name by default', async () => {
    const res = await codeDownStep(context({ codeSaveDir: null, branchName: 'main' }).ctx);
    expect(res.ok).toBe(true);
    expect(await readdir(path.join(workspace, 'app'))).toEqual(expect.arrayContaining(['README.md', '.git']));
  });

  it('fails with a clear message on a wrong password', async () => {
    const { ctx, lines } = context({ password: 'wrong-password-123' });
    const res = await codeDownStep(ctx);
    expect(res).toEqual({ ok: false, error: `git clone http://127.0.0.1:${server.port}/app.git: authentication failed (check userId and password/token)` });
    expect(lines.map((l) => l.text).join('\n')).not.toContain('wrong-password-123');
  });

  it('fails with a clear message when no credentials are given for a private repository', async () => {
    const res = await codeDownStep(context({ userId: null, password: null }).ctx);
    expect(res.error).toMatch(/requires credentials/);
  });

  it('fails when the branch does not exist', async () => {
    const res = await codeDownStep(context({ branchName: 'no-such-branch' }).ctx);
    expect(res).toEqual({ ok: false, error: `git clone http://127.0.0.1:${server.port}/app.git: branch "no-such-branch" not found` });
  });

  it('fails when the repository does not exist', async () => {
    const res = await codeDownStep(context({ repositoryUrl: `127.0.0.1:${server.port}/nope.git` }).ctx);
    expect(res).toEqual({ ok: false, error: `git clone http://127.0.0.1:${server.port}/nope.git: repository not found` });
  });

  it('refuses a loopback host when it is not allowed, before running git', async () => {
    const before = server.authHeaders.length;
    const res = await codeDownStep(context({}, []).ctx);
    expect(res.error).toMatch(/127\.0\.0\.1.*private\/loopback.*allowPrivateHosts/);
    expect(server.authHeaders.length).toBe(before);
  });

  it('refuses codeSaveDir outside the workspace, credentials in the URL and non-http schemes', async () => {
    expect((await codeDownStep(context({ codeSaveDir: '../../elsewhere' }).ctx)).error).toMatch(/outside the run's workspace/);
    expect((await codeDownStep(context({ repositoryUrl: `http://u:p@127.0.0.1:${server.port}/app.git` }).ctx)).error).toMatch(/must not contain credentials/);
    expect((await codeDownStep(context({ repositoryUrl: 'file:///etc/app.git' }).ctx)).error).toMatch(/must use http or https, got file/);
  });

  it('adds the protocolType to scheme-less URLs as the Cocktail model writes them', () => {
    expect(repositoryUrl({ repositoryUrl: 'github.com/codefresh-contrib/gradle-sample-app.git', protocolType: 'https' }).toString())
      .toBe('https://github.com/codefresh-contrib/gradle-sample-app.git');
    expect(repositoryUrl({ repositoryUrl: 'localhost:8080/x.git', protocolType: 'http' }).toString()).toBe('http://localhost:8080/x.git');
    expect(repositoryUrl({ repositoryUrl: 'https://h/x.git', protocolType: 'http' }).toString()).toBe('https://h/x.git');
  });

  it('is canceled by the signal', async () => {
    const ac = new AbortController();
    ac.abort();
    const res = await codeDownStep(context({}, ['127.0.0.1'], ac.signal).ctx);
    expect(res).toEqual({ ok: false, error: 'CODE_DOWN step canceled' });
  });

  it('clones from a host name allowed by name, pinned to the checked addresses', async () => {
    const { ctx } = context({ repositoryUrl: `localhost:${server.port}/app.git` }, ['localhost']);
    const res = await codeDownStep(ctx);
    expect(res).toEqual({ ok: true, sourceRevision: commit });
  });
});
