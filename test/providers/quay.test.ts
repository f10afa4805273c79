import Keyv from 'keyv';
import { pino } from 'pino';
import { BuildgateError, ErrorCode, UpstreamError } from '../../src/errors.js';
import type { ProviderInstanceConfig } from '../../src/providers/factory.js';
import { createQuayProvider, QuayProvider } from '../../src/providers/quay/index.js';
import { startFakeQuay } from '../fakes/quay.js';

type Fake = Awaited<ReturnType<typeof startFakeQuay>>;
let up: Fake;
const open: QuayProvider[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ARCHIVE = 'https://files.example/web.tar.gz';

function provider(over: Partial<ProviderInstanceConfig> = {}, options: Record<string, unknown> = {}): QuayProvider {
  const p = createQuayProvider({
    id: 'quay-t', kind: 'QUAY', baseUrl: up.url, cacheTtlMs: 0, timeoutMs: 800, retries: 1, ...over,
    options: { token: up.token, repositories: [{ repository: 'demo/web', archiveUrl: ARCHIVE, dockerfilePath: '/app/Dockerfile', pullRobot: 'demo+puller' }, 'demo/api'], ...options },
  }, { cache: new Keyv(), logger: pino({ level: 'silent' }) }) as QuayProvider;
  open.push(p);
  return p;
}

async function fails(p: Promise<unknown>): Promise<BuildgateError> {
  try { await p; } catch (e) { expect(e).toBeInstanceOf(BuildgateError); return e as BuildgateError; }
  throw new Error('expected failure');
}

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`condition not met in ${ms}ms; last: ${JSON.stringify(v)}`);
    await sleep(40);
  }
}

beforeEach(async () => { up = await startFakeQuay({ phaseMs: 120 }); });
afterEach(async () => { await Promise.all(open.splice(0).map((p) => p.close())); await up.close(); });

test('builds are the configured repositories', async () => {
  const p = provider();
  const list = await p.listBuilds({ offset: 0, limit: 10, sort: 'NAME', order: 'ASC' });
  expect(list.items.map((b) => [b.key, b.description])).toEqual([['demo/api', 'Demo API image'], ['demo/web', 'Demo web image']]);
  expect(list.totalCount).toBe(2);
  expect((await p.listBuilds({ offset: 0, limit: 10, filter: { lastRunStates: ['CANCELED', 'DONE'] }, sort: 'LAST_RUN_TIME', order: 'DESC' })).items.map((b) => b.key))
    .toEqual(['demo/web', 'demo/api']);
  expect(await p.getBuild('demo/web')).toMatchObject({ key: 'demo/web', imageName: 'demo/web', details: { runnable: true } });
  expect(await p.getBuild('other/repo')).toBeNull();
  expect(up.fake.requests[0]!.headers.authorization).toBe(`Bearer ${up.token}`);
});

test('runs: list with limit, get, phases mapped, RFC 2822 started parsed', async () => {
  const p = provider();
  const page1 = await p.listRuns('demo/web', { offset: 0, limit: 2 });
  expect(page1.items.map((r) => [r.tagName, r.state, r.rawState])).toEqual([['1.2', 'DONE', 'complete'], ['1.1', 'CANCELED', 'cancelled']]);
  // The newest maxRuns (100) are read for any page: fewer than that, so the total is known.
  expect(page1).toMatchObject({ totalCount: 4, hasMore: true });
  expect(up.fake.requests.filter((r) => r.path.endsWith('/build/')).at(-1)!.query).toEqual({ limit: '100' });
  const page2 = await p.listRuns('demo/web', { offset: 2, limit: 5 });
  expect(page2.items.map((r) => r.state)).toEqual(['ERROR', 'DONE']);
  expect(page2.hasMore).toBe(false);
  const run = (await p.getRun(page1.items[0]!.key))!;
  expect(run.beginTime!.getTime()).toBe(Math.floor(up.state.builds[3]!.t0 / 1000) * 1000);
  expect(run.possibleActions).toEqual(['VIEW', 'LOG', 'BUILD']);
  expect(run.details!.archiveUrl).toBe(ARCHIVE); // the signature query is dropped
  expect(await p.getRun('demo/web/00000000-0000-0000-0000-000000000000')).toBeNull();
  expect(await p.getRun('not/configured/abc')).toBeNull();
  expect((await fails(p.getRun('bad-key'))).code).toBe(ErrorCode.BAD_USER_INPUT);
  const api = (await p.latestRun('demo/api'))!;
  expect(api).toMatchObject({ trigger: 'github', sourceRevision: '3f2a9c1d4b5e', triggeredBy: null });
  expect(await p.getBuildRecord(api.key)).toMatchObject({ triggerType: 'github', branch: 'main', commit: '3f2a9c1d4b5e', state: 'DONE' });
});

test('phases as step runs, and logs by index', async () => {
  const p = provider();
  const [done, canceled, failed] = (await p.listRuns('demo/web', { offset: 0, limit: 3 })).items;
  const steps = await p.listStepRuns(done!.key);
  expect(steps.map((s) => [s.title, s.state])).toEqual([
    ['waiting', 'DONE'], ['build-scheduled', 'DONE'], ['unpacking', 'DONE'], ['pulling', 'DONE'], ['building', 'DONE'], ['pushing', 'DONE']]);
  expect(steps[2]!.beginTime).toBeInstanceOf(Date);
  expect(steps[2]!.endTime!.getTime() - steps[2]!.beginTime!.getTime()).toBe(120);
  expect((await p.listStepRuns(canceled!.key)).map((s) => s.state)).toEqual(['DONE', 'DONE', 'DONE', 'CANCELED', 'SKIPPED', 'SKIPPED']);
  const fs = await p.listStepRuns(failed!.key);
  expect(fs.map((s) => s.state)).toEqual(['DONE', 'DONE', 'DONE', 'DONE', 'ERROR', 'SKIPPED']);
  expect(fs[4]!.errorMessage).toContain('non-zero code');
  expect(await p.getStepRun(`${failed!.key}/building`)).toMatchObject({ state: 'ERROR' });

  const logs = await p.getLogs(failed!.key, { limit: 100 });
  expect(logs.lines[0]).toMatchObject({ seq: 1, source: 'SYSTEM', text: 'build-scheduled' });
  expect(logs.lines.find((l) => l.source === 'STDERR')!.stepRunKey).toBe(`${failed!.key}/building`);
  expect(logs.lines[0]!.time).toBeInstanceOf(Date);
  const after = await p.getLogs(failed!.key, { afterSeq: 3, limit: 2 });
  expect(after.lines.map((l) => l.seq)).toEqual([4, 5]);
  expect(after).toMatchObject({ lastSeq: 5, hasMore: true });
  const building = await p.getLogs(failed!.key, { stepRunKey: `${failed!.key}/building`, limit: 100 });
  expect(building.lines.map((l) => l.text)).toContain('Step 2/2 : RUN make');
  expect((await p.getLogs(failed!.key, { limit: 1, tail: true })).lines[0]!.text).toBe('error');
});

test('archived logs are read from logs_url (gzip JSON)', async () => {
  const p = provider();
  const oldest = (await p.listRuns('demo/web', { offset: 3, limit: 1 })).items[0]!;
  const logs = await p.getLogs(oldest.key, { limit: 100 });
  expect(logs.lines.length).toBeGreaterThan(5);
  expect(logs.lines.at(-1)!.text).toBe('complete');
  const archiveReq = up.fake.requests.find((r) => r.path.startsWith('/archive/'))!;
  expect(archiveReq).toBeDefined();
  expect((await p.listStepRuns(oldest.key)).every((s) => s.state === 'DONE')).toBe(true);
});

test('image tags are the tags complete builds pushed', async () => {
  const p = provider();
  const tags = await p.listImageTags('demo/web', { offset: 0, limit: 10, sort: 'TAG', order: 'ASC' });
  expect(tags.items.map((t) => t.tag)).toEqual(['1.0', '1.2', 'latest']);
  expect(tags.items[1]!.imageUrl).toBe(`${new URL(up.url).host}/demo/web:1.2`);
  const newest = await p.listImageTags('demo/web', { offset: 0, limit: 1, sort: 'END_TIME', order: 'DESC' });
  expect(newest.items[0]!.tag).toBe('1.2');
  expect(await p.getImageTag(newest.items[0]!.key)).toMatchObject({ tag: '1.2' });
  expect(await p.getImageTag(`${newest.items[0]!.runKey}/nope`)).toBeNull();
  // From Quay's tag API: size, digest and push time; sorted by any key.
  expect(newest.items[0]).toMatchObject({ digest: expect.stringMatching(/^sha256:/), size: expect.any(Number), endTime: expect.any(Date) });
  expect(up.fake.count('GET', '/repository/demo/web/tag/')).toBeGreaterThan(0);
  const bySize = await p.listImageTags('demo/web', { offset: 0, limit: 10, sort: 'IMAGE_SIZE', order: 'DESC' });
  const sizes = bySize.items.map((t) => t.size!);
  expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
});

test('a finished run has its end time and failure from its phase log', async () => {
  const p = provider();
  const [done, canceled, failed] = (await p.listRuns('demo/web', { offset: 0, limit: 3 })).items;
  for (const r of [done!, canceled!, failed!]) {
    const full = (await p.getRun(r.key))!;
    expect(full.endTime).toBeInstanceOf(Date);
    expect(full.endTime!.getTime()).toBeGreaterThan(full.beginTime!.getTime());
  }
  expect((await p.getRun(failed!.key))!.errorMessage).toContain('non-zero code');
});

test('run list rows carry the end time and failure from phases, as the run page does', async () => {
  const p = provider();
  const rows = (await p.listRuns('demo/web', { offset: 0, limit: 4 })).items;
  expect(rows).toHaveLength(4);
  for (const row of rows) {
    const page = (await p.getRun(row.key))!;
    expect(row.endTime).toBeInstanceOf(Date);
    expect(row.endTime!.getTime()).toBe(page.endTime!.getTime());
    expect(row.errorMessage ?? null).toBe(page.errorMessage ?? null);
  }
  expect(rows[2]!.errorMessage).toContain('non-zero code');
  // A running build has no end yet.
  const running = await p.runBuild('demo/web', {});
  const [first] = (await p.listRuns('demo/web', { offset: 0, limit: 1 })).items;
  expect(first!.key).toBe(running.key);
  expect(first!.endTime).toBeNull();
});

test('request a build: body mapping, progression through phases, cancel', async () => {
  const p = provider();
  const run = await p.runBuild('demo/web', { tagName: 'v2, v2-latest' });
  expect(run).toMatchObject({ state: 'QUEUED', rawState: 'waiting', tagName: 'v2,v2-latest' });
  expect(up.fake.requests.at(-1)!.body).toEqual({ archive_url: ARCHIVE, docker_tags: ['v2', 'v2-latest'], dockerfile_path: '/app/Dockerfile', pull_robot: 'demo+puller' });
  const seen = new Set<string>();
  const end = await until(() => p.getRun(run.key), (r) => { seen.add(r!.rawState); return r!.state === 'DONE'; });
  expect(end!.rawState).toBe('complete');
  expect([...seen]).toEqual(expect.arrayContaining(['building', 'complete']));
  expect((await fails(p.cancelRun(run.key))).code).toBe(ErrorCode.ACTION_NOT_ALLOWED);

  const second = await p.runBuild('demo/web', {});
  expect(up.fake.requests.at(-1)!.body).toMatchObject({ docker_tags: ['latest'] });
  const canceled = await p.cancelRun(second.key);
  expect(canceled).toMatchObject({ state: 'CANCELED', rawState: 'cancelled' });
  expect(up.fake.count('DELETE', second.key.split('/')[2]!)).toBe(1);

  expect((await fails(p.runBuild('demo/api', {}))).code).toBe(ErrorCode.BAD_USER_INPUT);
  expect((await fails(p.runBuild('demo/web', { description: 'x' }))).code).toBe(ErrorCode.UNSUPPORTED_BY_PROVIDER);
  expect((await fails(p.runBuild('demo/web', { callbackUrl: 'http://x' }))).code).toBe(ErrorCode.UNSUPPORTED_BY_PROVIDER);
});

test('Quay error_message is surfaced; upstream 400 on cancel is UPSTREAM_REJECTED', async () => {
  const p = provider();
  const run = await p.runBuild('demo/web', {});
  up.fake.fault({ method: 'DELETE', status: 400, body: { error_message: 'Build is currently running or has finished', error_type: 'invalid_request', status: 400 } });
  const e = await fails(p.cancelRun(run.key));
  expect(e.code).toBe(ErrorCode.UPSTREAM_REJECTED);
  expect(e.message).toContain('Build is currently running or has finished (invalid_request)');
});

test('cache: repeated GETs within TTL make no call; our build request invalidates', async () => {
  const p = provider({ cacheTtlMs: 60_000 });
  await p.listRuns('demo/web', { offset: 0, limit: 10 });
  const n = p.client.stats.calls;
  await p.listRuns('demo/web', { offset: 0, limit: 10 });
  expect(p.client.stats.calls).toBe(n);
  await p.runBuild('demo/web', {});
  expect((await p.listRuns('demo/web', { offset: 0, limit: 10 })).items).toHaveLength(5);
});

describe('faults', () => {
  const cases: Array<[string, Parameters<Fake['fake']['fault']>[0], string]> = [
    ['500', { status: 500, times: 5 }, ErrorCode.UPSTREAM_UNAVAILABLE],
    ['404', { status: 404 }, ErrorCode.UPSTREAM_NOT_FOUND],
    ['401', { status: 401, body: { error_message: 'Requires authentication', error_type: 'invalid_token' } }, ErrorCode.UPSTREAM_AUTH],
    // A read Quay refuses with 403 is a repository it will not admit exists: not found, not an outage.
    ['403', { status: 403, body: { error_message: 'insufficient_scope', error_type: 'insufficient_scope' } }, ErrorCode.UPSTREAM_NOT_FOUND],
    ['429', { status: 429, retryAfterSec: 40, body: { message: 'Maximum queued build rate exceeded.' } }, ErrorCode.UPSTREAM_RATE_LIMITED],
    ['timeout', { kind: 'timeout', times: 5 }, ErrorCode.UPSTREAM_TIMEOUT],
    ['reset', { kind: 'reset', times: 5 }, ErrorCode.UPSTREAM_UNAVAILABLE],
    ['malformed', { kind: 'malformed' }, ErrorCode.UPSTREAM_BAD_RESPONSE],
    ['wrongType', { kind: 'wrongType', mutate: (b) => { b.builds[0].phase = 7; } }, ErrorCode.UPSTREAM_BAD_RESPONSE],
  ];
  test.each(cases)('%s', async (name, fault, code) => {
    const p = provider({ timeoutMs: 300 });
    up.fake.fault({ path: /\/build\/$/, ...fault });
    const e = (await fails(p.listRuns('demo/web', { offset: 0, limit: 5 }))) as UpstreamError;
    expect(e).toBeInstanceOf(UpstreamError);
    expect(e.code).toBe(code);
    expect(e.extensions.providerId).toBe('quay-t');
    expect(e.message + JSON.stringify(e.extensions)).not.toContain(up.token);
    if (name === 'wrongType') expect(e.message).toContain('builds.0.phase');
    if (name === '429') expect(e.extensions.retryAfterSec).toBe(40);
    if (name === '403') expect(e.message).toContain('insufficient_scope');
    up.fake.clearFaults();
    expect((await p.listRuns('demo/web', { offset: 0, limit: 5 })).items).toHaveLength(4);
  });

  test('GET retried, POST not; circuit opens and health shows it', async () => {
    const p = provider({ retries: 2 });
    up.fake.fault({ status: 503, method: 'GET' });
    expect(await p.getBuild('demo/web')).not.toBeNull();
    expect(up.fake.count('GET', /^\/api\/v1\/repository\/demo\/web$/)).toBe(2);
    up.fake.fault({ status: 500, method: 'POST' });
    expect((await fails(p.runBuild('demo/web', {}))).code).toBe(ErrorCode.UPSTREAM_UNAVAILABLE);
    expect(up.fake.count('POST', '/build/')).toBe(1);
    up.fake.fault({ status: 500, times: Infinity });
    for (let i = 0; i < 3; i++) await fails(p.listRuns('demo/web', { offset: 0, limit: 5 }));
    expect(p.health()).toMatchObject({ circuitState: 'OPEN', status: 'DOWN' });
  });

  test('a wrong token is UPSTREAM_AUTH and the token is nowhere in the error', async () => {
    const p = provider({}, { token: 'not-the-right-token-xyz' });
    const e = await fails(p.listRuns('demo/web', { offset: 0, limit: 5 }));
    expect(e.code).toBe(ErrorCode.UPSTREAM_AUTH);
    expect(e.message).toContain('Requires authentication');
    expect(e.message + JSON.stringify(e.extensions)).not.toContain('not-the-right-token-xyz');
  });
});

test('options are checked with a clear error naming the key', () => {
  expect(() => provider({}, { repositories: ['no-slash'] })).toThrow(/options\.repositories\.0/);
  expect(() => provider({}, { token: '' })).toThrow(/options\.token/);
  expect(provider().capabilities.has('BUILD_CREATE')).toBe(false);
});
