import { execFileSync } from 'node:child_process';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ftpStep } from '../../../src/engine/steps/ftp.js';
import { parseFtpUrl } from '../../../src/engine/steps/rules.js';
import type { StepContext } from '../../../src/engine/steps/types.js';
import type { FtpConfig, FtpType, LogSource } from '../../../src/providers/types.js';
import { startFtpServer } from '../../servers/ftp.js';
import { startSftpServer } from '../../servers/sftp.js';

const USER = 'runapps';
const PASSWORD = 'ftp-Pass-9876';
let certDir: string;
let tls: { key: string; cert: string };

beforeAll(async () => {
  certDir = await mkdtemp(path.join(os.tmpdir(), 'ftp-cert-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-keyout', path.join(certDir, 'key.pem'), '-out', path.join(certDir, 'cert.pem')], { stdio: 'ignore' });
  tls = { key: await readFile(path.join(certDir, 'key.pem'), 'utf8'), cert: await readFile(path.join(certDir, 'cert.pem'), 'utf8') };
});
afterAll(async () => { await rm(certDir, { recursive: true, force: true }); });

let workspace: string;
let serverRoot: string;
beforeEach(async () => {
  workspace = await mkdtemp(path.join(os.tmpdir(), 'ftp-ws-'));
  serverRoot = await mkdtemp(path.join(os.tmpdir(), 'ftp-root-'));
});
afterEach(async () => {
  await rm(workspace, { recursive: true, force: true });
  await rm(serverRoot, { recursive: true, force: true });
});

function context(config: Partial<FtpConfig>, allowPrivateHosts = ['127.0.0.1'], signal = new AbortController().signal) {
  const lines: { stream: LogSource; text: string }[] = [];
  const ctx: StepContext = {
    runKey: 'r1', stepRunKey: 's1', workspace, tempDir: os.tmpdir(), signal, tagName: null,
    config: { stepType: 'FTP', url: '127.0.0.1', ftpType: 'FTP', username: USER, password: PASSWORD,
      sourceFiles: '/data/dataset', remoteDirectory: 'data/gradle-sample-dataset', ftpExecType: 'DIR_FTP_DOWN', ...config } as FtpConfig,
    log: (stream, text) => { lines.push({ stream, text }); },
    build: { imageName: null, registryName: null },
    env: {
      registry: { host: '127.0.0.1:5000', insecure: true }, buildah: { storageDriver: 'vfs', isolation: 'chroot' },
      allowPrivateHosts, defaultStepTimeoutSec: 30,
    },
  };
  return { ctx, lines };
}

async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out[path.relative(dir, path.join(e.parentPath, e.name))] = await readFile(path.join(e.parentPath, e.name), 'utf8');
  }
  return out;
}

async function writeTree(dir: string, files: Record<string, string>): Promise<void> {
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), text);
  }
}

const FILES = { 'a.txt': 'alpha\n', 'sub/b.txt': 'bravo\n', 'sub/deeper/c.bin': 'charlie' };

describe.each<[FtpType, boolean]>([['FTP', false], ['FTPS', true], ['SFTP', false]])('FTP step over %s', (ftpType, ignoreSslErrors) => {
  let server: { port: number; close(): Promise<void> };
  let url: string;
  beforeEach(async () => {
    const opts = { root: serverRoot, user: USER, password: PASSWORD };
    server = ftpType === 'SFTP' ? await startSftpServer(opts) : await startFtpServer({ ...opts, tls: ftpType === 'FTPS' ? tls : undefined });
    url = `127.0.0.1:${server.port}`;
  });
  afterEach(async () => { await server.close(); });
  const cfg = (c: Partial<FtpConfig>) => ({ ftpType, url, ignoreSslErrors, ...c });

  it('uploads one file into a remote directory it creates', async () => {
    await writeTree(workspace, { 'build/app.jar': 'jar-bytes' });
    const { ctx, lines } = context(cfg({ ftpExecType: 'FTP_UPLOAD', sourceFiles: 'build/app.jar', remoteDirectory: 'releases/v1' }));
    expect(await ftpStep(ctx)).toEqual({ ok: true });
    expect(await tree(serverRoot)).toEqual({ 'releases/v1/app.jar': 'jar-bytes' });
    expect(lines.at(-1)!.text).toBe('uploaded 1 file(s), 9 bytes');
    expect(lines.map((l) => l.text).join('\n')).not.toContain(PASSWORD);
  });

  it('downloads one remote file into a local directory', async () => {
    await writeTree(serverRoot, { 'pub/report.txt': 'report' });
    const { ctx } = context(cfg({ ftpExecType: 'FTP_DOWN', sourceFiles: '$PWD/downloads', remoteDirectory: 'pub/report.txt' }));
    expect(await ftpStep(ctx)).toEqual({ ok: true });
    expect(await tree(workspace)).toEqual({ 'downloads/report.txt': 'report' });
  });

  it('uploads a directory tree', async () => {
    await writeTree(path.join(workspace, 'dist'), FILES);
    const { ctx } = context(cfg({ ftpExecType: 'DIR_FTP_UPLOAD', sourceFiles: 'dist', remoteDirectory: '/site' }));
    expect(await ftpStep(ctx)).toEqual({ ok: true });
    expect(await tree(path.join(serverRoot, 'site'))).toEqual(FILES);
  });

  it('downloads a directory tree as in the seed example', async () => {
    await writeTree(path.join(serverRoot, 'data/gradle-sample-dataset'), FILES);
    const { ctx } = context(cfg({ ftpExecType: 'DIR_FTP_DOWN', sourceFiles: '/data/dataset', remoteDirectory: 'data/gradle-sample-dataset' }));
    expect(await ftpStep(ctx)).toEqual({ ok: true });
    expect(await tree(path.join(workspace, 'data/dataset'))).toEqual(FILES);
  });

  it('fails with a clear error on a wrong password', async () => {
    const { ctx, lines } = context(cfg({ password: 'wrong-pass-000', ftpExecType: 'FTP_DOWN', sourceFiles: 'x', remoteDirectory: 'y' }));
    const res = await ftpStep(ctx);
    expect(res).toEqual({ ok: false, error: `${ftpType} FTP_DOWN ${ftpType.toLowerCase()}://${url} failed: login as ${USER} refused (check username and password)` });
    expect(lines.map((l) => l.text).join('\n')).not.toContain('wrong-pass-000');
  });

  it('fails when the remote file does not exist', async () => {
    const res = await ftpStep(context(cfg({ ftpExecType: 'FTP_DOWN', sourceFiles: 'x', remoteDirectory: 'missing.txt' })).ctx);
    expect(res.ok).toBe(false);
    expect(res.error).toMatch(/FTP_DOWN .* failed: /);
  });
});

describe('FTP step safety', () => {
  it('refuses an FTPS server whose certificate is not trusted unless ignoreSslErrors is set', async () => {
    const server = await startFtpServer({ root: serverRoot, user: USER, password: PASSWORD, tls });
    try {
      await writeTree(workspace, { 'f.txt': 'x' });
      const res = await ftpStep(context({ ftpType: 'FTPS', url: `ftps://127.0.0.1:${server.port}`, ftpExecType: 'FTP_UPLOAD', sourceFiles: 'f.txt', remoteDirectory: '.' }).ctx);
      expect(res).toEqual({ ok: false, error: expect.stringMatching(/TLS certificate not trusted: .*self-signed.*ignoreSslErrors/) });
      expect(await tree(serverRoot)).toEqual({});
    } finally {
      await server.close();
    }
  });

  it('refuses 127.0.0.1 when it is not allowed, without connecting', async () => {
    const server = await startFtpServer({ root: serverRoot, user: USER, password: PASSWORD });
    try {
      const res = await ftpStep(context({ url: `127.0.0.1:${server.port}`, ftpExecType: 'FTP_DOWN', sourceFiles: 'x', remoteDirectory: 'y' }, []).ctx);
      expect(res).toEqual({ ok: false, error: expect.stringMatching(/127\.0\.0\.1.*private\/loopback/) });
      expect(server.connections).toBe(0);
      // the same request with 127.0.0.1 allowed does reach the server
      await ftpStep(context({ url: `127.0.0.1:${server.port}`, ftpExecType: 'FTP_DOWN', sourceFiles: 'x', remoteDirectory: 'y' }).ctx);
      expect(server.connections).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('does not upload through symlinks that leave the workspace', async () => {
    const server = await startSftpServer({ root: serverRoot, user: USER, password: PASSWORD });
    const outside = await mkdtemp(path.join(os.tmpdir(), 'ftp-outside-'));
    try {
      await writeFile(path.join(outside, 'secret.txt'), 'do not send');
      await writeTree(path.join(workspace, 'dist'), { 'ok.txt': 'fine' });
      await symlink(path.join(outside, 'secret.txt'), path.join(workspace, 'dist/leak.txt'));
      await symlink(outside, path.join(workspace, 'dist/leakdir'));
      await symlink(outside, path.join(workspace, 'linked'));
      const { ctx, lines } = context({ ftpType: 'SFTP', url: `127.0.0.1:${server.port}`, ftpExecType: 'DIR_FTP_UPLOAD', sourceFiles: 'dist', remoteDirectory: 'out' });
      expect(await ftpStep(ctx)).toEqual({ ok: true });
      expect(await tree(serverRoot)).toEqual({ 'out/ok.txt': 'fine' });
      expect(lines.some((l) => /skipped dist\/leak\.txt/.test(l.text))).toBe(true);
      const single = await ftpStep(context({ ftpType: 'SFTP', url: `127.0.0.1:${server.port}`, ftpExecType: 'FTP_UPLOAD', sourceFiles: 'linked/secret.txt', remoteDirectory: 'out' }).ctx);
      expect(single).toEqual({ ok: false, error: expect.stringMatching(/leaves the workspace through a symlink/) });
      const down = await ftpStep(context({ ftpType: 'SFTP', url: `127.0.0.1:${server.port}`, ftpExecType: 'DIR_FTP_DOWN', sourceFiles: 'linked', remoteDirectory: 'out' }).ctx);
      expect(down).toEqual({ ok: false, error: expect.stringMatching(/leaves the workspace through a symlink/) });
      expect(await readdir(outside)).toEqual(['secret.txt']);
    } finally {
      await server.close();
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('refuses a local path outside the workspace and bad settings before connecting', async () => {
    expect((await ftpStep(context({ sourceFiles: '../../etc' }).ctx)).error).toMatch(/outside the run's workspace/);
    expect((await ftpStep(context({ ftpExecType: 'MOVE' as never }).ctx)).error).toMatch(/ftpExecType must be one of/);
    expect((await ftpStep(context({ url: 'ftp://h/some/path' }).ctx)).error).toMatch(/must be host\[:port\]/);
  });

  it('reads url as host[:port] with an optional scheme', () => {
    expect(parseFtpUrl('test-ftp.gradle-sample-test', 'SFTP')).toEqual({ host: 'test-ftp.gradle-sample-test', port: 22 });
    expect(parseFtpUrl('ftp://files.example:2121/', 'FTP')).toEqual({ host: 'files.example', port: 2121 });
    expect(parseFtpUrl('[::1]:990', 'FTPS')).toEqual({ host: '::1', port: 990 });
  });

  describe('against a server that accepts and never answers', () => {
    let silent: Server;
    let port: number;
    beforeEach(async () => {
      silent = createServer((socket) => socket.resume()); // read and say nothing
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      port = (silent.address() as AddressInfo).port;
    });
    afterEach(async () => { await new Promise((r) => silent.close(r)); });

    it.each<FtpType>(['FTP', 'SFTP'])('%s is canceled by the signal while connecting', async (ftpType) => {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 200);
      const t0 = Date.now();
      const res = await ftpStep(context({ ftpType, url: `127.0.0.1:${port}`, ftpExecType: 'FTP_DOWN', sourceFiles: 'x', remoteDirectory: 'y' }, ['127.0.0.1'], ac.signal).ctx);
      expect(res).toEqual({ ok: false, error: 'FTP step canceled' });
      expect(Date.now() - t0).toBeLessThan(2000);
    });

    it('times out after the engine step timeout', async () => {
      const { ctx } = context({ url: `127.0.0.1:${port}`, ftpExecType: 'FTP_DOWN', sourceFiles: 'x', remoteDirectory: 'y' });
      ctx.env.defaultStepTimeoutSec = 1;
      expect(await ftpStep(ctx)).toEqual({ ok: false, error: 'FTP step timed out after 1s' });
    });
  });
});
