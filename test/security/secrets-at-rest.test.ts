import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import pino from 'pino';
import { parseConfig } from '../../src/config/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { PG_URL } from '../support/gateway.js';
import { post, waitFor } from './helpers.js';

/**
 * Secrets at rest: the `secrets` columns are sealed with AES-256-GCM, on SQLite and on
 * PostgreSQL; runs still get the values; plaintext rows of earlier versions still read and
 * get sealed; a key rotation re-seals at the next start; the SQLite files are 0600; the
 * forms a secret takes on the wire (Basic auth base64, base64 alone) are masked in run logs.
 */
const S = {
  clientKey: 'REST-CLIENT-KEY-11', git: 'REST-GIT-PW-12', ftp: 'REST-FTP-PW-13', httpPw: 'REST-HTTP-PW-14',
  header: 'REST-API-KEY-15', registry: 'REST-REG-PW-16', urlToken: 'REST-URL-TOKEN-17', env: 'REST-ENV-18',
};
const b64 = (s: string) => Buffer.from(s).toString('base64');
const newKey = () => randomBytes(32).toString('base64');
const keyId = (key: string) => createHash('sha256').update(Buffer.from(key, 'base64')).digest('hex').slice(0, 8);
// The script builds each secret at run time, so the script text itself holds none of them.
const split = (v: string) => `'${v.slice(0, 5)}' '${v.slice(5)}'`;

function buildInput(hookUrl: string) {
  return {
    name: 'at-rest', buildServerClientKey: S.clientKey,
    steps: [
      // Prints the derived forms: base64 of the FTP password, Basic-auth base64 of the HTTP user:password.
      { stepOrder: 1, stepType: 'SHELL', shell: { shellType: 'SCRIPT', command: `printf '%s%s' ${split(S.ftp)} | base64; printf 'u:%s%s' ${split(S.httpPw)} | base64` } },
      { stepOrder: 2, stepType: 'CODE_DOWN', useFlag: false, codeDown: { repositoryUrl: 'https://git.example/x.git', branchName: 'main', commonType: 'PRIVATE', protocolType: 'HTTPS', userId: 'g', password: S.git } },
      { stepOrder: 3, stepType: 'FTP', useFlag: false, ftp: { url: 'ftp.example:21', ftpType: 'FTP', username: 'f', password: S.ftp, sourceFiles: 'out', remoteDirectory: '/', ftpExecType: 'DIR_FTP_UPLOAD' } },
      { stepOrder: 4, stepType: 'CREATE_IMAGE', useFlag: false, createImage: { dockerFileType: 'CONTENTS', dockerFile: 'FROM scratch', registryName: 'dev', imageName: 'app', loginId: 'r', password: S.registry } },
      { stepOrder: 5, stepType: 'USER_TASK', useFlag: false, userTask: { cmd: ['true'], imageName: 'busybox', imageTag: '1', envs: [{ key: 'TOKEN', value: S.env }] } },
      // The receiving server echoes what it got: the log must show none of it.
      { stepOrder: 6, stepType: 'HTTP', http: { url: `${hookUrl}/hook?token=${S.urlToken}&page=1`, httpMode: 'GET', timeout: 10, username: 'u', password: S.httpPw, consoleLogResponseBody: true, customHeaders: [{ name: 'X-Api-Key', value: S.header }] } },
    ],
  };
}

describe.each(['sqlite', 'postgres'] as const)('secrets at rest (%s)', (dialect) => {
  let dir: string;
  let pgSchema: string | undefined;
  let dbUrl: string;
  let hook: http.Server;
  let hookUrl: string;
  const received: Array<{ url: string; authorization?: string; apiKey?: string }> = [];
  const servers: RunningServer[] = [];

  const start = async (secrets: { key?: string; previousKeys?: string[] }) => {
    const config = parseConfig({
      server: { port: 0 }, database: { url: dbUrl }, log: { level: 'silent' }, demo: { seed: false },
      auth: { anonymous: 'admin' }, limits: { mutationsPerMinute: 0, wsConnectsPerMinute: 0 },
      engine: { workDir: path.join(dir, 'ws'), allowPrivateHosts: ['127.0.0.1'] }, secrets,
    });
    const s = await startServer(config, { logger: pino({ level: 'silent' }), pgSchema });
    servers.push(s);
    return s;
  };
  const gql = async (s: RunningServer, query: string, variables: object = {}) => {
    const r = await post(s.url, { query, variables });
    expect(r.json.errors).toBeUndefined();
    return r.json.data;
  };
  const rawSecrets = async (s: RunningServer) => [
    ...(await s.store.db.selectFrom('builds').select('secrets').execute()).map((r) => r.secrets),
    ...(await s.store.db.selectFrom('build_steps').select('secrets').execute()).map((r) => r.secrets),
  ];
  const runToEnd = async (s: RunningServer, buildId: string) => {
    const runId = (await gql(s, 'mutation($id: ID!) { runBuild(input: { buildId: $id }) { run { id } } }', { id: buildId })).runBuild.run.id as string;
    await waitFor(async () => ['DONE', 'ERROR'].includes((await gql(s, `{ run(id: "${runId}") { state } }`)).run.state));
    return (await gql(s, `{ run(id: "${runId}") { state errorMessage log(first: 200) { lines { text } } } }`)).run;
  };

  const schemas: string[] = [];
  /** Each test on a store of its own. */
  const freshStore = async (name: string) => {
    dbUrl = `sqlite:${path.join(dir, `${name}.db`)}`;
    if (dialect === 'postgres') {
      pgSchema = `bg_rest_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
      schemas.push(pgSchema);
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`create schema ${pgSchema}`);
      await c.end();
      dbUrl = PG_URL;
    }
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-rest-'));
    hook = http.createServer((req, res) => {
      received.push({ url: req.url ?? '', authorization: req.headers.authorization, apiKey: req.headers['x-api-key'] as string | undefined });
      res.end(`url ${req.url}\nauthorization ${req.headers.authorization}\nkey ${req.headers['x-api-key']}\n`);
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of servers) await s.close().catch(() => undefined);
    hook.closeAllConnections();
    await new Promise((r) => hook.close(r));
    if (schemas.length) {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      for (const schema of schemas) await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('seals every secret, runs still use them, logs mask their wire forms, and a rotated key re-seals at start', async () => {
    await freshStore('rotation');
    const k1 = newKey();
    let s = await start({ key: k1 });
    const created = await gql(s, 'mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id hasBuildServerClientKey } } }', { i: buildInput(hookUrl) });
    const id = created.createBuild.build.id as string;
    expect(created.createBuild.build.hasBuildServerClientKey).toBe(true);

    const raw = await rawSecrets(s);
    expect(raw).toHaveLength(7);
    for (const v of raw) expect(v.startsWith(`bgenc:v1:${keyId(k1)}:`)).toBe(true);
    const rawText = raw.join('\n');
    for (const secret of Object.values(S)) expect(rawText).not.toContain(secret);
    if (dialect === 'sqlite') {
      // The bytes on disk: database file and WAL.
      const file = dbUrl.slice('sqlite:'.length);
      const bytes = [file, `${file}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f).toString('latin1')).join('');
      expect(bytes.length).toBeGreaterThan(1000);
      for (const secret of Object.values(S)) expect(bytes).not.toContain(secret);
      for (const f of [file, `${file}-wal`, `${file}-shm`]) {
        if (fs.existsSync(f)) expect((fs.statSync(f).mode & 0o777).toString(8)).toBe('600');
      }
    }

    const run = await runToEnd(s, id);
    expect(run.state).toBe('DONE');
    // The engine opened the sealed values: the server got the token, the Basic auth and the header.
    expect(received.at(-1)).toEqual({ url: `/hook?token=${S.urlToken}&page=1`, authorization: `Basic ${b64(`u:${S.httpPw}`)}`, apiKey: S.header });
    const log = run.log.lines.map((l: { text: string }) => l.text).join('\n');
    for (const form of [S.ftp, b64(S.ftp).replace(/=+$/, ''), S.httpPw, b64(`u:${S.httpPw}`).replace(/=+$/, ''), S.header, S.urlToken]) {
      expect(log).not.toContain(form);
    }
    expect(log).toContain('authorization Basic ***');
    await s.close();

    // Rotation: a new key, the old one among the previous keys: every row re-sealed with the new key.
    const k2 = newKey();
    s = await start({ key: k2, previousKeys: [k1] });
    for (const v of await rawSecrets(s)) expect(v.startsWith(`bgenc:v1:${keyId(k2)}:`)).toBe(true);
    await s.close();
    // The old key can go; the values still open (the run reaches the server with them).
    s = await start({ key: k2 });
    expect((await runToEnd(s, id)).state).toBe('DONE');
    expect(received.at(-1)?.authorization).toBe(`Basic ${b64(`u:${S.httpPw}`)}`);
    await s.close();
    // A key that sealed nothing here, without the right previous key: the start says so.
    await expect(start({ key: newKey() })).rejects.toThrow(/secrets\.previousKeys/);
  }, 60_000);

  it('a callback URL with credentials is sealed in build_runs, returned masked, delivered whole; plain ones of earlier versions get sealed at start', async () => {
    await freshStore('callback');
    const key = newKey();
    let s = await start({ key });
    const id = (await gql(s, 'mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id } } }', { i: { name: 'cb', steps: [{ stepOrder: 1, stepType: 'SHELL', shell: { shellType: 'COMMAND', command: 'true' } }] } })).createBuild.build.id as string;
    const cb = (n: number) => `${hookUrl.replace('//', `//cb:REST-CB-PW-${n}@`)}/cb${n}?token=REST-CB-TOKEN-${n}&run=${n}`;
    const runWith = async (url: string) => (await gql(s, 'mutation($id: ID!, $cb: String) { runBuild(input: { buildId: $id, callbackUrl: $cb }) { run { id callbackUrl } } }', { id, cb: url })).runBuild.run as { id: string; callbackUrl: string };
    const rawCallbacks = async () => (await s.store.db.selectFrom('build_runs').select(['id', 'callback_url']).orderBy('id').execute()).map((r) => r.callback_url);
    const plain = `${hookUrl}/plain?run=3`;

    const run = await runWith(cb(1));
    expect(run.callbackUrl).toBe(`${hookUrl.replace('//', '//cb:***@')}/cb1?token=***&run=1`);
    await runWith(plain);
    const raw = await rawCallbacks();
    expect(raw[0]!.startsWith(`bgenc:v1:${keyId(key)}:`)).toBe(true);
    expect(raw[1]).toBe(plain); // nothing to hide: left readable
    expect(raw.join('\n')).not.toMatch(/REST-CB-(PW|TOKEN)/);
    // Delivered with the credentials, after the run ended.
    const delivered = await waitFor(async () => received.find((r) => r.url.startsWith('/cb1')));
    expect(delivered).toMatchObject({ url: '/cb1?token=REST-CB-TOKEN-1&run=1', authorization: `Basic ${b64('cb:REST-CB-PW-1')}` });
    const read = await gql(s, `{ run(id: "${run.id}") { callbackUrl } }`);
    expect(read.run.callbackUrl).toBe(run.callbackUrl);

    // As an earlier version stored it: in the open. The next start seals it; it still reads the same.
    const firstId = (await s.store.db.selectFrom('build_runs').select('id').orderBy('id').executeTakeFirstOrThrow()).id;
    await s.store.db.updateTable('build_runs').set({ callback_url: cb(2) }).where('id', '=', firstId).execute();
    await s.close();
    s = await start({ key });
    const resealed = await rawCallbacks();
    expect(resealed[0]!.startsWith(`bgenc:v1:${keyId(key)}:`)).toBe(true);
    expect(resealed[1]).toBe(plain);
    expect(resealed.join('\n')).not.toMatch(/REST-CB-(PW|TOKEN)/);
    expect((await gql(s, `{ run(id: "${run.id}") { callbackUrl } }`)).run.callbackUrl).toBe(`${hookUrl.replace('//', '//cb:***@')}/cb2?token=***&run=2`);
    const runs = (s.services.registry.get('native') as unknown as { runs: { getRun(k: string): Promise<{ callbackUrl: string }> } }).runs;
    expect((await runs.getRun(String(firstId))).callbackUrl).toBe(cb(2));
    await s.close();
    // A rotation re-seals it too.
    const k2 = newKey();
    s = await start({ key: k2, previousKeys: [key] });
    expect((await rawCallbacks())[0]!.startsWith(`bgenc:v1:${keyId(k2)}:`)).toBe(true);
    await s.close();
  }, 60_000);

  it('rows written before encryption still read, then get sealed; env values stored in the open become secrets', async () => {
    await freshStore('legacy');
    const key = newKey();
    let s = await start({ key });
    // As an earlier version left them: plain JSON secrets, env values in the public config.
    const t = Date.now();
    const b = await s.store.db.insertInto('builds').values({
      name: 'legacy', description: null, account_seq: null, registry_name: null, registry_project_id: null, external_registry_seq: null,
      image_name: null, tag_name: null, autotag_use: 0, autotag_prefix: null, autotag_seq_type: null, build_server_host: null,
      build_server_tls_verify: 0, secrets: JSON.stringify({ buildServerClientKey: S.clientKey }), next_build_no: 1, created_at: t, updated_at: t,
    }).returning('id').executeTakeFirstOrThrow();
    await s.store.db.insertInto('build_steps').values([
      { build_id: Number(b.id), step_order: 1, step_type: 'FTP', use_flag: 1, config: JSON.stringify({ stepType: 'FTP', url: 'ftp.example:21', ftpType: 'FTP', username: 'f', sourceFiles: 'out', remoteDirectory: '/', ftpExecType: 'DIR_FTP_UPLOAD' }), secrets: JSON.stringify({ fields: { password: S.ftp }, headers: {} }) },
      { build_id: Number(b.id), step_order: 2, step_type: 'USER_TASK', use_flag: 1, config: JSON.stringify({ stepType: 'USER_TASK', cmd: ['true'], imageName: 'busybox', imageTag: '1', envs: [{ key: 'TOKEN', value: S.env }, { key: 'EMPTY', value: '' }] }), secrets: '{}' },
    ]).execute();
    // The env migration runs again on the next start, as it would on a store of that version.
    await s.store.db.deleteFrom('bg_migrations' as never).where('name' as never, '>=', '0005_secret_envs' as never).execute(); // and the later ones
    await s.close();

    s = await start({ key });
    const raw = await rawSecrets(s);
    for (const v of raw) expect(v.startsWith(`bgenc:v1:${keyId(key)}:`)).toBe(true);
    const configs = (await s.store.db.selectFrom('build_steps').select('config').execute()).map((r) => r.config).join('\n');
    expect([...raw, configs].join('\n')).not.toContain(S.env);
    const buildId = (await gql(s, '{ builds { edges { node { id } } } }')).builds.edges[0].node.id;
    const read = await gql(s, `{ build(id: "${buildId}") { hasBuildServerClientKey steps { config { __typename ... on FtpStepConfig { hasPassword } ... on UserTaskStepConfig { envs { key value secret hasValue } } } } } }`);
    expect(read.build.hasBuildServerClientKey).toBe(true);
    expect(read.build.steps[0].config.hasPassword).toBe(true);
    expect(read.build.steps[1].config.envs).toEqual([{ key: 'TOKEN', value: null, secret: true, hasValue: true }, { key: 'EMPTY', value: null, secret: true, hasValue: false }]);
    // The engine still gets the moved value.
    const full = await (s.services.registry.get('native') as unknown as { builds: { get(k: string): Promise<any> } }).builds.get(String(b.id));
    expect(full.steps[1].config.envs[0]).toMatchObject({ key: 'TOKEN', value: S.env });
    await s.close();
  }, 60_000);
});

describe('the secrets key as configured', () => {
  it('must be the base64 of 32 bytes: a bad one stops the start naming the key', () => {
    expect(() => parseConfig({ secrets: { key: 'too-short' } })).toThrow(/secrets\.key: must be the base64 of 32 bytes/);
    expect(() => parseConfig({ secrets: { previousKeys: [newKey(), Buffer.alloc(16).toString('base64')] } })).toThrow(/secrets\.previousKeys\[1\]/);
    expect(parseConfig({ secrets: { key: newKey() } }).secrets.previousKeys).toEqual([]);
  });
});

describe('the store key file and SQLite files are private', () => {
  it('creates the database 0600 and narrows files an earlier version created 0644', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-mode-'));
    const file = path.join(dir, 'old.db');
    fs.writeFileSync(file, '');
    fs.chmodSync(file, 0o644);
    const s = await startServer(parseConfig({ server: { port: 0 }, database: { url: `sqlite:${file}` }, log: { level: 'silent' }, demo: { seed: false }, engine: { workDir: path.join(dir, 'ws') } }), { logger: pino({ level: 'silent' }) });
    try {
      for (const f of [file, `${file}-wal`, `${file}-shm`, path.join(dir, 'secrets.key')]) {
        expect([f, (fs.statSync(f).mode & 0o777).toString(8)]).toEqual([f, '600']);
      }
    } finally {
      await s.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('buildgate secrets (CLI)', () => {
  const cli = path.resolve('dist/src/cli.js');
  const run = (args: string[], env: Record<string, string>) => promisify(execFile)(process.execPath, [cli, ...args], { env: { ...process.env, ...env } })
    .then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }), (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }));

  it('new-key prints a usable key; seal re-seals a store with the configured key and refuses a key that cannot open it', async () => {
    const made = await run(['secrets', 'new-key'], {});
    expect(made.code).toBe(0);
    expect(Buffer.from(made.stdout.trim(), 'base64')).toHaveLength(32);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-seal-'));
    const dbUrl = `sqlite:${path.join(dir, 'store.db')}`;
    const k1 = newKey();
    const s = await startServer(parseConfig({ server: { port: 0 }, database: { url: dbUrl }, log: { level: 'silent' }, demo: { seed: true }, engine: { workDir: path.join(dir, 'ws') }, secrets: { key: k1 } }), { logger: pino({ level: 'silent' }) });
    await s.close();
    const env = { BUILDGATE_DATABASE__URL: dbUrl, BUILDGATE_LOG__LEVEL: 'silent' };
    try {
      const k2 = made.stdout.trim();
      const sealed = await run(['secrets', 'seal'], { ...env, BUILDGATE_SECRETS__KEY: k2, BUILDGATE_SECRETS__PREVIOUS_KEYS: JSON.stringify([k1]) });
      expect([sealed.code, sealed.stderr]).toEqual([0, expect.stringContaining(`sealed with key ${keyId(k2)}`)]);
      expect(Number(/^(\d+) value/m.exec(sealed.stderr)?.[1])).toBeGreaterThan(0); // after the line naming the database
      const refused = await run(['secrets', 'seal'], { ...env, BUILDGATE_SECRETS__KEY: newKey() });
      expect([refused.code, refused.stderr]).toEqual([1, expect.stringContaining('secrets.previousKeys')]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
