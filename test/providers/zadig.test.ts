import Keyv from 'keyv';
import { pino } from 'pino';
import { BuildgateError, UpstreamError } from '../../src/errors.js';
import { createZadigProvider, type ZadigProvider } from '../../src/providers/zadig/index.js';
import type { RunData } from '../../src/providers/types.js';
import { startFakeZadig, ZADIG_TOKEN } from '../fakes/zadig.js';

const logger = pino({ level: 'silent' });
type Fake = Awaited<ReturnType<typeof startFakeZadig>>;
let z: Fake;

function make(options: Record<string, unknown> = {}, inst: Record<string, unknown> = {}): ZadigProvider {
  return createZadigProvider(
    { id: 'zadig-test', kind: 'ZADIG', baseUrl: z.url, options: { token: ZADIG_TOKEN, projectKey: 'demo', workflowKey: 'build-demo', sseIdleMs: 150, ...options },
      cacheTtlMs: 0, timeoutMs: 800, retries: 1, ...inst },
    { cache: new Keyv(), logger },
  ) as ZadigProvider;
}
async function caught(p: Promise<unknown>): Promise<BuildgateError> {
  try { await p; } catch (e) { if (e instanceof BuildgateError) return e; throw e; }
  throw new Error('expected a failure');
}
async function waitFor(p: ZadigProvider, key: string, pred: (r: RunData) => boolean, ms = 8000): Promise<RunData> {
  const until = Date.now() + ms;
  for (;;) {
    const r = (await p.getRun(key))!;
    if (pred(r) || Date.now() > until) return r;
    await new Promise((res) => setTimeout(res, 100));
  }
}

beforeEach(async () => { z = await startFakeZadig({ lineMs: 60, queuedMs: 250, deployMs: 250 }); });
afterEach(async () => { await z.close(); });

describe('options', () => {
  test('a missing token or an unknown key is a clear error naming the key', () => {
    expect(() => make({ token: undefined })).toThrow(/options\.token/);
    expect(() => make({ projetKey: 'x' })).toThrow(/projetKey/);
    expect(() => createZadigProvider({ id: 'z', kind: 'ZADIG', baseUrl: z.url, options: { token: 't' }, cacheTtlMs: 0, timeoutMs: 1, retries: 0 }, { cache: new Keyv(), logger }))
      .toThrow(/options\.projects/);
  });
});

describe('build modules', () => {
  test('list maps offset/limit onto pageNum/pageSize with totalCount', async () => {
    const p = make();
    const a = await p.listBuilds({ offset: 2, limit: 2 });
    expect(a.items.map((b) => b.name)).toEqual(['worker-build', 'broken-build']);
    expect(a.totalCount).toBe(4);
    expect(a.hasMore).toBe(false);
    expect(z.fake.requests.at(-1)!.query).toMatchObject({ projectKey: 'demo', pageNum: '2', pageSize: '2' });
    const b = await p.listBuilds({ offset: 1, limit: 2 });
    expect(b.items.map((x) => x.key)).toEqual(['demo/web-build', 'demo/worker-build']);
    expect(b.hasMore).toBe(true);
    const c = await p.listBuilds({ offset: 0, limit: 10, filter: { nameContains: 'WEB' }, sort: 'NAME' });
    expect(c.items.map((x) => x.name)).toEqual(['web-build']);
    expect(c.totalCount).toBe(1);
    expect((await caught(p.listBuilds({ offset: 0, limit: 5, sort: 'LAST_RUN_TIME' }))).code).toBe('UNSUPPORTED_BY_PROVIDER');
  });

  test('detail by key alone, credential values never returned', async () => {
    const p = make();
    const b = (await p.getBuild('demo/web-build'))!;
    expect(b.name).toBe('web-build');
    expect(b.details).toMatchObject({ projectKey: 'demo', buildScript: expect.stringContaining('make build'), templateName: null });
    expect(JSON.stringify(b)).not.toContain('npm-secret-value');
    const detailCall = z.fake.requests.find((r) => r.path === '/openapi/build/web-build/detail')!;
    expect(detailCall.query).toMatchObject({ serviceName: 'web', serviceModule: 'web' });
    expect(await p.getBuild('demo/nope')).toBeNull();
    expect(await p.getBuild('other-project/web-build')).toBeNull();
    expect(await p.getBuild('garbage')).toBeNull();
  });

  test('create, update, create/update from template, delete', async () => {
    const p = make();
    const req = {
      name: 'api-test', infrastructure: 'kubernetes', build_os: 'ubuntu 20.04', installs: [{ name: 'go', version: '1.20.7' }],
      script_type: 'shell', build_script: 'make', services: [{ service_name: 'svc1', service_module: 'svc1' }],
    };
    const created = await p.createZadigBuild('demo', req);
    expect(created.key).toBe('demo/api-test');
    const post = z.fake.requests.find((r) => r.method === 'POST' && r.path === '/openapi/build')!;
    expect(post.query.projectKey).toBe('demo');
    expect(post.body).toMatchObject({ name: 'api-test', project_key: 'demo', services: req.services });
    const dup = await caught(p.createZadigBuild('demo', req));
    expect(dup).toBeInstanceOf(UpstreamError);
    expect(dup.code).toBe('UPSTREAM_REJECTED');
    expect(dup.message).toMatch(/already exists \(code 6071\)/);
    expect(dup.extensions).toMatchObject({ providerId: 'zadig-test', status: 400 });
    const bad = await caught(p.createZadigBuild('demo', { ...req, infrastructure: 'mainframe' }));
    expect(bad.code).toBe('BAD_USER_INPUT');
    expect(bad.message).toMatch(/infrastructure/);
    expect((await caught(p.createZadigBuild('elsewhere', req))).message).toMatch(/project "elsewhere" is not configured/);

    const updated = await p.updateZadigBuild('demo', { ...req, build_os: 'ubuntu 22.04' });
    expect((updated.details!.buildEnv as { basic_image_label: string }).basic_image_label).toBe('ubuntu 22.04');

    const tpl = { name: 'tpl-build', template_name: 'go-template', target_services: [{ service_name: 'svc2', service_module: 'svc2',
      repo_info: [{ codehost_name: 'gh', repo_namespace: 'org', repo_name: 'svc2', branch: 'main' }], inputs: [{ key: 'a', value: '1' }] }] };
    const fromTpl = await p.createZadigBuildFromTemplate('demo', tpl);
    expect(fromTpl.details!.templateName).toBe('go-template');
    expect(z.fake.requests.some((r) => r.method === 'POST' && r.query.source === 'template')).toBe(true);
    const tplUpd = await p.updateZadigBuildFromTemplate('demo', { ...tpl, template_name: 'go-template-v2' });
    expect(tplUpd.details!.templateName).toBe('go-template-v2');
    expect(z.fake.count('PUT', '/openapi/build/tpl-build/template')).toBe(1);

    expect(await p.deleteBuild('demo/api-test')).toBe(true);
    expect(await p.getBuild('demo/api-test')).toBeNull();
    expect((await caught(p.deleteBuild('demo/api-test'))).code).toBe('UPSTREAM_REJECTED');
    expect((await caught(p.createBuild())).code).toBe('UNSUPPORTED_BY_PROVIDER');
    expect((await caught(p.updateBuild())).code).toBe('UNSUPPORTED_BY_PROVIDER');
  });
});

describe('runs', () => {
  test('a run goes QUEUED -> RUNNING -> DONE; steps, logs (SSE then text, same seq), image tag, record', async () => {
    const p = make();
    const run = await p.runBuild('demo/api-build', {});
    expect(run.key).toBe('demo/api-build/build-demo/1');
    expect(['QUEUED', 'RUNNING']).toContain(run.state);
    const body = z.fake.requests.find((r) => r.method === 'POST' && r.path === '/openapi/workflows/custom/task')!.body;
    expect(body).toMatchObject({ workflow_key: 'build-demo', project_key: 'demo', inputs: [{ job_name: 'build', job_type: 'zadig-build',
      parameters: { service_list: [{ service_name: 'api', service_module: 'api' }] } }] });

    const running = await waitFor(p, run.key, (r) => r.state === 'RUNNING');
    expect(running.rawState).toBe('running');
    await new Promise((r) => setTimeout(r, 200));
    const live = await p.getLogs(run.key, { limit: 100 });
    expect(z.fake.count('GET', '/openapi/logs/sse/v4/workflow/build-demo/1/build/')).toBeGreaterThan(0);
    expect(live.lines.length).toBeGreaterThan(0);
    expect(live.lines[0]).toMatchObject({ seq: 1, text: '[api-build] preparing workspace', stepRunKey: 'demo/api-build/build-demo/1/build' });

    const done = await waitFor(p, run.key, (r) => r.state === 'DONE');
    expect(done).toMatchObject({ state: 'DONE', rawState: 'passed', tagName: '20241125-1', imageUrl: 'registry.example.com/demo/api:20241125-1', sourceRevision: 'a1b2c3d4e5f6' });
    expect(done.endTime!.getTime()).toBeGreaterThanOrEqual(done.beginTime!.getTime());

    const all = await p.getLogs(run.key, { limit: 100 });
    expect(all.lines.slice(0, live.lines.length)).toEqual(live.lines);
    expect(all.lines.map((l) => l.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 1_000_001, 1_000_002]);
    expect(all.lines.at(-1)!.text).toBe('deploy done');
    const after = await p.getLogs(run.key, { afterSeq: 7, limit: 2 });
    expect(after.lines.map((l) => l.seq)).toEqual([8, 1_000_001]);
    expect(after).toMatchObject({ lastSeq: 1_000_001, hasMore: true });
    const tail = await p.getLogs(run.key, { limit: 1, tail: true });
    expect(tail.lines.map((l) => l.text)).toEqual(['deploy done']);
    const oneStep = await p.getLogs(run.key, { stepRunKey: 'demo/api-build/build-demo/1/deploy-api', limit: 100 });
    expect(oneStep.lines.map((l) => l.seq)).toEqual([1_000_001, 1_000_002]);

    const steps = await p.listStepRuns(run.key);
    expect(steps.map((s) => [s.stepOrder, s.stepType, s.state, s.rawState])).toEqual([[1, 'zadig-build', 'DONE', 'passed'], [2, 'zadig-deploy', 'DONE', 'passed']]);
    expect(await p.getStepRun(steps[1]!.key)).toEqual(steps[1]);

    const tags = await p.listImageTags('demo/api-build', { offset: 0, limit: 10, sort: 'END_TIME', order: 'DESC' });
    expect(tags.items.map((t) => t.tag)).toEqual(['20241125-1']);
    expect(await p.getImageTag(tags.items[0]!.key)).toMatchObject({ imageName: 'registry.example.com/demo/api', runKey: run.key });
    expect((await caught(p.listImageTags('demo/api-build', { offset: 0, limit: 1, sort: 'IMAGE_SIZE', order: 'ASC' }))).code).toBe('UNSUPPORTED_BY_PROVIDER');

    const rec = (await p.getBuildRecord(run.key))!;
    expect(rec).toMatchObject({ status: 'passed', state: 'DONE', branch: 'main', commit: 'a1b2c3d4e5f6', repository: 'demo-org/api', triggeredBy: 'openapi', buildNo: 1 });

    // the key alone is enough for a fresh provider instance (no state kept between calls)
    expect((await make().getRun(run.key))!.state).toBe('DONE');
    expect(await p.getRun('demo/api-build/build-demo/999')).toBeNull();
    expect(await p.getRun('not-a-key')).toBeNull();
  }, 20_000);

  test('a failing build ends ERROR with its message; later steps SKIPPED', async () => {
    const p = make();
    const run = await p.runBuild('demo/broken-build', {});
    const end = await waitFor(p, run.key, (r) => r.state !== 'QUEUED' && r.state !== 'RUNNING');
    expect(end).toMatchObject({ state: 'ERROR', rawState: 'failed', errorMessage: 'build job failed' });
    const steps = await p.listStepRuns(run.key);
    expect(steps.map((s) => s.state)).toEqual(['ERROR', 'SKIPPED']);
    expect(steps[0]!.errorMessage).toBe('exit status 2');
  }, 15_000);

  test('runs belong to the modules they built; a module never built has none', async () => {
    const p = make();
    const api = await p.runBuild('demo/api-build', {});
    const web = await p.runBuild('demo/web-build', {});
    const apiRuns = await p.listRuns('demo/api-build', { offset: 0, limit: 10 });
    expect(apiRuns.items.map((r) => r.key)).toEqual([api.key]);
    expect(apiRuns.totalCount).toBe(1);
    expect((await p.listRuns('demo/web-build', { offset: 0, limit: 10 })).items.map((r) => r.key)).toEqual([web.key]);
    expect(await p.latestRun('demo/worker-build')).toBeNull();
    expect((await p.latestRun('demo/api-build'))!.key).toBe(api.key);
    // The same task under another module's key is not a run of that module.
    expect(await p.getRun(api.key.replace('api-build', 'worker-build'))).toBeNull();
  });

  test('never silently: a build module row that cannot be read is an error naming it; rows + errors = the page', async () => {
    const p = make();
    z.fake.fault({ kind: 'wrongType', path: /^\/openapi\/build$/, times: Infinity, mutate: (b) => { if (b.builds?.[1]) b.builds[1].target_services = 'x'; } });
    const page = await p.listBuilds({ offset: 0, limit: 10 });
    expect(page.items.map((b) => b.key)).toEqual(['demo/api-build', 'demo/worker-build', 'demo/broken-build']);
    expect(page.errors?.map((e) => [(e as UpstreamError).code, (e as UpstreamError).extensions.id])).toEqual([['UPSTREAM_BAD_RESPONSE', 'demo/web-build']]);
    expect(page.totalCount).toBe(page.items.length + page.errors!.length);
    const named = await p.listBuilds({ offset: 0, limit: 10, sort: 'NAME' });
    expect(named.errors).toHaveLength(1);
    expect(named.totalCount).toBe(named.items.length + 1);
    // Asked for by key, the unreadable module is that error, not "no such module".
    expect((await caught(p.getBuild('demo/web-build'))).extensions.id).toBe('demo/web-build');
    expect(await p.getBuild('demo/none')).toBeNull();
  });

  test('never silently: a listed task whose build job cannot be read is an error naming it, not a run left out', async () => {
    const p = make();
    const first = await p.runBuild('demo/api-build', {});
    const second = await p.runBuild('demo/api-build', {});
    const broken = Number(first.key.split('/').at(-1));
    z.fake.fault({ kind: 'wrongType', path: /^\/openapi\/workflows\/custom\/task$/, times: Infinity, mutate: (b) => {
      if (b.task_id !== broken) return;
      for (const st of b.stages ?? []) for (const j of st.jobs ?? []) if (j.type === 'zadig-build') j.spec = 'not a spec';
    } });
    const e = (await caught(p.listRuns('demo/api-build', { offset: 0, limit: 10 }))) as UpstreamError;
    expect(e.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(e.extensions.id).toBe(String(broken));
    expect(e.message).toContain(`task ${broken}`);
    expect((await caught(p.getRun(first.key))).extensions.id).toBe(String(broken));
    z.fake.clearFaults();
    expect((await p.listRuns('demo/api-build', { offset: 0, limit: 10 })).items.map((r) => r.key)).toEqual([second.key, first.key]);
  });

  test('never silently: a task the workflow lists but Zadig will not show is an error naming it', async () => {
    const p = make();
    const run = await p.runBuild('demo/api-build', {});
    const id = run.key.split('/').at(-1)!;
    z.fake.fault({ path: /^\/openapi\/workflows\/custom\/task$/, status: 500, body: { code: 500, message: 'Internal Error', description: 'mongo: no documents in result' }, times: 1 });
    const e = (await caught(p.listRuns('demo/api-build', { offset: 0, limit: 10 }))) as UpstreamError;
    expect(e.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(e.extensions.id).toBe(id);
    // Asked for by key, a task Zadig does not know is simply not found.
    expect(await p.getRun(run.key.replace(/\d+$/, '9999'))).toBeNull();
  });

  test('image tags sort by TAG with numbers as numbers ("-2" before "-10")', async () => {
    const p = make();
    const runs = [];
    for (let i = 0; i < 11; i++) runs.push(await p.runBuild('demo/api-build', {}));
    for (const r of runs) await waitFor(p, r.key, (x) => x.state === 'DONE');
    const tags = await p.listImageTags('demo/api-build', { offset: 0, limit: 20, sort: 'TAG', order: 'ASC' });
    expect(tags.items.map((t) => t.tag)).toEqual(Array.from({ length: 11 }, (_, i) => `20241125-${i + 1}`));
  }, 20_000);

  test('cancel a running task; cancelling again is not allowed; 6xxx business error surfaced', async () => {
    const p = make();
    const run = await p.runBuild('demo/worker-build', {});
    await waitFor(p, run.key, (r) => r.state === 'RUNNING');
    const c = await p.cancelRun(run.key);
    expect(c).toMatchObject({ state: 'CANCELED', rawState: 'cancelled' });
    expect((await caught(p.cancelRun(run.key))).code).toBe('ACTION_NOT_ALLOWED');
    const steps = await p.listStepRuns(run.key);
    expect(steps.map((s) => s.state)).toEqual(['CANCELED', 'CANCELED']);

    const run2 = await p.runBuild('demo/worker-build', {});
    z.fake.fault({ method: 'DELETE', path: /custom\/task$/, status: 400, body: { type: 'error', code: 6163, message: '取消工作流任务失败', description: 'task is not running', extra: {} } });
    const e = await caught(p.cancelRun(run2.key));
    expect(e.code).toBe('UPSTREAM_REJECTED');
    expect(e.message).toContain('6163');
    expect(e.extensions.upstream).toMatchObject({ code: 6163 });
  }, 15_000);

  test('run list pages newest first with totalCount; unsupported run options are refused', async () => {
    const p = make();
    for (let i = 0; i < 3; i++) await p.runBuild('demo/api-build', {});
    const page = await p.listRuns('demo/api-build', { offset: 1, limit: 2 });
    expect(page.items.map((r) => r.buildNo)).toEqual([2, 1]);
    expect(page).toMatchObject({ totalCount: 3, hasMore: false });
    expect((await p.latestRun('demo/api-build'))!.buildNo).toBe(3);
    expect((await caught(p.runBuild('demo/api-build', { tagName: 'v1' }))).code).toBe('UNSUPPORTED_BY_PROVIDER');
    expect((await caught(p.runBuild('demo/missing', {}))).code).toBe('NOT_FOUND');
  });
});

describe('upstream faults', () => {
  const cases: Array<[string, Parameters<Fake['fake']['fault']>[0], string]> = [
    ['500', { status: 500, times: Infinity }, 'UPSTREAM_UNAVAILABLE'],
    ['404', { status: 404 }, 'UPSTREAM_NOT_FOUND'],
    ['401', { status: 401 }, 'UPSTREAM_AUTH'],
    ['403', { status: 403, body: { type: 'error', code: 403, message: 'Forbidden', description: `bad token ${ZADIG_TOKEN}` } }, 'UPSTREAM_AUTH'],
    ['429', { status: 429, retryAfterSec: 30, times: Infinity }, 'UPSTREAM_RATE_LIMITED'],
    ['timeout', { kind: 'timeout', times: Infinity }, 'UPSTREAM_TIMEOUT'],
    ['reset', { kind: 'reset', times: Infinity }, 'UPSTREAM_UNAVAILABLE'],
    ['malformed JSON', { kind: 'malformed' }, 'UPSTREAM_BAD_RESPONSE'],
    ['wrong-typed field', { kind: 'wrongType', mutate: (b) => ({ ...b, total: String(b.total) }) }, 'UPSTREAM_BAD_RESPONSE'],
  ];
  test.each(cases)('%s -> right code, providerId, no token', async (_name, fault, code) => {
    const p = make();
    z.fake.fault({ path: /^\/openapi\/build$/, ...fault });
    const e = await caught(p.listBuilds({ offset: 0, limit: 5 }));
    expect(e).toBeInstanceOf(UpstreamError);
    expect(e.code).toBe(code);
    expect(e.extensions.providerId).toBe('zadig-test');
    expect(e.message).toContain('[zadig-test]');
    expect(`${e.message} ${JSON.stringify(e.extensions)}`).not.toContain(ZADIG_TOKEN);
    if (code === 'UPSTREAM_RATE_LIMITED') expect(e.extensions.retryAfterSec).toBe(30);
    if (_name === 'wrong-typed field') expect(e.message).toMatch(/total/);
    z.fake.clearFaults();
    expect((await make().listBuilds({ offset: 0, limit: 1 })).totalCount).toBe(4); // the fake and a fresh client are fine
  });

  test('429 with a short Retry-After is waited for and retried', async () => {
    const p = make();
    z.fake.fault({ path: /^\/openapi\/build$/, status: 429, retryAfterSec: 1 });
    const t0 = Date.now();
    expect((await p.listBuilds({ offset: 0, limit: 1 })).totalCount).toBe(4);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(z.fake.count('GET', '/openapi/build')).toBe(2);
  });

  test('a wrong token is UPSTREAM_AUTH and the token is not echoed', async () => {
    const p = make({ token: 'wrong-token-abcdefgh' });
    const e = await caught(p.getRun('demo/api-build/build-demo/1'));
    expect(e.code).toBe('UPSTREAM_AUTH');
    expect(`${e.message} ${JSON.stringify(e.extensions)}`).not.toContain('wrong-token-abcdefgh');
  });

  test('faults on the live log stream map the same way', async () => {
    const p = make();
    const run = await p.runBuild('demo/api-build', {});
    await waitFor(p, run.key, (r) => r.state === 'RUNNING');
    z.fake.fault({ path: /\/sse\//, status: 401 });
    expect((await caught(p.getLogs(run.key, { limit: 10 }))).code).toBe('UPSTREAM_AUTH');
    z.fake.fault({ path: /\/sse\//, kind: 'reset' });
    expect((await caught(p.getLogs(run.key, { limit: 10 }))).code).toBe('UPSTREAM_UNAVAILABLE');
    z.fake.fault({ path: /\/sse\//, kind: 'timeout' });
    expect((await caught(p.getLogs(run.key, { limit: 10 }))).code).toBe('UPSTREAM_TIMEOUT');
  }, 15_000);
});
