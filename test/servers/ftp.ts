import type { EventEmitter } from 'node:events';
import type { AddressInfo, Server } from 'node:net';
import { FtpSrv } from 'ftp-srv';

/**
 * An FTP server for tests (ftp-srv) serving `root` to one user. With `tls` it also offers
 * explicit FTPS (AUTH TLS) with that key and certificate.
 */
export interface FtpTestServer {
  port: number;
  /** Control connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

/** ftp-srv logs through bunyan by default; tests stay quiet. */
const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, child() { return quiet; } };

export async function startFtpServer(opts: { root: string; user: string; password: string; tls?: { key: string; cert: string } }): Promise<FtpTestServer> {
  // ftp-srv cannot pick a passive port itself (it would answer PASV with port 0): give it a range
  const pasvMin = 40000 + Math.floor(Math.random() * 20000);
  // ftp-srv adds process signal handlers (that exit the process) and never removes them
  const signals = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const server = new FtpSrv({
    url: 'ftp://127.0.0.1:0',
    pasv_url: '127.0.0.1',
    pasv_min: pasvMin,
    pasv_max: pasvMin + 200,
    anonymous: false,
    tls: opts.tls ?? false,
    log: quiet,
  });
  const added = signals.flatMap((s) => process.listeners(s).filter((l) => !before.get(s)!.has(l)).map((l) => [s, l] as const));
  for (const [s, l] of added) process.removeListener(s, l);
  const state = { port: 0, connections: 0 };
  // ftp-srv emits 'connect' for every control connection; its typings leave the event out
  (server as unknown as EventEmitter).on('connect', () => { state.connections++; });
  server.on('login', ({ username, password }, resolve, reject) => {
    if (username === opts.user && password === opts.password) resolve({ root: opts.root });
    else reject(new Error('invalid username or password'));
  });
  await server.listen();
  state.port = ((server as unknown as { server: Server }).server.address() as AddressInfo).port;
  return Object.assign(state, { close: async () => { await server.close(); } });
}
