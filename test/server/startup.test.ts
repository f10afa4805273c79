import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { PG_URL } from '../support/gateway.js';
import { closedPort } from '../support/ports.js';

const root = path.resolve(new URL('../..', import.meta.url).pathname);
const cli = path.join(root, 'dist/src/cli.js');

interface Exit { code: number | null; stderr: string; stdout: string; dir: string }

/** Runs the compiled CLI in an empty directory until it exits (or is up, then stops it). */
function run(args: string[], env: Record<string, string> = {}, opts: { untilUp?: boolean } = {}): Promise<Exit> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-start-'));
  // Only what the test sets reaches the CLI: the runner's own BUILDGATE_* must not change the case.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BUILDGATE_') && !['PORT', 'DATABASE_URL', 'REDIS_URL'].includes(k)));
  const p = spawn(process.execPath, [cli, ...args], { cwd: dir, env: { ...base, NODE_OPTIONS: '', BUILDGATE_LOG__LEVEL: 'warn', ...env } });
  let stderr = '';
  let stdout = '';
  p.stdout!.on('data', (d) => { stdout += d; });
  p.stderr!.on('data', (d) => {
    stderr += d;
    if (opts.untilUp && stderr.includes('buildgate is up')) p.kill('SIGTERM');
  });
  return new Promise((resolve) => p.on('exit', (code) => resolve({ code, stderr, stdout, dir })));
}

/** The failure is one line (no stack trace) that names the config key. */
function expectOneLine(e: Exit, key: string, code: number) {
  expect(e.code).toBe(code);
  const lines = e.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^buildgate: /);
  expect(lines[0]).toContain(key);
  expect(e.stderr).not.toMatch(/^\s+at /m);
}

describe('start-up failures', () => {
  it('port in use: one line naming server.port, exit 1, and nothing written (no store, no demo builds)', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const e = await run(['serve', '--port', String(port)]);
      expectOneLine(e, 'server.port', 1);
      expect(e.stderr).toContain(`127.0.0.1:${port}`);
      expect(fs.readdirSync(e.dir)).toEqual([]); // the default store ./data/buildgate.db was not created
    } finally {
      busy.close();
    }
  });

  it('a provider option typo: one line naming the option, exit 2', async () => {
    const e = await run(['serve', '--port', '0'], {
      BUILDGATE_DATABASE__URL: 'sqlite::memory:',
      BUILDGATE_PROVIDERS: JSON.stringify([{ id: 'q', kind: 'QUAY', baseUrl: 'http://127.0.0.1:9', options: { token: 't', repositories: ['a/b'], repositoriez: [] } }]),
    });
    expectOneLine(e, 'providers[0].options', 2);
  });

  it('PostgreSQL unreachable: one line naming database.url, with the password masked, exit 1', async () => {
    const port = await closedPort();
    const e = await run(['serve', '--port', '0'], { BUILDGATE_DATABASE__URL: `postgres://bg:s3cret@127.0.0.1:${port}/test` });
    expectOneLine(e, 'database.url', 1);
    expect(e.stderr).toContain('ECONNREFUSED');
    expect(e.stderr).not.toContain('s3cret');
  });

  it('the agent too: an unreachable store is one line naming database.url, exit 1', async () => {
    const port = await closedPort();
    const e = await run(['agent'], { BUILDGATE_DATABASE__URL: `postgres://bg@127.0.0.1:${port}/test`, BUILDGATE_REDIS__URL: 'redis://127.0.0.1:6379' });
    expectOneLine(e, 'database.url', 1);
  });

  it('PostgreSQL database missing: one line naming database.url, exit 1', async () => {
    const url = new URL(PG_URL);
    url.pathname = '/buildgate_no_such_database';
    const e = await run(['serve', '--port', '0'], { DATABASE_URL: url.toString() });
    expectOneLine(e, 'database.url', 1);
    expect(e.stderr).toContain('buildgate_no_such_database');
  });

  it('an SQLite path under a file: one line naming database.url, exit 1', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-start-'));
    fs.writeFileSync(path.join(dir, 'file'), 'x');
    const e = await run(['serve', '--port', '0'], { BUILDGATE_DATABASE__URL: `sqlite:${dir}/file/db.sqlite` });
    expectOneLine(e, 'database.url', 1);
  });

  it('a bad value or an unknown option: exit 2; --debug shows the stack trace', async () => {
    expectOneLine(await run(['serve'], { BUILDGATE_SERVER__PORT: 'x' }), 'BUILDGATE_SERVER__PORT', 2);
    expect((await run(['serve', '--no-such-option'])).code).toBe(2);
    const port = await closedPort();
    const debug = await run(['--debug', 'serve', '--port', '0'], { BUILDGATE_DATABASE__URL: `postgres://bg@127.0.0.1:${port}/test` });
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/^\s+at /m);
    expect(debug.stderr).toContain('caused by');
  });
});

describe('environment and store of every command', () => {
  it('a stray BUILDGATE_* variable does not stop serve: one warning names it', async () => {
    const e = await run(['serve', '--port', '0'], { BUILDGATE_TEST_PG_URL: PG_URL, BUILDGATE_DATA_DIR: '/tmp/x', BUILDGATE_DEMO__SEED: 'false' }, { untilUp: true });
    expect(e.code).toBe(0);
    const warnings = e.stderr.split('\n').filter((l) => l.includes('BUILDGATE_DATA_DIR'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('BUILDGATE_TEST_PG_URL');
  });

  it('keys create says which database it writes to: the one serve uses', async () => {
    const e = await run(['keys', 'create', '--role', 'viewer']);
    expect(e.code).toBe(0);
    expect(e.stderr).toContain(`database sqlite:${fs.realpathSync(e.dir)}/data/buildgate.db`);
    expect(e.stdout).toMatch(/^bgk_/);
    // PostgreSQL: a schema of its own (the shared database's public schema belongs to no test).
    const schema = `bg_keys_${process.pid}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    try {
      const url = `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
      const listed = await run(['keys', 'list'], { DATABASE_URL: url });
      expect([listed.code, listed.stderr]).toEqual([0, expect.stringContaining(`database ${url.replace(/\/\/([^:@/]*):[^@]*@/, '//$1:***@')}`)]);
    } finally {
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    }
  });
});
