import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, stat, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { httpStep } from '../../../src/engine/steps/http.js';
import { parseResponseCodes } from '../../../src/engine/steps/rules.js';
import type { StepContext } from '../../../src/engine/steps/types.js';
import type { HttpConfig, LogSource } from '../../../src/providers/types.js';

let server: Server;
let base: string;
let port: number;
const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => { body += c; });
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const u = new URL(req.url!, 'http://x');
      if (u.pathname === '/ok') return res.end('hello world\nsecond line\n');
      if (u.pathname === '/created') { res.statusCode = 201; return res.end('made'); }
      if (u.pathname === '/missing') { res.statusCode = 404; return res.end('nope'); }
      if (u.pathname === '/slow') { setTimeout(() => res.end('late'), 3000).unref(); return; }
      if (u.pathname === '/redirect') { res.writeHead(302, { location: u.searchParams.get('to')! }); return res.end(); }
      if (u.pathname === '/auth') {
        const expected = 'Basic ' + Buffer.from('admin:hunter2-password').toString('base64');
        if (req.headers.authorization !== expected) { res.statusCode = 401; return res.end('who?'); }
        return res.end('welcome');
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, body, token: req.headers['x-api-token'] ?? null }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => { server.closeAllConnections(); await new Promise((r) => server.close(r)); });

let workspace: string;
beforeEach(async () => { workspace = await mkdtemp(path.join(os.tmpdir(), 'http-test-')); seen.length = 0; });
afterEach(async () => { await rm(workspace, { recursive: true, force: true }); });

function context(config: Partial<HttpConfig>, allowPrivateHosts = ['127.0.0.1'], signal = new AbortController().signal) {
  const lines: { stream: LogSource; text: string }[] = [];
  const ctx: StepContext = {
    runKey: 'r1', stepRunKey: 's1', workspace, tempDir: os.tmpdir(), signal, tagName: null,
    config: { stepType: 'HTTP', url: `${base}/ok`, httpMode: 'GET', timeout: 5, ...config },
    log: (stream, text) => { lines.push({ stream, text }); },
    build: { imageName: null, registryName: null },
    env: {
      registry: { host: '127.0.0.1:5000', insecure: true }, buildah: { storageDriver: 'vfs', isolation: 'chroot' },
      allowPrivateHosts, defaultStepTimeoutSec: 60,
    },
  };
  return { ctx, lines };
}

describe('HTTP step', () => {
  it('succeeds on an expected status, writes the output file and logs the body when asked', async () => {
    const { ctx, lines } = context({ validResponseCodes: '200', outputFile: 'out/project-list.txt', consoleLogResponseBody: true, validResponseContent: 'hello' });
    expect(await httpStep(ctx)).toEqual({ ok: true });
    expect(await readFile(path.join(workspace, 'out/project-list.txt'), 'utf8')).toBe('hello world\nsecond line\n');
    expect(lines.filter((l) => l.stream === 'STDOUT').map((l) => l.text)).toEqual(['hello world', 'second line']);
    expect(lines[0]).toEqual({ stream: 'SYSTEM', text: expect.stringContaining(`HTTP GET ${base}/ok`) });
  });

  it('does not log the body unless consoleLogResponseBody is set', async () => {
    const { ctx, lines } = context({});
    expect(await httpStep(ctx)).toEqual({ ok: true });
    expect(lines.every((l) => l.stream === 'SYSTEM')).toBe(true);
  });

  it('sends method, body and custom headers, and keeps secret header values and passwords out of the log', async () => {
    const { ctx, lines } = context({
      url: `${base}/echo?access_token=tok-in-query`, httpMode: 'POST', requestBody: '{"a":1}', consoleLogResponseBody: false,
      customHeaders: [{ name: 'X-Api-Token', value: 'tok-secret-1' }, { name: 'X-Plain', value: 'visible' }, { name: 'X-Other', value: 'flagged-secret', secret: true }],
      username: 'admin', password: 'hunter2-password', validResponseContent: 'tok-secret-1',
    });
    expect(await httpStep(ctx)).toEqual({ ok: true });
    expect(seen[0]).toMatchObject({ method: 'POST', body: '{"a":1}' });
    expect(seen[0]!.headers['x-plain']).toBe('visible');
    const log = lines.map((l) => l.text).join('\n');
    expect(log).toContain('X-Plain: visible');
    expect(log).toContain('X-Api-Token: ***');
    for (const secret of ['tok-secret-1', 'flagged-secret', 'hunter2-password', 'tok-in-query']) expect(log).not.toContain(secret);
  });

  it('uses basic auth from username/password', async () => {
    expect(await httpStep(context({ url: `${base}/auth`, username: 'admin', password: 'hunter2-password' }).ctx)).toEqual({ ok: true });
    const wrong = await httpStep(context({ url: `${base}/auth`, username: 'admin', password: 'wrong', validResponseCodes: '200' }).ctx);
    expect(wrong).toEqual({ ok: false, error: 'HTTP GET answered 401, expected 200' });
  });

  it('fails on an unexpected status and names it', async () => {
    const res = await httpStep(context({ url: `${base}/missing`, validResponseCodes: '200,201' }).ctx);
    expect(res).toEqual({ ok: false, error: 'HTTP GET answered 404, expected 200,201' });
    // default 100-399 also rejects 404
    expect((await httpStep(context({ url: `${base}/missing` }).ctx)).error).toMatch(/answered 404/);
  });

  it('accepts ranges in validResponseCodes', async () => {
    expect(await httpStep(context({ url: `${base}/created`, validResponseCodes: '200-299' }).ctx)).toEqual({ ok: true });
    expect(await httpStep(context({ url: `${base}/created`, validResponseCodes: '200, 201:202' }).ctx)).toEqual({ ok: true });
    expect(parseResponseCodes('200,300-399')).toEqual([[200, 200], [300, 399]]);
    expect(() => parseResponseCodes('2xx')).toThrow(/not a code/);
    const bad = await httpStep(context({ validResponseCodes: '299-200' }).ctx);
    expect(bad).toEqual({ ok: false, error: expect.stringMatching(/reversed/) });
    expect(seen).toHaveLength(2); // the two requests above; the bad spec was refused before sending
  });

  it('fails when the body lacks validResponseContent', async () => {
    const res = await httpStep(context({ validResponseContent: 'goodbye' }).ctx);
    expect(res).toEqual({ ok: false, error: 'HTTP response body does not contain the expected content "goodbye"' });
  });

  it('times out after `timeout` seconds', async () => {
    const t0 = Date.now();
    const res = await httpStep(context({ url: `${base}/slow`, timeout: 1 }).ctx);
    expect(res).toEqual({ ok: false, error: 'HTTP GET timed out after 1s' });
    expect(Date.now() - t0).toBeLessThan(2500);
  });

  it('is canceled by the signal', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const res = await httpStep(context({ url: `${base}/slow`, timeout: 10 }, ['127.0.0.1'], ac.signal).ctx);
    expect(res).toEqual({ ok: false, error: 'HTTP step canceled' });
  });

  it('refuses an outputFile outside the workspace, before sending anything', async () => {
    const res = await httpStep(context({ outputFile: '../x' }).ctx);
    expect(res).toEqual({ ok: false, error: expect.stringMatching(/outside the run's workspace/) });
    expect(seen).toHaveLength(0);
    await expect(stat(path.join(path.dirname(workspace), 'x'))).rejects.toThrow();
  });

  it('refuses an outputFile reached through a symlink that leaves the workspace', async () => {
    const outside = await mkdtemp(path.join(os.tmpdir(), 'http-outside-'));
    try {
      await symlink(outside, path.join(workspace, 'link'));
      const res = await httpStep(context({ outputFile: 'link/x.txt' }).ctx);
      expect(res).toEqual({ ok: false, error: expect.stringMatching(/leaves the workspace through a symlink/) });
      await expect(stat(path.join(outside, 'x.txt'))).rejects.toThrow();
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('refuses a private host unless allowed', async () => {
    const res = await httpStep(context({}, []).ctx);
    expect(res).toEqual({ ok: false, error: expect.stringMatching(/127\.0\.0\.1.*private\/loopback/) });
    expect(seen).toHaveLength(0);
  });

  it('checks every redirect target against the guard', async () => {
    // 127.0.0.1 is allowed, ::1 is not: the redirect must be refused before it is followed
    const res = await httpStep(context({ url: `${base}/redirect?to=${encodeURIComponent(`http://[::1]:${port}/ok`)}` }).ctx);
    expect(res).toEqual({ ok: false, error: expect.stringMatching(/::1.*private\/loopback/) });
    const followed = await httpStep(context({ url: `${base}/redirect?to=/ok`, validResponseCodes: '200' }).ctx);
    expect(followed).toEqual({ ok: true });
  });

  it('does not carry secret headers across a redirect to another origin', async () => {
    const to = `http://localhost:${port}/echo`;
    const headers = [{ name: 'X-Api-Token', value: 'tok-secret-2' }, { name: 'X-Plain', value: 'kept' }];
    const res = await httpStep(context({ url: `${base}/redirect?to=${encodeURIComponent(to)}`, customHeaders: headers }, ['127.0.0.1', 'localhost']).ctx);
    expect(res).toEqual({ ok: true });
    expect(seen.map((r) => [r.headers.host, r.headers['x-api-token'], r.headers['x-plain']])).toEqual([
      [`127.0.0.1:${port}`, 'tok-secret-2', 'kept'],
      [`localhost:${port}`, undefined, 'kept'],
    ]);
  });

  it('refuses non-http URLs', async () => {
    expect((await httpStep(context({ url: 'file:///etc/passwd' }).ctx)).error).toMatch(/must be http or https/);
  });
});
