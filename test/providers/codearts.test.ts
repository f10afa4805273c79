import Keyv from 'keyv';
import { pino } from 'pino';
import { BuildgateError, UpstreamError } from '../../src/errors.js';
import { createCodeArtsProvider, type CodeArtsProvider } from '../../src/providers/codearts/index.js';
import type { RunData } from '../../src/providers/types.js';
import { CODEARTS_PROJECT, CODEARTS_TOKEN, JOBS, startFakeCodeArts } from '../fakes/codearts.js';

const logger = pino({ level: 'silent' });
type Fake = Awaited<ReturnType<typeof startFakeCodeArts>>;
let f: Fake;

function make(options: Record<string, unknown> = {}, inst: Record<string, unknown> = {}): CodeArtsProvider {
  return createCodeArtsProvider(
    { id: 'codearts-test', kind: 'CODEARTS', baseUrl: f.url, options: { token: CODEARTS_TOKEN, projectId: CODEARTS_PROJECT, ...options },
      cacheTtlMs: 0, timeoutMs: 800, retries: 1, ...inst },
    { cache: new Keyv(), logger },
  ) as CodeArtsProvider;
}
async function caught(p: Promise<unknown>): Promise<BuildgateError> {
  try { await p; } catch (e) { if (e instanceof BuildgateError) return e; throw e; }
  throw new Error('expected a failure');
}
async function waitFor(p: CodeArtsProvider, key: string, pred: (r: RunData) => boolean, ms = 8000): Promise<RunData> {
  const until = Date.now() + ms;
  for (;;) {
    const r = (await p.getRun(key))!;
    if (pred(r) || Date.now() > until) return r;
    await new Promise((res) => setTimeout(res, 80));
  }
}

beforeEach(async () => { f = await startFakeCodeArts({ queuedMs: 250, stepMs: 350 }); });
afterEach(async () => { await f.close(); });

test('options: missing or mistyped keys are named', () => {
  expect(() => make({ projectId: undefined })).toThrow(/options\.projectId/);
  expect(() => make({ historyIntervalDays: 90 })).toThrow(/options\.historyIntervalDays/);
  expect(() => make({ tokn: 'x' })).toThrow(/tokn/);
});

test('jobs: page_index/page_size paging with totalCount, filter, sort, get by key', async () => {
  const p = make();
  const a = await p.listBuilds({ offset: 1, limit: 1 });
  expect(a.items.map((b) => b.key)).toEqual([JOBS.web]);
  expect(a).toMatchObject({ totalCount: 3, hasMore: true });
  expect(f.fake.requests.at(-1)).toMatchObject({ path: `/v3/${CODEARTS_PROJECT}/jobs`, query: { page_index: '1', page_size: '1' } });
  expect(f.fake.requests.at(-1)!.headers['x-auth-token']).toBe(CODEARTS_TOKEN);
  const b = await p.listBuilds({ offset: 1, limit: 2 });
  expect(b.items.map((x) => x.name)).toEqual(['web-npm', 'broken-job']);
  expect(b.hasMore).toBe(false);
  const c = await p.listBuilds({ offset: 0, limit: 5, sort: 'LAST_RUN_TIME', order: 'DESC', filter: { nameContains: 'n' } });
  expect(c.items.map((x) => x.name)).toEqual(['api-maven', 'web-npm', 'broken-job']);
  const d = await p.listBuilds({ offset: 0, limit: 5, filter: { nameContains: 'MAVEN' } });
  expect(d).toMatchObject({ totalCount: 1, items: [{ name: 'api-maven', details: { lastBuildStatus: 'blue', creator: 'alice' } }] });
  expect((await p.getBuild(JOBS.api))!.name).toBe('api-maven');
  expect(await p.getBuild('ffffffffffffffffffffffffffffffff')).toBeNull();
  expect(await p.getBuild('bad/key')).toBeNull();
  for (const op of [p.createBuild(), p.updateBuild(), p.deleteBuild()]) expect((await caught(op)).code).toBe('UNSUPPORTED_BY_PROVIDER');
});

test('run: build number as string -> QUEUED -> RUNNING -> DONE; steps, record, real-time log with stable seq', async () => {
  const p = make();
  const run = await p.runBuild(JOBS.api, {});
  expect(run).toMatchObject({ key: `${JOBS.api}/3`, buildNo: 3, state: 'QUEUED', rawState: 'QUEUED' });
  expect(f.fake.requests.find((r) => r.method === 'POST')!.body).toEqual({ job_id: JOBS.api, parameter: [] });
  expect(await p.isJobRunning(JOBS.api)).toBe(true);

  await waitFor(p, run.key, (r) => r.state === 'RUNNING');
  await new Promise((r) => setTimeout(r, 300));
  const early = await p.getLogs(run.key, { limit: 100 });
  const steps1 = await p.listStepRuns(run.key);
  expect(steps1.map((s) => s.state)).toContain('RUNNING');
  // Steps advance in order: DONE…, then the RUNNING one, then WAIT… (how far depends on timing).
  const rank = { DONE: 0, RUNNING: 1, WAIT: 2 } as Record<string, number>;
  const ranks = steps1.map((s) => rank[s.state]);
  expect(ranks).toEqual([...ranks].sort((a, b) => a! - b!));

  const done = await waitFor(p, run.key, (r) => r.state === 'DONE');
  expect(done).toMatchObject({ rawState: 'SUCCESS', trigger: 'MANUAL', sourceRevision: '9f8e7d6c5b4a', errorMessage: null });
  expect(done.beginTime!.getTime()).toBeLessThan(done.endTime!.getTime());

  const full = await p.getLogs(run.key, { limit: 100 });
  expect(full.lines.map((l) => l.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  expect(full.lines.at(-1)!.text).toBe('Build finished: SUCCESS'); // trailing line without "\n" emitted at the end
  expect(full.hasMore).toBe(false);
  // lines seen while running were complete lines, with the same seq they have now
  expect(early.lines.length).toBeLessThan(full.lines.length);
  expect(full.lines.slice(0, early.lines.length)).toEqual(early.lines);
  // a fresh instance (no memory) numbers the same way
  expect((await make().getLogs(run.key, { afterSeq: 5, limit: 10 })).lines).toEqual(full.lines.slice(5));
  expect((await p.getLogs(run.key, { limit: 2, tail: true })).lines.map((l) => l.seq)).toEqual([6, 7]);
  const page = await p.getLogs(run.key, { afterSeq: 2, limit: 2 });
  expect(page).toMatchObject({ lastSeq: 4, hasMore: true });
  expect((await caught(p.getLogs(run.key, { stepRunKey: `${run.key}/1`, limit: 5 }))).code).toBe('UNSUPPORTED_BY_PROVIDER');

  const steps = await p.listStepRuns(run.key);
  expect(steps.map((s) => [s.key, s.title, s.state, s.rawState])).toEqual([
    [`${run.key}/1`, 'Code checkout', 'DONE', 'success'], [`${run.key}/2`, 'Build with Maven', 'DONE', 'success'],
    [`${run.key}/3`, 'Upload to release repo', 'DONE', 'success']]);
  expect(await p.getStepRun(`${run.key}/2`)).toEqual(steps[1]);

  const rec = (await p.getBuildRecord(run.key))!;
  expect(rec).toMatchObject({ status: 'SUCCESS', state: 'DONE', triggerType: 'MANUAL', repository: 'maven', branch: 'master', commit: '9f8e7d6c5b4a',
    buildNo: 3, details: { buildRecordId: 'br-3', dailyBuildNumber: '20251125.3', buildConfigType: 'YAML' } });
  expect(rec.durationMs).toBeGreaterThan(0);
  expect(await p.getRun(`${JOBS.api}/99`)).toBeNull();
  expect(await p.getRun('nonsense')).toBeNull();
}, 20_000);

test('failed build -> ERROR with err_msg; steps ERROR; stop -> CANCELED; stop again not allowed', async () => {
  const p = make();
  const bad = await p.runBuild(JOBS.broken, {});
  const end = await waitFor(p, bad.key, (r) => r.state === 'ERROR');
  expect(end).toMatchObject({ state: 'ERROR', rawState: 'FAILED', errorMessage: 'Build with Maven failed: compilation failure' });
  expect((await p.listStepRuns(bad.key)).map((s) => s.state)).toEqual(['DONE', 'DONE', 'ERROR']);

  const run = await p.runBuild(JOBS.web, {});
  await waitFor(p, run.key, (r) => r.state === 'RUNNING');
  const c = await p.cancelRun(run.key);
  expect(c).toMatchObject({ state: 'CANCELED', rawState: 'ABORTED' });
  expect(f.fake.count('POST', `/v3/jobs/${JOBS.web}/2/stop`)).toBe(1);
  const stopped = (await p.listStepRuns(run.key)).map((s) => s.state);
  expect(['CANCELED', 'DONE']).toContain(stopped[0]); // stopped while the first action ran (or just after it)
  expect(stopped.slice(1)).toEqual(['CANCELED', 'CANCELED']);
  expect((await caught(p.cancelRun(run.key))).code).toBe('ACTION_NOT_ALLOWED');
  const logs = await p.getLogs(run.key, { limit: 100 });
  expect(logs.hasMore).toBe(false);
}, 20_000);

test('history: offset/limit -> page number + limit + interval, totalCount, newest first', async () => {
  const p = make({ historyIntervalDays: 7 });
  await p.runBuild(JOBS.api, {});
  const page = await p.listRuns(JOBS.api, { offset: 1, limit: 2 });
  expect(page.items.map((r) => r.buildNo)).toEqual([2, 1]);
  expect(page.items[0]).toMatchObject({ key: `${JOBS.api}/2`, state: 'DONE', rawState: 'SUCCESS' });
  expect(page).toMatchObject({ totalCount: 3, hasMore: false });
  const q = f.fake.requests.filter((r) => r.path.endsWith('/history')).map((r) => r.query);
  expect(q).toEqual([{ offset: '0', limit: '2', interval: '7' }, { offset: '1', limit: '2', interval: '7' }]);
  expect((await p.latestRun(JOBS.api))!).toMatchObject({ buildNo: 3, key: `${JOBS.api}/3` });
  expect((await p.getRun(`${JOBS.api}/3`))!).toMatchObject({ buildNo: 3, trigger: 'MANUAL' });
  expect((await caught(p.runBuild(JOBS.api, { callbackUrl: 'http://x' }))).code).toBe('UNSUPPORTED_BY_PROVIDER');
  expect((await caught(p.runBuild('ffffffffffffffffffffffffffffffff', {}))).code).toBe('UPSTREAM_NOT_FOUND');
});

describe('upstream faults', () => {
  const cases: Array<[string, Parameters<Fake['fake']['fault']>[0], string]> = [
    ['500', { status: 500, body: { error_code: 'CB.00000500', error_msg: 'internal error' }, times: Infinity }, 'UPSTREAM_UNAVAILABLE'],
    ['404', { status: 404, body: { error_code: 'CB.00000404', error_msg: 'not found' } }, 'UPSTREAM_NOT_FOUND'],
    ['401', { status: 401, body: { error_code: 'CB.00000401', error_msg: `token ${CODEARTS_TOKEN} expired` } }, 'UPSTREAM_AUTH'],
    ['403', { status: 403 }, 'UPSTREAM_AUTH'],
    ['429', { status: 429, retryAfterSec: 60, times: Infinity }, 'UPSTREAM_RATE_LIMITED'],
    ['timeout', { kind: 'timeout', times: Infinity }, 'UPSTREAM_TIMEOUT'],
    ['reset', { kind: 'reset', times: Infinity }, 'UPSTREAM_UNAVAILABLE'],
    ['malformed JSON', { kind: 'malformed' }, 'UPSTREAM_BAD_RESPONSE'],
    ['wrong-typed field', { kind: 'wrongType', mutate: (b) => ({ ...b, history_records: [{ ...b.history_records[0], build_number: 'two' }] }) }, 'UPSTREAM_BAD_RESPONSE'],
  ];
  test.each(cases)('%s -> right code, providerId, no token', async (name, fault, code) => {
    const p = make();
    f.fake.fault({ path: /\/history$/, ...fault });
    const e = await caught(p.listRuns(JOBS.api, { offset: 0, limit: 5 }));
    expect(e).toBeInstanceOf(UpstreamError);
    expect(e.code).toBe(code);
    expect(e.extensions.providerId).toBe('codearts-test');
    expect(`${e.message} ${JSON.stringify(e.extensions)}`).not.toContain(CODEARTS_TOKEN);
    if (name === '429') expect(e.extensions.retryAfterSec).toBe(60);
    if (name === '500') expect(e.message).toContain('internal error (CB.00000500)');
    if (name === 'wrong-typed field') expect(e.message).toMatch(/history_records\.0\.build_number/);
    f.fake.clearFaults();
    expect((await make().listRuns(JOBS.api, { offset: 0, limit: 5 })).totalCount).toBe(2);
  });

  test('HTTP 200 with status "fail" is an error', async () => {
    const p = make();
    f.fake.fault({ path: /record-info$/, kind: 'wrongType', mutate: () => ({ status: 'fail', error: { error_code: 'CB.00000001', error_msg: 'record locked' }, result: null }) });
    const e = await caught(p.getRun(`${JOBS.api}/1`));
    expect(e.code).toBe('UPSTREAM_REJECTED');
    expect(e.message).toContain('record locked (CB.00000001)');
  });

  test('a wrong token is UPSTREAM_AUTH and not echoed; faults on the log endpoint too', async () => {
    const e = await caught(make({ token: 'wrong-token-1234567890' }).getBuildRecord(`${JOBS.api}/1`));
    expect(e.code).toBe('UPSTREAM_AUTH');
    expect(e.message).toContain('the token is invalid or expired');
    expect(`${e.message} ${JSON.stringify(e.extensions)}`).not.toContain('wrong-token-1234567890');
    const p = make();
    f.fake.fault({ path: /real-time-log$/, kind: 'malformed' });
    expect((await caught(p.getLogs(`${JOBS.api}/1`, { limit: 5 }))).code).toBe('UPSTREAM_BAD_RESPONSE');
    expect((await p.getLogs(`${JOBS.api}/1`, { limit: 100 })).lines).toHaveLength(7);
  });
});
