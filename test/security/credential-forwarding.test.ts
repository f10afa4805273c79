import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { StepConfig } from '../../src/providers/types.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { waitFor } from './helpers.js';

/**
 * A stored step secret (password, secret header, registry password) omitted on update is
 * kept only while the step's target (scheme, host, port) stays the same: whoever may edit a
 * build but not read its secrets must not be able to point them at a host of their choosing.
 */
const PW = 'FWD-HTTP-PW-1';
const KEY = 'FWD-API-KEY-2';
const b64 = (s: string) => Buffer.from(s).toString('base64');

interface Seen { authorization?: string; apiKey?: string }
async function recorder(): Promise<{ url: string; seen: Seen[]; server: http.Server }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ authorization: req.headers.authorization, apiKey: req.headers['x-api-key'] as string | undefined });
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

const httpStep = (url: string, secrets: { password?: string; key?: string | null }) => ({
  stepOrder: 1, stepType: 'HTTP',
  http: { url: `${url}/hook`, httpMode: 'GET', timeout: 5, username: 'u', password: secrets.password, customHeaders: [{ name: 'X-Api-Key', value: secrets.key, secret: true }] },
});

describe('stored step secrets do not follow a changed host', () => {
  let gw: TestGateway;
  let a: Awaited<ReturnType<typeof recorder>>;
  let b: Awaited<ReturnType<typeof recorder>>;

  beforeAll(async () => {
    [a, b] = await Promise.all([recorder(), recorder()]);
    gw = await startGateway({ config: { engine: { allowPrivateHosts: ['127.0.0.1'] } } });
  });
  afterAll(async () => {
    await gw.close();
    for (const s of [a.server, b.server]) await new Promise((r) => s.close(r));
  });

  const gql = async (query: string, variables: object = {}) => (await gw.gql(query, variables)) as { data?: any; errors?: any[] };
  const create = async (steps: object[]) => {
    const r = await gql('mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id steps { id } } } }', { i: { name: 'fwd', steps } });
    expect(r.errors).toBeUndefined();
    return { id: r.data.createBuild.build.id as string, stepIds: r.data.createBuild.build.steps.map((s: { id: string }) => s.id) as string[] };
  };
  /** The refused input's user errors (empty: updated). */
  const update = async (id: string, steps: object[]): Promise<Array<{ code: string; message: string; path: string[] }>> => {
    const r = await gql('mutation($id: ID!, $i: BuildInput!) { updateBuild(input: { buildId: $id, build: $i }) { build { id } errors { code message path } } }', { id, i: { name: 'fwd', steps } });
    expect(r.errors).toBeUndefined();
    return r.data.updateBuild.errors;
  };
  const at = (i: number, config: string, field: string) => ['input', 'build', 'steps', String(i), config, ...field.replace(/\[(\d+)\]/g, '.$1').split('.')];
  const stored = async (id: string): Promise<StepConfig[]> => {
    const key = Buffer.from(id, 'base64url').toString().split('|')[3]!;
    const native = gw.server.services.registry.get('native') as unknown as { builds: { get(k: string): Promise<{ steps: Array<{ config: StepConfig }> }> } };
    return (await native.builds.get(key)).steps.map((s) => s.config);
  };
  const runToEnd = async (id: string) => {
    const runId = (await gql('mutation($id: ID!) { runBuild(input: { buildId: $id }) { run { id } } }', { id })).data.runBuild.run.id as string;
    await waitFor(async () => ['DONE', 'ERROR'].includes((await gql(`{ run(id: "${runId}") { state } }`)).data.run!.state));
  };

  it('HTTP: a new host with the password or secret header omitted is refused, nothing changes, and nothing reaches the new host', async () => {
    const { id, stepIds } = await create([httpStep(a.url, { password: PW, key: KEY })]);
    for (const [omit, field] of [[{ key: KEY }, 'password'], [{ password: PW, key: null }, 'customHeaders[0].value']] as const) {
      const errors = await update(id, [{ ...httpStep(b.url, omit), stepId: stepIds[0] }]);
      expect(errors.map((e) => e.code)).toEqual(['VALIDATION']);
      expect(errors[0]!.path).toEqual(at(0, 'http', field));
      expect(errors[0]!.message).toContain('when changing the host');
    }
    expect((await stored(id))[0]).toMatchObject({ url: `${a.url}/hook`, password: PW });
    await runToEnd(id);
    expect(b.seen).toEqual([]);
    expect(a.seen.at(-1)).toEqual({ authorization: `Basic ${b64(`u:${PW}`)}`, apiKey: KEY });

    // Re-entered, they go to the new host.
    expect(await update(id, [{ ...httpStep(b.url, { password: 'FWD-NEW-PW', key: 'FWD-NEW-KEY' }), stepId: stepIds[0] }])).toEqual([]);
    await runToEnd(id);
    expect(b.seen).toEqual([{ authorization: `Basic ${b64('u:FWD-NEW-PW')}`, apiKey: 'FWD-NEW-KEY' }]);
  });

  it('HTTP: the same host (path changed) keeps the omitted secrets', async () => {
    const { id, stepIds } = await create([httpStep(a.url, { password: PW, key: KEY })]);
    const same = httpStep(a.url, {});
    same.http.url = `${a.url}/other?page=2`;
    expect(await update(id, [{ ...same, stepId: stepIds[0] }])).toEqual([]);
    const before = a.seen.length;
    await runToEnd(id);
    expect(a.seen.slice(before)).toEqual([{ authorization: `Basic ${b64(`u:${PW}`)}`, apiKey: KEY }]);
  });

  it('FTP, CODE_DOWN, CREATE_IMAGE: another host, port or scheme with the password omitted is refused; the same target keeps it', async () => {
    const ftp = (url: string, ftpType = 'FTP', password?: string) => ({ stepOrder: 1, stepType: 'FTP', useFlag: false, ftp: { url, ftpType, username: 'f', password, sourceFiles: 'out', remoteDirectory: '/', ftpExecType: 'DIR_FTP_UPLOAD' } });
    const git = (repositoryUrl: string, protocolType = 'HTTPS', password?: string) => ({ stepOrder: 2, stepType: 'CODE_DOWN', useFlag: false, codeDown: { repositoryUrl, branchName: 'main', commonType: 'PRIVATE', protocolType, userId: 'g', password } });
    const image = (registryUrl: string | undefined, password?: string) => ({ stepOrder: 3, stepType: 'CREATE_IMAGE', useFlag: false, createImage: { dockerFileType: 'CONTENTS', dockerFile: 'FROM scratch', registryName: 'dev', imageName: 'app', registryUrl, loginId: 'r', password } });
    const { id, stepIds } = await create([ftp('ftp.example:21', 'FTP', 'FWD-FTP'), git('git.example/app.git', 'HTTPS', 'FWD-GIT'), image(undefined, 'FWD-REG')]);
    const withIds = (steps: object[]) => steps.map((s, i) => ({ ...s, stepId: stepIds[i] }));

    const moves: Array<[object[], number]> = [
      [[ftp('ftp.example:2121'), git('git.example/app.git'), image(undefined)], 0],
      [[ftp('ftp.example:21', 'SFTP'), git('git.example/app.git'), image(undefined)], 0],
      [[ftp('ftp.example:21'), git('git.example/app.git', 'HTTP'), image(undefined)], 1],
      [[ftp('ftp.example:21'), git('https://other.example/app.git'), image(undefined)], 1],
      [[ftp('ftp.example:21'), git('git.example/app.git'), image('evil.example:5000')], 2],
    ];
    for (const [steps, i] of moves) {
      const errors = await update(id, withIds(steps));
      expect(errors.map((e) => [e.code, e.path])).toEqual([['VALIDATION', at(i, ['ftp', 'codeDown', 'createImage'][i]!, 'password')]]);
    }
    // The same targets, written differently where the engine reads them alike: kept.
    expect(await update(id, withIds([ftp('FTP.example:21'), git('https://git.example/app.git'), image('')]))).toEqual([]);
    expect((await stored(id)).map((c) => (c as { password?: string }).password)).toEqual(['FWD-FTP', 'FWD-GIT', 'FWD-REG']);
  });
});
