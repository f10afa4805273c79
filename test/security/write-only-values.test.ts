import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { StepConfig } from '../../src/providers/types.js';
import type { TestGateway } from '../support/gateway.js';
import { createKey, post, strictGateway, waitFor } from './helpers.js';

/**
 * USER_TASK env values and URL credentials are write-only like the other secrets: masked
 * for every reader, kept on update when sent back omitted or masked.
 */
const ENV = 'WO-ENV-SECRET-1';
const TOKEN = 'WO-URL-TOKEN-2';
const GIT_PW = 'WO-GIT-PW-3';

const userTask = (envs: object[]) => ({ stepOrder: 1, stepType: 'USER_TASK', useFlag: false, userTask: { cmd: ['env'], imageName: 'busybox', imageTag: '1', envs } });
const httpStep = (url: string) => ({ stepOrder: 2, stepType: 'HTTP', useFlag: false, http: { url, httpMode: 'GET', timeout: 5 } });
const codeDown = (repositoryUrl: string) => ({ stepOrder: 3, stepType: 'CODE_DOWN', useFlag: false, codeDown: { repositoryUrl, branchName: 'main' } });
const READ = `query($id: ID!) { build(id: $id) { steps { id config { __typename
  ... on UserTaskStepConfig { envs { key value secret hasValue } }
  ... on HttpStepConfig { url } ... on CodeDownStepConfig { repositoryUrl } } } } }`;

describe('write-only env values and URL credentials', () => {
  let gw: TestGateway;
  let admin: Record<string, string>; let viewer: Record<string, string>;

  beforeAll(async () => {
    gw = await strictGateway({ providers: [{ id: 'quay-x', kind: 'QUAY', baseUrl: 'http://robot:WO-BASEURL-PW@127.0.0.1:9/api?token=WO-BASEURL-TOKEN', retries: 0, timeoutMs: 300, options: { token: 'x', repositories: ['org/app'] } }] });
    admin = (await createKey(gw, 'admin')).auth;
    viewer = (await createKey(gw, 'viewer')).auth;
  });
  afterAll(() => gw.close());

  const gql = async (query: string, variables: object, auth: Record<string, string>) => {
    const r = await post(gw.url, { query, variables }, auth);
    expect(r.json.errors).toBeUndefined();
    return r.json.data;
  };
  /** The stored step configs as the engine gets them (secrets merged in). */
  const stored = async (id: string): Promise<StepConfig[]> => {
    const key = Buffer.from(id, 'base64url').toString().split('|')[3]!;
    const native = gw.server.services.registry.get('native') as unknown as { builds: { get(k: string): Promise<{ steps: Array<{ config: StepConfig }> }> } };
    return (await native.builds.get(key)).steps.map((s) => s.config);
  };

  it('env values: secret by default, shown only when marked secret: false, kept when omitted, cleared with ""', async () => {
    const input = { name: 'envs', steps: [userTask([{ key: 'DEPLOY_TOKEN', value: ENV }, { key: 'MODE', value: 'fast', secret: false }, { key: 'GONE', value: 'soon' }])] };
    const id = (await gql('mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id } } }', { i: input }, admin)).createBuild.build.id as string;
    const read = await gql(READ, { id }, viewer);
    expect(read.build.steps[0].config.envs).toEqual([
      { key: 'DEPLOY_TOKEN', value: null, secret: true, hasValue: true },
      { key: 'MODE', value: 'fast', secret: false, hasValue: true },
      { key: 'GONE', value: null, secret: true, hasValue: true },
    ]);

    // Sent back as read: the secret value omitted (kept), one cleared with "".
    const stepId = read.build.steps[0].id as string;
    const update = { name: 'envs', steps: [{ ...userTask([{ key: 'DEPLOY_TOKEN' }, { key: 'MODE', value: 'slow', secret: false }, { key: 'GONE', value: '' }]), stepId }] };
    const after = await gql(`mutation($id: ID!, $i: BuildInput!) { updateBuild(input: { buildId: $id, build: $i }) { build { id } } }`, { id, i: update }, admin);
    expect(after.updateBuild.build.id).toBe(id);
    expect((await gql(READ, { id }, viewer)).build.steps[0].config.envs).toEqual([
      { key: 'DEPLOY_TOKEN', value: null, secret: true, hasValue: true },
      { key: 'MODE', value: 'slow', secret: false, hasValue: true },
      { key: 'GONE', value: null, secret: true, hasValue: false },
    ]);
    const [cfg] = await stored(id);
    expect(cfg).toMatchObject({ envs: [{ key: 'DEPLOY_TOKEN', value: ENV }, { key: 'MODE', value: 'slow' }, { key: 'GONE', value: '' }] });

    // The audit log keeps what was asked, secret env values masked.
    const audit = JSON.stringify((await gql('{ auditLog(first: 5) { edges { node { operation arguments } } } }', {}, admin)).auditLog);
    expect(audit).not.toContain(ENV);
    expect(audit).toContain('"value":"fast"');
  });

  it('URL credentials: masked when read, kept when the masked URL is sent back, replaced when a new one is sent', async () => {
    const url = `https://hooks.example/x?access_token=${TOKEN}&page=2`;
    // (a repositoryUrl may not carry credentials at all: refused when saved, see below)
    const repo = `https://ci:${GIT_PW}@hooks.example/app`;
    const input = { name: 'urls', steps: [httpStep(url), { ...httpStep(repo), stepOrder: 3 }] };
    const id = (await gql('mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id } } }', { i: input }, admin)).createBuild.build.id as string;
    const read = await gql(READ, { id }, viewer);
    expect(read.build.steps.map((s: { config: object }) => s.config)).toEqual([
      { __typename: 'HttpStepConfig', url: 'https://hooks.example/x?access_token=***&page=2' },
      { __typename: 'HttpStepConfig', url: 'https://ci:***@hooks.example/app' },
    ]);

    // The masked URLs sent back (page changed): the stored credentials stay.
    const [h, c] = read.build.steps as Array<{ id: string; config: { url?: string; repositoryUrl?: string } }>;
    const back = { name: 'urls', steps: [{ ...httpStep(h!.config.url!.replace('page=2', 'page=3')), stepId: h!.id }, { ...httpStep(c!.config.url!), stepOrder: 3, stepId: c!.id }] };
    await gql('mutation($id: ID!, $i: BuildInput!) { updateBuild(input: { buildId: $id, build: $i }) { build { id } } }', { id, i: back }, admin);
    expect((await stored(id)).map((s) => ('url' in s ? s.url : 'repositoryUrl' in s ? s.repositoryUrl : null))).toEqual([
      `https://hooks.example/x?access_token=${TOKEN}&page=3`, repo,
    ]);
    // A new token replaces the stored one.
    const fresh = { name: 'urls', steps: [httpStep('https://hooks.example/x?access_token=NEW-TOKEN')] };
    await gql('mutation($id: ID!, $i: BuildInput!) { updateBuild(input: { buildId: $id, build: $i }) { build { id } } }', { id, i: fresh }, admin);
    expect((await stored(id))[0]).toMatchObject({ url: 'https://hooks.example/x?access_token=NEW-TOKEN' });

    // callbackUrl of a run, the audit log of runBuild, a provider's baseUrl: masked too.
    const run = await gql('mutation($id: ID!) { runBuild(input: { buildId: $id, callbackUrl: "https://cb.example/done?sig=WO-CB-SIG&run=1" }) { run { id callbackUrl } } }', { id }, admin);
    expect(run.runBuild.run.callbackUrl).toBe('https://cb.example/done?sig=***&run=1');
    const seen = JSON.stringify(await gql(`{ run(id: "${run.runBuild.run.id}") { callbackUrl } providers { providerId baseUrl } }`, {}, viewer));
    expect(seen).toContain('http://robot:***@127.0.0.1:9/api?token=***');
    const audit = JSON.stringify(await gql('{ auditLog(first: 10) { edges { node { arguments } } } }', {}, admin));
    for (const s of [seen, audit]) for (const secret of [TOKEN, GIT_PW, 'WO-CB-SIG', 'WO-BASEURL-PW', 'WO-BASEURL-TOKEN']) expect(s).not.toContain(secret);
  });

  it('a repositoryUrl with credentials, or one that does not parse, is refused when saved without quoting it', async () => {
    for (const repo of [`https://ci:${GIT_PW}@git.example/app.git`, `https://ci:${GIT_PW}@[bad/app.git`]) {
      const r = await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json', ...admin }, body: JSON.stringify({ query: 'mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id } errors { code message path details } } }', variables: { i: { name: 'creds', steps: [codeDown(repo)] } } }) });
      const body = await r.text();
      expect(JSON.parse(body).data.createBuild.errors).toEqual([expect.objectContaining({ code: 'VALIDATION', path: ['input', 'build', 'steps', '0', 'codeDown', 'repositoryUrl'] })]);
      expect(body).not.toContain(GIT_PW);
    }
  });

  it('a step error quoting its configuration shows no credential (step and run errorMessage)', async () => {
    // Not a URL the step can use: the step's error quotes it, password and all (an HTTP url to a host that does not resolve).
    const input = { name: 'bad-url', steps: [{ ...httpStep(`https://ci:${GIT_PW}@no-such-host.invalid/app`), useFlag: true }] };
    const id = (await gql('mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id } } }', { i: input }, admin)).createBuild.build.id as string;
    const runId = (await gql('mutation($id: ID!) { runBuild(input: { buildId: $id }) { run { id } } }', { id }, admin)).runBuild.run.id as string;
    await waitFor(async () => (await gql(`{ run(id: "${runId}") { state } }`, {}, viewer)).run.state === 'ERROR');
    const run = (await gql(`{ run(id: "${runId}") { errorMessage steps { errorMessage } log(first: 50) { lines { text } } } }`, {}, viewer)).run;
    expect(run.steps[0].errorMessage).toMatch(/failed/);
    expect(JSON.stringify(run)).not.toContain(GIT_PW);
  });
});
