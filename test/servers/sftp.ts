import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import ssh2, { type Attributes, type SFTPWrapper } from 'ssh2';

const { Server, utils } = ssh2;
const { STATUS_CODE } = utils.sftp;

/**
 * An SFTP server for tests: ssh2 with password auth, serving the directory `root` as "/"
 * (the login directory). It implements the requests ssh2-sftp-client sends for get, put,
 * list, stat, mkdir and realpath; anything else is answered OP_UNSUPPORTED.
 */
export interface SftpTestServer {
  port: number;
  close(): Promise<void>;
}

export async function startSftpServer(opts: { root: string; user: string; password: string }): Promise<SftpTestServer> {
  // ssh2's own generateKeyPairSync('ed25519') now and then emits a key its parser rejects
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1', privateKeyEncoding: { type: 'sec1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const server = new Server({ hostKeys: [privateKey] }, (client) => {
    client.on('authentication', (ctx) => {
      if (ctx.method === 'password' && ctx.username === opts.user && ctx.password === opts.password) ctx.accept();
      else ctx.reject(['password']);
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        accept().on('sftp', (acceptSftp) => serve(acceptSftp(), opts.root));
      });
    });
    client.on('error', () => { /* a client that goes away mid-transfer is normal */ });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

function serve(sftp: SFTPWrapper, root: string): void {
  const handles = new Map<number, { fd?: number; entries?: string[]; dir?: string }>();
  let next = 0;
  const local = (p: string) => path.join(root, path.posix.resolve('/', p));
  const newHandle = (h: { fd?: number; entries?: string[]; dir?: string }) => {
    const id = next++;
    handles.set(id, h);
    const b = Buffer.alloc(4);
    b.writeUInt32BE(id);
    return b;
  };
  const get = (b: Buffer) => (b.length === 4 ? handles.get(b.readUInt32BE(0)) : undefined);
  const attrs = (st: fs.Stats): Attributes =>
    ({ mode: st.mode, uid: st.uid, gid: st.gid, size: st.size, atime: Math.floor(st.atimeMs / 1000), mtime: Math.floor(st.mtimeMs / 1000) });
  const fail = (id: number, e: unknown) =>
    sftp.status(id, (e as NodeJS.ErrnoException).code === 'ENOENT' ? STATUS_CODE.NO_SUCH_FILE : STATUS_CODE.FAILURE);
  const ok = (id: number) => sftp.status(id, STATUS_CODE.OK);
  const attempt = (id: number, fn: () => void) => { try { fn(); } catch (e) { fail(id, e); } };

  sftp.on('REALPATH', (id, p) => sftp.name(id, [{ filename: path.posix.resolve('/', p), longname: '', attrs: {} as Attributes }]));
  sftp.on('STAT', (id, p) => attempt(id, () => sftp.attrs(id, attrs(fs.statSync(local(p))))));
  sftp.on('LSTAT', (id, p) => attempt(id, () => sftp.attrs(id, attrs(fs.lstatSync(local(p))))));
  sftp.on('FSTAT', (id, h) => attempt(id, () => sftp.attrs(id, attrs(fs.fstatSync(get(h)!.fd!)))));
  sftp.on('OPEN', (id, p, flags) => attempt(id, () => {
    sftp.handle(id, newHandle({ fd: fs.openSync(local(p), utils.sftp.flagsToString(flags) ?? 'r') }));
  }));
  sftp.on('READ', (id, h, offset, length) => attempt(id, () => {
    const buf = Buffer.alloc(length);
    const n = fs.readSync(get(h)!.fd!, buf, 0, length, offset);
    if (n === 0) sftp.status(id, STATUS_CODE.EOF);
    else sftp.data(id, buf.subarray(0, n));
  }));
  sftp.on('WRITE', (id, h, offset, data) => attempt(id, () => { fs.writeSync(get(h)!.fd!, data, 0, data.length, offset); ok(id); }));
  sftp.on('OPENDIR', (id, p) => attempt(id, () => {
    const dir = local(p);
    sftp.handle(id, newHandle({ dir, entries: fs.readdirSync(dir) }));
  }));
  sftp.on('READDIR', (id, h) => attempt(id, () => {
    const d = get(h)!;
    if (!d.entries || d.entries.length === 0) return sftp.status(id, STATUS_CODE.EOF);
    const names = d.entries.splice(0).map((filename) => {
      const st = fs.lstatSync(path.join(d.dir!, filename));
      const type = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : '-';
      return { filename, longname: `${type}rw-r--r-- 1 u g ${st.size} Jan 1 00:00 ${filename}`, attrs: attrs(st) };
    });
    sftp.name(id, names);
  }));
  sftp.on('CLOSE', (id, h) => attempt(id, () => {
    const entry = get(h);
    if (!entry) return sftp.status(id, STATUS_CODE.FAILURE);
    if (entry.fd !== undefined) fs.closeSync(entry.fd);
    handles.delete(h.readUInt32BE(0));
    ok(id);
  }));
  sftp.on('MKDIR', (id, p) => attempt(id, () => { fs.mkdirSync(local(p)); ok(id); }));
  sftp.on('RMDIR', (id, p) => attempt(id, () => { fs.rmdirSync(local(p)); ok(id); }));
  sftp.on('REMOVE', (id, p) => attempt(id, () => { fs.unlinkSync(local(p)); ok(id); }));
  sftp.on('RENAME', (id, from, to) => attempt(id, () => { fs.renameSync(local(from), local(to)); ok(id); }));
  sftp.on('SETSTAT', (id) => ok(id));
  sftp.on('FSETSTAT', (id) => ok(id));
  for (const op of ['READLINK', 'SYMLINK'] as const) sftp.on(op, (id: number) => sftp.status(id, STATUS_CODE.OP_UNSUPPORTED));
}
