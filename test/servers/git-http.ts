import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A git smart-HTTP server for tests: node http in front of `git http-backend` (CGI), serving
 * every bare repository under `root`, with HTTP Basic auth required on every request, as
 * hosted git services do for private repositories.
 */
export interface GitHttpServer {
  url: string; // http://127.0.0.1:PORT
  port: number;
  /** Authorization headers seen, to check what the client sent. */
  authHeaders: string[];
  close(): Promise<void>;
}

export async function startGitHttpServer(root: string, user: string, password: string): Promise<GitHttpServer> {
  const authHeaders: string[] = [];
  const expected = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
  const server: Server = createServer((req, res) => {
    const auth = req.headers.authorization;
    if (auth) authHeaders.push(auth);
    if (auth !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' });
      res.end('authentication required\n');
      return;
    }
    const u = new URL(req.url!, 'http://x');
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        REQUEST_METHOD: req.method,
        PATH_INFO: decodeURIComponent(u.pathname),
        QUERY_STRING: u.search.replace(/^\?/, ''),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
        REMOTE_USER: user,
        REMOTE_ADDR: req.socket.remoteAddress ?? '',
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    req.pipe(cgi.stdin);
    // CGI output: header lines, a blank line, then the body
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) { res.write(chunk); return; }
      head = Buffer.concat([head, chunk]);
      const sep = head.indexOf('\r\n\r\n') !== -1 ? head.indexOf('\r\n\r\n') : head.indexOf('\n\n');
      if (sep === -1) return;
      const sepLen = head[sep] === 13 ? 4 : 2;
      let status = 200;
      for (const line of head.subarray(0, sep).toString('latin1').split(/\r?\n/)) {
        const i = line.indexOf(':');
        const name = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        if (name.toLowerCase() === 'status') status = parseInt(value, 10);
        else res.setHeader(name, value);
      }
      res.statusCode = status;
      headersDone = true;
      res.write(head.subarray(sep + sepLen));
    });
    cgi.on('close', () => res.end());
    cgi.on('error', () => { res.statusCode = 500; res.end(); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    authHeaders,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
