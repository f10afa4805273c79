import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, realpath } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { Client as FtpClient, FTPError } from 'basic-ftp';
import SftpClient from 'ssh2-sftp-client';
import type { FtpConfig } from '../../model.js';
import { assertAllowedHost } from '../../net/guard.js';
import { workspacePath } from '../workspace.js';
import { checkStepConfig, parseFtpUrl } from './rules.js';
import type { StepExecutor } from './types.js';

/**
 * FTP step: FTP, FTPS (explicit AUTH TLS) or SFTP transfers between the workspace and a server.
 *
 * Which field is which (the Cocktail model keeps the Jenkins "Publish over FTP" names, whatever
 * the direction): `sourceFiles` is always the LOCAL path, inside the workspace ("/data/x" means
 * <workspace>/data/x); `remoteDirectory` is always the REMOTE path, relative to the login
 * directory unless absolute. On a single-file transfer the source side names the file and the
 * destination side the directory that receives it under the same name:
 *
 * | ftpExecType    | from                         | to                                   |
 * |----------------|------------------------------|--------------------------------------|
 * | FTP_UPLOAD     | local file `sourceFiles`     | remote dir `remoteDirectory`         |
 * | FTP_DOWN       | remote file `remoteDirectory`| local dir `sourceFiles`              |
 * | DIR_FTP_UPLOAD | local dir `sourceFiles` tree | into remote dir `remoteDirectory`    |
 * | DIR_FTP_DOWN   | remote dir `remoteDirectory` | into local dir `sourceFiles`         |
 *
 * Destination directories are created. `url` is host[:port], optionally with an ftp://,
 * ftps:// or sftp:// scheme; `ftpType` decides the protocol. FTPS verifies the server's
 * certificate unless the config sets `ignoreSslErrors: true`.
 * SFTP has no field to pin a host key: the key's fingerprint is logged instead.
 * `sourceFiles` may go through symlinks that stay in the workspace (see workspacePath); inside
 * a tree symlinks are never followed: an upload must not send files from outside the workspace
 * and a download must not write outside it. Remote names with a slash, `.` or `..` are skipped.
 */


interface Entry { name: string; kind: 'file' | 'dir' | 'other' }
/** What the transfer logic needs of a server; remote paths are absolute. */
interface RemoteFs {
  list(dir: string): Promise<Entry[]>;
  download(remote: string, local: string): Promise<void>;
  upload(local: string, remote: string): Promise<void>;
  mkdirp(dir: string): Promise<void>;
  /** The login directory: relative remote paths are resolved against it. */
  home(): Promise<string>;
  close(): void;
}
interface Target { host: string; port: number; address: string; user: string; password: string; insecureTls: boolean }

export const ftpStep: StepExecutor = async (ctx) => {
  const cfg = ctx.config as FtpConfig;
  let host: string, port: number, local: string, root: string;
  try {
    checkStepConfig(cfg);
    ({ host, port } = parseFtpUrl(cfg.url, cfg.ftpType));
    local = await workspacePath(ctx.workspace, cfg.sourceFiles, 'sourceFiles');
    root = await realpath(ctx.workspace);
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
  const upload = cfg.ftpExecType.includes('UPLOAD');
  const dir = cfg.ftpExecType.startsWith('DIR_');
  const where = `${cfg.ftpType.toLowerCase()}://${host}:${port}`;
  const localShown = path.relative(root, local) || '.';
  ctx.log('SYSTEM', `FTP ${cfg.ftpExecType} ${upload ? `${localShown} -> ${where} ${cfg.remoteDirectory}` : `${where} ${cfg.remoteDirectory} -> ${localShown}`}` +
    ` as ${cfg.username || 'anonymous'}${cfg.ftpType === 'FTPS' && cfg.ignoreSslErrors ? ' (TLS certificate not verified)' : ''}`);

  // one signal for cancel and the engine's step timeout: either closes the connection
  const timeoutSec = ctx.env.defaultStepTimeoutSec;
  const signal = timeoutSec > 0 ? AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutSec * 1000)]) : ctx.signal;
  let remote: RemoteFs | null = null;
  const onAbort = () => remote?.close();
  signal.addEventListener('abort', onAbort, { once: true });
  const stats = { files: 0, bytes: 0 };
  try {
    const [address] = await assertAllowedHost(host, ctx.env.allowPrivateHosts);
    const target: Target = { host, port, address: address!, user: cfg.username || 'anonymous', password: cfg.password ?? '', insecureTls: Boolean(cfg.ignoreSslErrors) };
    remote = cfg.ftpType === 'SFTP' ? await connectSftp(target, signal, ctx.log) : await connectFtp(target, signal, cfg.ftpType === 'FTPS');
    if (signal.aborted) throw signal.reason;
    const home = await remote.home();
    const remotePath = path.posix.resolve(home, cfg.remoteDirectory.trim());
    const t = { remote, root, signal, stats, log: (text: string) => ctx.log('SYSTEM', text) };
    if (upload && dir) await uploadTree(t, local, remotePath);
    else if (upload) await uploadFile(t, local, remotePath);
    else if (dir) await downloadTree(t, remotePath, local);
    else await downloadFile(t, remotePath, local);
    ctx.log('SYSTEM', `${upload ? 'uploaded' : 'downloaded'} ${stats.files} file(s), ${stats.bytes} bytes`);
    return { ok: true };
  } catch (e) {
    if (ctx.signal.aborted) return { ok: false, error: 'FTP step canceled' };
    if (signal.aborted) return { ok: false, error: `FTP step timed out after ${timeoutSec}s` };
    return { ok: false, error: `${cfg.ftpType} ${cfg.ftpExecType} ${where} failed: ${explain(e, cfg.username || 'anonymous')}` };
  } finally {
    signal.removeEventListener('abort', onAbort);
    remote?.close();
  }
};

function explain(e: unknown, user: string): string {
  const err = e as Error & { code?: unknown };
  if ((e instanceof FTPError && err.code === 530) || /All configured authentication methods failed/.test(err.message ?? '')) {
    return `login as ${user} refused (check username and password)`;
  }
  if (err.code === 'ECONNREFUSED') return 'connection refused';
  if (typeof err.code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(err.code)) {
    return `TLS certificate not trusted: ${err.message} (set ignoreSslErrors to accept it)`;
  }
  return err.message ?? String(e);
}

/** Runs `connect`, closing the half-open connection if the signal fires meanwhile. */
async function connecting(signal: AbortSignal, close: () => void, connect: () => Promise<unknown>): Promise<void> {
  signal.addEventListener('abort', close, { once: true });
  try {
    await connect();
  } catch (e) {
    close();
    throw e;
  } finally {
    signal.removeEventListener('abort', close);
  }
}

async function connectFtp(t: Target, signal: AbortSignal, secure: boolean): Promise<RemoteFs> {
  // the server's PASV answer may name another host: a data connection there would bypass the guard
  const client = new FtpClient(30_000, { allowSeparateTransferHost: false });
  const servername = isIP(t.host) ? undefined : t.host;
  await connecting(signal, () => client.close(), () => client.access({
    host: t.address, port: t.port, user: t.user, password: t.password, secure,
    secureOptions: { servername, rejectUnauthorized: !t.insecureTls },
  }));
  return {
    list: async (dir) => (await client.list(dir)).map((f) => ({ name: f.name, kind: f.isDirectory ? 'dir' : f.isFile ? 'file' : 'other' })),
    download: async (remote, local) => { await client.downloadTo(local, remote); },
    upload: async (local, remote) => { await client.uploadFrom(local, remote); },
    mkdirp: async (dir) => { await client.ensureDir(dir); },
    // basic-ftp resolves relative paths against the current directory, which ensureDir moves:
    // every path handed in is absolute, made so from the directory the login landed in
    home: () => client.pwd(),
    close: () => client.close(),
  };
}

async function connectSftp(t: Target, signal: AbortSignal, log: (s: 'SYSTEM', text: string) => void): Promise<RemoteFs> {
  // errors reach us through the promises; the library's default handlers print to the console
  const quiet = () => undefined;
  const client = new SftpClient('buildgate', { error: quiet, end: quiet, close: quiet });
  // end() is a no-op until the SFTP channel is open: a half-open connection is cut at the socket
  const ssh = (client as unknown as { client: { destroy(): void } }).client;
  await connecting(signal, () => ssh.destroy(), () => client.connect({
    host: t.address, port: t.port, username: t.user, password: t.password, readyTimeout: 20_000,
    hostVerifier: (key: Buffer) => {
      log('SYSTEM', `SFTP host key SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`);
      return true;
    },
  }));
  return {
    list: async (dir) => (await client.list(dir)).map((f) => ({ name: f.name, kind: f.type === 'd' ? 'dir' : f.type === '-' ? 'file' : 'other' })),
    download: async (remote, local) => { await client.get(remote, local); },
    upload: async (local, remote) => { await client.put(local, remote); },
    mkdirp: async (dir) => { if ((await client.exists(dir)) !== 'd') await client.mkdir(dir, true); },
    home: () => client.cwd(),
    close: () => { void client.end().catch(() => undefined); },
  };
}

interface Transfer {
  remote: RemoteFs;
  root: string;
  signal: AbortSignal;
  stats: { files: number; bytes: number };
  log(text: string): void;
}

async function uploadFile(t: Transfer, local: string, remoteDir: string): Promise<void> {
  const st = await lstat(local).catch(() => null);
  if (!st?.isFile()) throw new Error(`sourceFiles ${path.relative(t.root, local)} is not a regular file in the workspace`);
  await t.remote.mkdirp(remoteDir);
  await sendOne(t, local, path.posix.join(remoteDir, path.basename(local)), st.size);
}

async function sendOne(t: Transfer, local: string, remote: string, size: number): Promise<void> {
  if (t.signal.aborted) throw t.signal.reason;
  await t.remote.upload(local, remote);
  t.stats.files++;
  t.stats.bytes += size;
  t.log(`uploaded ${remote} (${size} bytes)`);
}

async function uploadTree(t: Transfer, localDir: string, remoteDir: string): Promise<void> {
  const st = await lstat(localDir).catch(() => null);
  if (!st?.isDirectory()) throw new Error(`sourceFiles ${path.relative(t.root, localDir) || '.'} is not a directory in the workspace`);
  await t.remote.mkdirp(remoteDir);
  const entries = (await readdir(localDir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const l = path.join(localDir, e.name);
    if (e.isDirectory()) await uploadTree(t, l, path.posix.join(remoteDir, e.name));
    else if (e.isFile()) await sendOne(t, l, path.posix.join(remoteDir, e.name), (await lstat(l)).size);
    else t.log(`skipped ${path.relative(t.root, l)}: not a regular file or directory`);
  }
}

/** A remote listing is untrusted input: its names become local paths. */
const safeName = (name: string) => name !== '' && name !== '.' && name !== '..' && !/[/\\\0]/.test(name);

async function fetchOne(t: Transfer, remote: string, local: string): Promise<void> {
  if (t.signal.aborted) throw t.signal.reason;
  if ((await lstat(local).catch(() => null))?.isSymbolicLink()) throw new Error(`${path.relative(t.root, local)} is a symlink: not overwritten`);
  await t.remote.download(remote, local);
  const size = (await lstat(local)).size;
  t.stats.files++;
  t.stats.bytes += size;
  t.log(`downloaded ${remote} (${size} bytes)`);
}

async function downloadFile(t: Transfer, remoteFile: string, localDir: string): Promise<void> {
  const name = path.posix.basename(remoteFile);
  if (!safeName(name)) throw new Error(`remoteDirectory ${remoteFile} does not name a file`);
  await mkdir(localDir, { recursive: true });
  await fetchOne(t, remoteFile, path.join(localDir, name));
}

async function downloadTree(t: Transfer, remoteDir: string, localDir: string): Promise<void> {
  const entries = await t.remote.list(remoteDir);
  await mkdir(localDir, { recursive: true });
  for (const e of entries) {
    if (e.name === '.' || e.name === '..') continue;
    if (!safeName(e.name)) { t.log(`skipped remote entry ${JSON.stringify(e.name)}: unsafe name`); continue; }
    const r = path.posix.join(remoteDir, e.name);
    const l = path.join(localDir, e.name);
    if (e.kind === 'dir') {
      if ((await lstat(l).catch(() => null))?.isSymbolicLink()) throw new Error(`${path.relative(t.root, l)} is a symlink: not written through`);
      await downloadTree(t, r, l);
    } else if (e.kind === 'file') await fetchOne(t, r, l);
    else t.log(`skipped ${r}: not a regular file or directory`);
  }
}
