import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const root = path.resolve(new URL('../..', import.meta.url).pathname);
const cli = path.join(root, 'dist/src/cli.js');

/** Starts the compiled CLI (what `npx buildgate serve` runs) on a free port with its own store. */
async function serve(extraEnv: Record<string, string> = {}): Promise<{ proc: ChildProcess; url: string; logs: () => string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-cli-'));
  let out = '';
  const proc = spawn(process.execPath, [cli, 'serve', '--port', '0'], {
    cwd: dir,
    env: { ...process.env, NODE_OPTIONS: '', BUILDGATE_DATABASE__URL: `sqlite:${dir}/db.sqlite`, BUILDGATE_LOG__LEVEL: 'info', ...extraEnv },
  });
  proc.stdout!.on('data', (d) => { out += d; });
  proc.stderr!.on('data', (d) => { out += d; });
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no start: ${out}`)), 20000);
    const check = () => {
      const m = /"url":"(http:[^"]+)"/.exec(out);
      if (m) { clearTimeout(t); resolve(m[1]!); } else setTimeout(check, 50);
    };
    proc.on('exit', (c) => { clearTimeout(t); reject(new Error(`exited ${c}: ${out}`)); });
    check();
  });
  return { proc, url, logs: () => out };
}

describe('the buildgate process', () => {
  let proc: ChildProcess | null = null;
  afterEach(() => { if (proc && proc.exitCode === null) proc.kill('SIGKILL'); });

  it('starts with demo builds, answers /healthz and /readyz, logs JSON with a request id, and drains on SIGTERM', async () => {
    const s = await serve();
    proc = s.proc;
    const base = s.url.replace(/\/graphql$/, '');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    const res = await fetch(s.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'req-abc-123' }, body: JSON.stringify({ query: '{ builds { totalCount } }' }) });
    expect(res.headers.get('x-request-id')).toBe('req-abc-123');
    expect(((await res.json()) as any).data.builds.totalCount).toBeGreaterThanOrEqual(2); // 3 with buildah installed
    const html = await fetch(s.url, { headers: { accept: 'text/html' } });
    expect(await html.text()).toContain('/graphiql-assets/main.js');
    const firstLine = s.logs().split('\n').find((l) => l.startsWith('{'))!;
    expect(JSON.parse(firstLine)).toMatchObject({ service: 'buildgate', level: 30 });

    // A websocket client is connected when SIGTERM arrives: the server closes it and exits 0.
    const client = createClient({ url: s.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
    const closed = new Promise<number>((resolve) => client.on('closed', (e) => resolve((e as { code: number }).code)));
    const sub = new Promise<void>((resolve) => { client.subscribe({ query: 'subscription { buildsChanged { kind } }' }, { next: () => {}, error: () => resolve(), complete: () => resolve() }); client.on('connected', () => resolve()); });
    await sub;
    const exited = new Promise<number | null>((resolve) => proc!.on('exit', (code) => resolve(code)));
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(await closed).toBeGreaterThanOrEqual(1000);
    expect(s.logs()).toContain('buildgate stopped');
    await client.dispose();
  });

  it('refuses a bad configuration with a message naming the key and exit code 2', async () => {
    const p = spawn(process.execPath, [cli, 'serve'], { env: { ...process.env, NODE_OPTIONS: '', BUILDGATE_SERVER__PORT: 'not-a-port' } });
    let err = '';
    p.stderr!.on('data', (d) => { err += d; });
    const code = await new Promise<number | null>((resolve) => p.on('exit', resolve));
    expect(code).toBe(2);
    expect(err).toContain('server.port');
    // Live delivery settings are configuration too (BUILDGATE_LIVE__POLL_MS → live.pollMs).
    const q = spawn(process.execPath, [cli, 'serve'], { env: { ...process.env, NODE_OPTIONS: '', BUILDGATE_LIVE__POLL_MS: '5' } });
    let err2 = '';
    q.stderr!.on('data', (d) => { err2 += d; });
    expect(await new Promise<number | null>((resolve) => q.on('exit', resolve))).toBe(2);
    expect(err2).toContain('live.pollMs');
  });

  it('prints the SDL (npx buildgate schema) identical to schema/schema.graphql', async () => {
    const p = spawn(process.execPath, [cli, 'schema'], { env: { ...process.env, NODE_OPTIONS: '' } });
    let out = '';
    p.stdout!.on('data', (d) => { out += d; });
    await new Promise((resolve) => p.on('exit', resolve));
    expect(out).toBe(fs.readFileSync(path.join(root, 'schema/schema.graphql'), 'utf8'));
  });
});
