import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { ApiKeys } from '../../src/auth/api-keys.js';
import { parseConfig } from '../../src/config/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { createLogger } from '../../src/server/logger.js';
import { post, waitFor } from './helpers.js';

const S = {
  clientKey: 'LEAK-CLIENT-KEY-91', cacrt: 'LEAK-CACRT-92', clientCert: 'LEAK-CLIENT-CERT-93', git: 'LEAK-GIT-PW-94',
  ftp: 'LEAK-FTP-PW-95', httpPw: 'LEAK-HTTP-PW-96', httpHeader: 'LEAK-HTTP-BEARER-97', flagged: 'LEAK-FLAGGED-98', registry: 'LEAK-REG-PW-99',
  updated: 'LEAK-UPDATED-PW-100', quayToken: 'LEAK-QUAY-TOKEN-101', engineRegistry: 'LEAK-ENGINE-REG-102',
  env: 'LEAK-ENV-103', urlToken: 'LEAK-URL-TOKEN-104', callbackToken: 'LEAK-CB-TOKEN-105', baseUrlPw: 'LEAK-BASEURL-PW-106', gitUrlPw: 'LEAK-GIT-URL-PW-107',
};

// The script builds each secret at run time, so the script text itself holds none of them.
const half = (v: string) => `${v.slice(0, 5)}%s`;
const rest = (v: string) => v.slice(5);
const build = (name: string, regPassword: string) => ({
  name, imageName: 'demo/app', tagName: '1.0', buildServerClientKey: S.clientKey, buildServerCacrt: S.cacrt, buildServerClientCert: S.clientCert,
  steps: [
    // The script prints configured secrets: the stored log must show *** instead.
    { stepOrder: 1, stepType: 'SHELL', shell: { shellType: 'SCRIPT', command: `printf '${half(S.git)}\\n${half(S.ftp)}\\n${half(S.registry)}\\n${half(S.httpHeader)}\\n' ${rest(S.git)} ${rest(S.ftp)} ${rest(S.registry)} ${rest(S.httpHeader)}; printf '${half(S.httpPw)}' ${rest(S.httpPw)} >&2` } },
    { stepOrder: 2, stepType: 'CODE_DOWN', useFlag: false, codeDown: { repositoryUrl: 'https://git.example/x.git', branchName: 'main', commonType: 'PRIVATE', protocolType: 'HTTPS', userId: 'u', password: S.git } },
    { stepOrder: 3, stepType: 'FTP', useFlag: false, ftp: { url: 'ftp.example:21', ftpType: 'FTP', username: 'u', password: S.ftp, sourceFiles: 'out', remoteDirectory: '/', ftpExecType: 'DIR_FTP_UPLOAD' } },
    { stepOrder: 4, stepType: 'CREATE_IMAGE', useFlag: false, createImage: { dockerFileType: 'CONTENTS', dockerFile: 'FROM scratch', registryName: 'dev', imageName: 'app', loginId: 'r', password: regPassword } },
    // Fails on the SSRF guard: an error path that knows the credentials.
    { stepOrder: 5, stepType: 'HTTP', http: { url: `http://127.0.0.1:9/x?access_token=${S.urlToken}`, httpMode: 'POST', timeout: 2, validResponseCodes: '200', password: S.httpPw, customHeaders: [{ name: 'Authorization', value: `Bearer ${S.httpHeader}` }, { name: 'X-Custom', value: S.flagged, secret: true }] } },
    { stepOrder: 6, stepType: 'USER_TASK', useFlag: false, userTask: { cmd: ['env'], imageName: 'busybox', imageTag: '1', envs: [{ key: 'DEPLOY_KEY', value: S.env }, { key: 'MODE', value: 'fast', secret: false }] } },
  ],
});

describe('secrets never leave: responses, subscription events and debug logs of a whole session', () => {
  let server: RunningServer;
  let dir: string;
  const logs: string[] = [];
  const seen: string[] = [];
  const clients: Client[] = [];
  let adminKey: string; let viewerKey: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-leak-'));
    const sink = new Writable({ write(chunk, _enc, cb) { logs.push(String(chunk)); cb(); } });
    const config = parseConfig({
      server: { port: 0 }, database: { url: `sqlite:${path.join(dir, 'db.sqlite')}` }, log: { level: 'debug' }, demo: { seed: false },
      auth: { anonymous: 'none' }, limits: { mutationsPerMinute: 0, wsConnectsPerMinute: 0 },
      engine: { workDir: path.join(dir, 'ws'), allowPrivateHosts: ['127.0.0.1'], registry: { host: '127.0.0.1:5999', username: 'bg', password: S.engineRegistry } },
      providers: [{ id: 'quay-x', kind: 'QUAY', baseUrl: `http://bg:${S.baseUrlPw}@127.0.0.1:9`, retries: 0, timeoutMs: 500, options: { token: S.quayToken, repositories: ['org/app'] } }],
    });
    server = await startServer(config, { logger: createLogger('debug', sink) });
    const keys = new ApiKeys(server.store);
    adminKey = (await keys.create({ role: 'admin' })).key;
    viewerKey = (await keys.create({ role: 'viewer' })).key;
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const gql = async (query: string, variables: object = {}, key = adminKey) => {
    const r = await post(server.url, { query, variables }, { authorization: `Bearer ${key}` });
    seen.push(r.text);
    return r.json;
  };
  const subscribe = (query: string, variables: Record<string, unknown>, key = viewerKey) => {
    const c = createClient({ url: server.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${key}` }, retryAttempts: 0 });
    clients.push(c);
    const done = new Promise<void>((resolve) => c.subscribe({ query, variables }, {
      next: (v) => { seen.push(JSON.stringify(v)); }, error: (e) => { seen.push(JSON.stringify(e)); resolve(); }, complete: () => resolve(),
    }));
    return done;
  };

  it('runs the session and finds no secret anywhere', async () => {
    const changes = subscribe('subscription { buildsChanged { kind build { name hasBuildServerClientKey steps { config { __typename ... on HttpStepConfig { url hasPassword customHeaders { name value secret } } ... on UserTaskStepConfig { envs { key value } } ... on CodeDownStepConfig { repositoryUrl } } } } } }', {});
    await new Promise((r) => setTimeout(r, 200));
    const created = await gql('mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id steps { id config { __typename ... on HttpStepConfig { url hasPassword customHeaders { name value secret } } ... on CodeDownStepConfig { hasPassword } } } } } }', { i: build('leak', S.registry) });
    expect(created.errors).toBeUndefined();
    const id = created.data.createBuild.build.id as string;
    // Credentials in a repositoryUrl are refused when the build is saved (git would keep them in .git/config), not echoed.
    const withCreds = await gql('mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id } errors { code message path details } } }', { i: { name: 'leak-url', steps: [{ stepOrder: 1, stepType: 'CODE_DOWN', codeDown: { repositoryUrl: `https://ci:${S.gitUrlPw}@git.example/x.git`, branchName: 'main' } }] } });
    expect(withCreds.data.createBuild.errors).toEqual([expect.objectContaining({ code: 'VALIDATION', path: ['input', 'build', 'steps', '0', 'codeDown', 'repositoryUrl'] })]);
    const stepIds = created.data.createBuild.build.steps.map((s: { id: string }) => s.id);

    // The callback URL as a variable: the debug log of the operation shows variables (scrubbed).
    const run = await gql('mutation($id: ID!, $cb: String) { runBuild(input: { buildId: $id, callbackUrl: $cb }) { run { id callbackUrl } } }', { id, cb: `http://127.0.0.1:9/cb?token=${S.callbackToken}` });
    expect(run.data.runBuild.run.callbackUrl).toBe('http://127.0.0.1:9/cb?token=***');
    const runId = run.data.runBuild.run.id as string;
    const log = subscribe('subscription($r: ID!) { runLog(runId: $r) { lines { text source } } }', { r: runId });
    const steps = subscribe('subscription($r: ID!) { stepUpdated(runId: $r) { state errorMessage } }', { r: runId });
    await waitFor(async () => ['DONE', 'ERROR'].includes((await gql(`{ run(id: "${runId}") { state } }`)).data.run!.state));
    await Promise.race([Promise.all([log, steps]), new Promise((r) => setTimeout(r, 5000))]);
    const page = await gql(`{ run(id: "${runId}") { state errorMessage callbackUrl steps { state errorMessage config { __typename ... on HttpStepConfig { url } ... on UserTaskStepConfig { envs { key value } } } } log(first: 100) { lines { text } } } }`);
    expect(page.data.run!.state).toBe('ERROR');
    const text = page.data.run!.log.lines.map((l: { text: string }) => l.text).join('\n');
    expect(text.split('\n').filter((l: string) => l === '***')).toHaveLength(5); // the script printed each secret; stored masked

    // Update keeping secrets (omitted), then with a new one; read everything back.
    const keep = build('leak-2', S.registry).steps.map((s, i) => ({ ...s, stepId: stepIds[i] }));
    for (const st of keep) for (const cfg of Object.values(st)) if (cfg && typeof cfg === 'object' && 'password' in cfg) delete (cfg as { password?: string }).password;
    const UPDATE = 'mutation($id: ID!, $i: BuildInput!) { updateBuild(input: { buildId: $id, build: $i }) { build { id } errors { code message } } }';
    for (const i of [{ ...build('leak-2', S.registry), buildServerClientKey: undefined, steps: keep }, build('leak-3', S.updated)]) {
      const u = await gql(UPDATE, { id, i });
      expect(u.errors).toBeUndefined();
      expect(u.data.updateBuild.errors).toEqual([]);
    }
    const read = await gql(`query($id: ID!) { build(id: $id) { name hasBuildServerClientKey steps { config { __typename ... on HttpStepConfig { url hasPassword customHeaders { name value secret } } ... on CreateImageStepConfig { hasPassword } ... on FtpStepConfig { hasPassword } ... on UserTaskStepConfig { envs { key value secret hasValue } } ... on CodeDownStepConfig { repositoryUrl } } } } node(id: $id) { id } }`, { id }, viewerKey);
    const configs = read.data.build.steps.map((st: { config: object }) => st.config);
    expect(configs).toContainEqual({ __typename: 'UserTaskStepConfig', envs: [{ key: 'DEPLOY_KEY', value: null, secret: true, hasValue: true }, { key: 'MODE', value: 'fast', secret: false, hasValue: true }] });
    expect(configs).toContainEqual({ __typename: 'CodeDownStepConfig', repositoryUrl: 'https://git.example/x.git' });
    expect(configs.find((c: { __typename: string }) => c.__typename === 'HttpStepConfig').url).toBe('http://127.0.0.1:9/x?access_token=***');
    await gql('{ builds { totalCount edges { node { name } } } providers { providerId baseUrl health { status lastError } } }', {}, viewerKey); // the quay upstream is down: a partial error

    // Error paths that carry secrets in their input.
    await gql('mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id } } }', { i: { ...build('x'.repeat(300), S.registry), steps: 'not-a-list' } });
    await gql('mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id } } }', { i: { ...build('bad', S.registry), steps: [{ stepOrder: 1, stepType: 'HTTP', http: { url: 'nope', password: S.httpPw, customHeaders: [{ name: 'X-Custom', value: S.flagged, secret: true }] } }] } });
    await gql('mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id } } }', { i: build('', S.registry) });
    await gql('mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id } } }', { i: build('viewer', S.registry) }, viewerKey);
    await gql('{ builds(providerIds: ["quay-x"]) { totalCount } }');
    await gql('{ auditLog(first: 100) { edges { node { operation arguments outcome } } } }');
    await post(server.url, { query: '{ builds { totalCount } }' }, { authorization: `Bearer ${adminKey}x` }).then((r) => seen.push(r.text));
    void changes; // never completes; its events are in `seen`
    await new Promise((r) => setTimeout(r, 300));

    expect(seen.length).toBeGreaterThan(15);
    expect(logs.length).toBeGreaterThan(3);
    const everything = [...seen, ...logs].join('\n');
    if (process.env.SHOW_LOGS) console.log(logs.join(''));
    const secretValues = [...Object.values(S), adminKey, viewerKey, adminKey.split('_').slice(2).join('_')];
    const found = secretValues.filter((s) => everything.includes(s));
    if (found.length) console.log([...seen, ...logs].filter((t) => found.some((f) => t.includes(f))).map((t) => t.slice(0, 2000)));
    expect(found).toEqual([]);
    expect(logs.some((l) => /"level":20/.test(l))).toBe(true); // debug lines were really written
    expect(seen.some((t) => t.includes('"buildsChanged"'))).toBe(true);
  }, 30_000);
});
