import Keyv from 'keyv';
import { pino } from 'pino';
import { BuildgateError, ErrorCode, UpstreamError } from '../../src/errors.js';
import { CocktailProvider, createCocktailProvider } from '../../src/providers/cocktail/index.js';
import type { ProviderInstanceConfig } from '../../src/providers/factory.js';
import type { RunData } from '../../src/providers/types.js';
import { startFakeCocktail } from '../fakes/cocktail.js';

type Fake = Awaited<ReturnType<typeof startFakeCocktail>>;
let up: Fake;
const open: CocktailProvider[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function provider(over: Partial<ProviderInstanceConfig> = {}, options: Record<string, unknown> = {}): CocktailProvider {
  const p = createCocktailProvider(
    { id: 'cocktail-t', kind: 'COCKTAIL', baseUrl: up.url, options: { token: up.token, ...options }, cacheTtlMs: 0, timeoutMs: 800, retries: 1, ...over },
    { cache: new Keyv(), logger: pino({ level: 'silent' }) },
  ) as CocktailProvider;
  open.push(p);
  return p;
}

async function fails(p: Promise<unknown>): Promise<BuildgateError> {
  try { await p; } catch (e) { expect(e).toBeInstanceOf(BuildgateError); return e as BuildgateError; }
  throw new Error('expected failure');
}

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 6000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`condition not met in ${ms}ms; last: ${JSON.stringify(v)}`);
    await sleep(50);
  }
}

beforeEach(async () => { up = await startFakeCocktail({ stepMs: 150 }); });
afterEach(async () => { await Promise.all(open.splice(0).map((p) => p.close())); await up.close(); });

test('lists, filters, sorts and pages builds (unpaged upstream)', async () => {
  const p = provider();
  const all = await p.listBuilds({ offset: 0, limit: 10 });
  expect(all.totalCount).toBe(2);
  expect(all.items.map((b) => b.name).sort()).toEqual(['build-test', 'node-app']);
  const second = await p.listBuilds({ offset: 1, limit: 1, sort: 'NAME', order: 'DESC' });
  expect(second).toMatchObject({ totalCount: 2, hasMore: false });
  expect(second.items[0]!.name).toBe('build-test');
  expect((await p.listBuilds({ offset: 0, limit: 10, filter: { nameContains: 'NODE' } })).items.map((b) => b.name)).toEqual(['node-app']);
  const errored = await p.listBuilds({ offset: 0, limit: 10, filter: { lastRunStates: ['DONE'] } });
  expect(errored.items.map((b) => b.name)).toEqual(['build-test']);
  expect(up.fake.requests[0]!.headers.authorization).toBe(`Bearer ${up.token}`);
});

test('build detail maps fields and never returns secrets; stats come from the build', async () => {
  const p = provider();
  const b = (await p.getBuild('1'))!;
  expect(b).toMatchObject({ key: '1', name: 'build-test', imageName: 'build-api-test-gradle', tagName: '8u292-rmsoft', buildServerTlsVerify: false });
  expect(b.steps!.map((s) => s.stepType)).toEqual(['CODE_DOWN', 'USER_TASK', 'SHELL', 'CREATE_IMAGE']);
  expect(JSON.stringify(b)).not.toContain('git-pass-demo');
  const node = (await p.getBuild('2'))!;
  expect(node.autotag).toEqual({ enabled: true, prefix: 'v', seqType: 'SEQUENCE' });
  expect(node.steps![1]!.useFlag).toBe(false);
  expect(await p.getBuild('99')).toBeNull();
  expect((await fails(p.getBuild('x;1'))).code).toBe(ErrorCode.BAD_USER_INPUT);
  const stats = await p.getBuildStats('1');
  expect(stats).toMatchObject({ buildCount: 3, doneCount: 2, errorCount: 1, runningCount: 0, tagCount: 2 });
  expect(stats.latestExecTime).toBeInstanceOf(Date);
});

test('an upstream that leaks a secret still gives none to the caller', async () => {
  const p = provider();
  up.fake.fault({ kind: 'wrongType', path: /^\/v1\/build\/1$/, mutate: (b) => {
    b[0].buildServerClientKey = 'KEY-MATERIAL'; b[0].buildSteps[0].buildStepConfig.password = 'leaked-pass';
  } });
  const b = (await p.getBuild('1'))!;
  expect(JSON.stringify(b)).not.toMatch(/KEY-MATERIAL|leaked-pass/);
  expect(b.hasBuildServerClientKey).toBe(true);
});

test('runs: newest first, states, canceled runs, possibleActions as given', async () => {
  const p = provider();
  const runs = await p.listRuns('1', { offset: 0, limit: 10 });
  expect(runs.totalCount).toBe(3);
  expect(runs.items.map((r) => [r.tagName, r.state])).toEqual([['1.4', 'DONE'], ['1.4-fail', 'ERROR'], ['1.3', 'DONE']]);
  expect(runs.items[0]!.possibleActions).toEqual(['VIEW', 'BUILD', 'LOG', 'REMOVE']);
  const node = (await p.listRuns('2', { offset: 0, limit: 10 })).items;
  const cancel = node.find((r) => r.runType === 'CANCEL')!;
  const canceled = node.find((r) => r.key === cancel.details!.cancelsRunKey)!;
  expect(canceled).toMatchObject({ state: 'CANCELED', rawState: 'ERROR', runType: 'BUILD' });
  expect(cancel).toMatchObject({ state: 'DONE', runType: 'CANCEL' });
  const again = (await p.getRun(canceled.key))!;
  expect(again.state).toBe('CANCELED');
  expect((await p.latestRun('2'))!.key).toBe(canceled.key);
  expect(await p.getRun('1:999')).toBeNull();
  expect(await p.getRun('999:1')).toBeNull();
  const page2 = await p.listRuns('1', { offset: 2, limit: 5 });
  expect(page2).toMatchObject({ totalCount: 3, hasMore: false });
  expect(page2.items).toHaveLength(1);
});

test('step runs: INIT + steps, SKIPPED for useFlag=false, CANCELED for a canceled run', async () => {
  const p = provider();
  const runs = (await p.listRuns('2', { offset: 0, limit: 10 })).items;
  const done = runs.find((r) => r.state === 'DONE' && r.runType === 'BUILD')!;
  const steps = await p.listStepRuns(done.key);
  expect(steps.map((s) => [s.stepType, s.state])).toEqual([['INIT', 'DONE'], ['CODE_DOWN', 'DONE'], ['SHELL', 'SKIPPED'], ['CREATE_IMAGE', 'DONE']]);
  expect(steps[1]!.config).toMatchObject({ stepType: 'CODE_DOWN', branchName: 'main' });
  expect(await p.getStepRun(steps[3]!.key)).toMatchObject({ stepType: 'CREATE_IMAGE', state: 'DONE' });
  const canceled = runs.find((r) => r.state === 'CANCELED')!;
  const cs = await p.listStepRuns(canceled.key);
  expect(cs.map((s) => s.state)).toEqual(['DONE', 'ERROR', 'SKIPPED', 'CANCELED']);
  const failed = (await p.listRuns('1', { offset: 0, limit: 10 })).items.find((r) => r.state === 'ERROR')!;
  expect((await p.listStepRuns(failed.key)).map((s) => s.state)).toEqual(['DONE', 'DONE', 'DONE', 'DONE', 'ERROR']);
});

test('logs: per-step lines, stable seq across restarts, afterSeq, stepRunKey, tail', async () => {
  const p = provider();
  const run = (await p.latestRun('1'))!;
  const all = await p.getLogs(run.key, { limit: 1000 });
  expect(all.lines.length).toBe(15); // INIT + 4 steps, 3 lines each
  expect(all.lines.map((l) => l.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
  expect(all.lines[3]).toMatchObject({ seq: 4, text: '>>> code repository task', source: 'STDOUT', stepRunKey: `${run.key}:1` });
  expect(all).toMatchObject({ lastSeq: 15, hasMore: false });
  const restarted = provider();
  expect((await restarted.getLogs(run.key, { limit: 1000 })).lines).toEqual(all.lines);
  const page = await p.getLogs(run.key, { afterSeq: 4, limit: 3 });
  expect(page.lines.map((l) => l.seq)).toEqual([5, 6, 7]);
  expect(page).toMatchObject({ lastSeq: 7, hasMore: true });
  const step = await p.getLogs(run.key, { stepRunKey: `${run.key}:4`, limit: 10 });
  expect(step.lines.map((l) => l.seq)).toEqual([13, 14, 15]);
  expect((await p.getLogs(run.key, { limit: 2, tail: true })).lines.map((l) => l.seq)).toEqual([14, 15]);
  const none = await p.getLogs(run.key, { afterSeq: 15, limit: 10 });
  expect(none).toEqual({ lines: [], lastSeq: 15, hasMore: false });
});

test('image tags sorted by TAG, IMAGE_SIZE and END_TIME', async () => {
  const p = provider();
  const asc = await p.listImageTags('1', { offset: 0, limit: 10, sort: 'TAG', order: 'ASC' });
  expect(asc.items.map((t) => t.tag)).toEqual(['1.3', '1.4']);
  expect(asc.totalCount).toBe(2);
  expect(up.fake.requests.at(-1)!.query).toEqual({ orderColumn: 'TAG', order: 'ASC' });
  const bySize = await p.listImageTags('1', { offset: 0, limit: 10, sort: 'IMAGE_SIZE', order: 'DESC' });
  expect(bySize.items[0]!.size! > bySize.items[1]!.size!).toBe(true);
  const byEnd = await p.listImageTags('1', { offset: 0, limit: 1, sort: 'END_TIME', order: 'DESC' });
  expect(byEnd.items[0]).toMatchObject({ tag: '1.4', registryImagePath: 'dev/build-api-test-gradle', buildKey: '1' });
  expect(byEnd.hasMore).toBe(true);
  expect(byEnd.items[0]!.digest).toMatch(/^sha256:/);
  expect(await p.getImageTag(byEnd.items[0]!.key)).toMatchObject({ tag: '1.4' });
  expect(await p.getImageTag('1:1:nope')).toBeNull();
  const rec = (await p.getBuildRecord(byEnd.items[0]!.runKey!))!;
  expect(rec).toMatchObject({ state: 'DONE', status: 'DONE', tag: '1.4' });
  expect(rec.durationMs).toBeGreaterThanOrEqual(0);
});

test('create, run through its states, cancel and delete', async () => {
  const p = provider();
  const created = await p.createBuild({
    name: 'new-one', description: 'made by test', imageName: 'new-one', tagName: 'first', buildServerClientKey: 'PRIVATE-KEY-PEM',
    steps: [
      { stepOrder: 1, useFlag: true, config: { stepType: 'CODE_DOWN', repositoryType: 'GIT', repositoryUrl: 'https://git.example/x.git', branchName: 'main', commonType: 'PRIVATE', protocolType: 'https', userId: 'u', password: 'clone-pass' } },
      { stepOrder: 2, useFlag: true, config: { stepType: 'SHELL', shellType: 'COMMAND', command: 'make' } },
    ],
  });
  expect(created).toMatchObject({ name: 'new-one', description: 'made by test' });
  expect(JSON.stringify(created)).not.toMatch(/clone-pass|PRIVATE-KEY-PEM/);
  const stored = up.state.builds.get(Number(created.key))!;
  expect(stored.secrets).toMatchObject({ '0.password': 'clone-pass', buildServerClientKey: 'PRIVATE-KEY-PEM' });
  expect((await fails(p.createBuild({ name: '', steps: [] }))).code).toBe(ErrorCode.BAD_USER_INPUT);

  const run = await p.runBuild(created.key, { tagName: 'v9', description: 'go', callbackUrl: 'http://cb.local/x' });
  expect(run).toMatchObject({ state: 'QUEUED', rawState: 'CREATED', tagName: 'v9', description: 'go', runType: 'BUILD' });
  expect(up.fake.requests.at(-1)!.query).toEqual({ tagName: 'v9', description: 'go', callbackUrl: 'http://cb.local/x' });
  const seen = new Set<string>();
  await until(() => p.getRun(run.key), (r) => { seen.add(r!.state); return r!.state === 'DONE'; });
  expect([...seen]).toEqual(expect.arrayContaining(['RUNNING', 'DONE']));
  expect((await fails(p.cancelRun(run.key))).code).toBe(ErrorCode.ACTION_NOT_ALLOWED);

  const second = await p.runBuild(created.key, {});
  await until(() => p.getRun(second.key), (r) => r!.possibleActions!.includes('CANCEL'));
  const cancel = await p.cancelRun(second.key);
  expect(cancel).toMatchObject({ runType: 'CANCEL', buildKey: created.key });
  expect(cancel.details!.cancelsRunKey).toBe(second.key);
  const after = await until(() => p.getRun(second.key), (r) => r!.state === 'CANCELED');
  expect(after!.rawState).toBe('ERROR');

  expect(await p.deleteBuild(created.key)).toBe(true);
  expect(await p.getBuild(created.key)).toBeNull();
  expect(await p.deleteBuild(created.key)).toBe(false);
});

test('cache: repeated GETs within TTL hit upstream once; our run invalidates', async () => {
  const p = provider({ cacheTtlMs: 60_000 });
  await p.listRuns('1', { offset: 0, limit: 5 });
  const calls = p.client.stats.calls;
  await p.listRuns('1', { offset: 0, limit: 5 });
  await p.getRun('1:1');
  expect(p.client.stats.calls).toBe(calls);
  await p.runBuild('1', { tagName: 'c1' });
  const runs = await p.listRuns('1', { offset: 0, limit: 5 });
  expect(runs.totalCount).toBe(4);
});

describe('faults', () => {
  const cases: Array<[string, Parameters<Fake['fake']['fault']>[0], string]> = [
    ['500', { status: 500, times: 5 }, ErrorCode.UPSTREAM_UNAVAILABLE],
    ['404', { status: 404, body: { status: 404, code: 'X', message: 'gone' } }, ErrorCode.UPSTREAM_NOT_FOUND],
    ['401', { status: 401 }, ErrorCode.UPSTREAM_AUTH],
    ['403', { status: 403 }, ErrorCode.UPSTREAM_AUTH],
    ['429', { status: 429, retryAfterSec: 30 }, ErrorCode.UPSTREAM_RATE_LIMITED],
    ['timeout', { kind: 'timeout', times: 5 }, ErrorCode.UPSTREAM_TIMEOUT],
    ['reset', { kind: 'reset', times: 5 }, ErrorCode.UPSTREAM_UNAVAILABLE],
    ['malformed', { kind: 'malformed' }, ErrorCode.UPSTREAM_BAD_RESPONSE],
    // The list itself unreadable (a row that is: 'never silently' below).
    ['wrongType', { kind: 'wrongType', mutate: () => ({ builds: 'not a list' }) }, ErrorCode.UPSTREAM_BAD_RESPONSE],
  ];
  test.each(cases)('%s', async (_name, fault, code) => {
    const p = provider({ timeoutMs: 300 });
    up.fake.fault({ path: /^\/v1\/build$/, ...fault });
    const e = (await fails(p.listBuilds({ offset: 0, limit: 5 }))) as UpstreamError;
    expect(e).toBeInstanceOf(UpstreamError);
    expect(e.code).toBe(code);
    expect(e.extensions.providerId).toBe('cocktail-t');
    expect(e.message + JSON.stringify(e.extensions)).not.toContain(up.token);
    if (code === ErrorCode.UPSTREAM_RATE_LIMITED) expect(e.extensions.retryAfterSec).toBe(30);
    if (_name === 'wrongType') expect(e.message).toMatch(/array/i);
    // and the provider still works afterwards
    up.fake.clearFaults();
    expect((await p.listBuilds({ offset: 0, limit: 5 })).totalCount).toBe(2);
  });

  test('a 404 on an object means "no such object": null or NOT_FOUND naming it', async () => {
    const p = provider();
    up.fake.fault({ status: 404, times: 2, path: /^\/v1\/build\/1(\/runs)?$/ });
    expect(await p.getBuild('1')).toBeNull();
    const e = await fails(p.listRuns('1', { offset: 0, limit: 5 }));
    expect(e.code).toBe(ErrorCode.NOT_FOUND);
    expect(e.message).toContain('"1"');
  });

  test('a wrong token is UPSTREAM_AUTH without the token in the error', async () => {
    const p = provider({}, { token: 'wrong-token-123456' });
    const e = await fails(p.getBuild('1'));
    expect(e.code).toBe(ErrorCode.UPSTREAM_AUTH);
    expect(e.message + JSON.stringify(e.extensions)).not.toContain('wrong-token-123456');
  });

  test('GET is retried, POST is not; the circuit opens and health shows it', async () => {
    const p = provider({ retries: 2 });
    up.fake.fault({ status: 503, times: 1, method: 'GET' });
    expect((await p.getBuild('1'))!.name).toBe('build-test');
    expect(up.fake.count('GET', /^\/v1\/build\/1$/)).toBe(2);
    up.fake.fault({ status: 502, method: 'POST' });
    expect((await fails(p.runBuild('1', {}))).code).toBe(ErrorCode.UPSTREAM_UNAVAILABLE);
    expect(up.fake.count('POST', '/v1/build/run/1')).toBe(1);
    up.fake.fault({ status: 500, times: Infinity });
    for (let i = 0; i < 3; i++) await fails(p.listBuilds({ offset: 0, limit: 5 }));
    expect(p.health()).toMatchObject({ circuitState: 'OPEN', status: 'DOWN' });
    const n = up.fake.requests.length;
    expect((await fails(p.getBuild('2'))).message).toContain('circuit open');
    expect(up.fake.requests.length).toBe(n);
  });
});

test('options are checked with a clear error naming the key', () => {
  expect(() => provider({}, { cancelPath: '/v1/cancel' })).toThrow(/options\.cancelPath/);
  expect(() => provider({}, { tokn: 'x' })).toThrow(/tokn/);
  expect(provider().capabilities.has('BUILD_UPDATE')).toBe(false);
});

test('a run just started is QUEUED with the upstream possibleActions', async () => {
  const p = provider();
  const r: RunData = await p.runBuild('2', {});
  expect(r.possibleActions).toEqual(['VIEW', 'BUILD', 'REMOVE']);
  expect(r.tagName).toMatch(/^v\d{5}$/);
});

test('a run started elsewhere is found although the build\'s run list is cached without it', async () => {
  const p = provider({ cacheTtlMs: 60_000 });
  expect((await p.listRuns('1', { offset: 0, limit: 50 })).items.length).toBeGreaterThan(0); // cached now
  const other = up.state.addRun(1, { tagName: 'elsewhere' });
  const run = await p.getRun(`1:${other.buildRunSeq}`);
  expect(run).toMatchObject({ key: `1:${other.buildRunSeq}`, tagName: 'elsewhere' });
  expect(await p.getRun('1:999999')).toBeNull();
});

describe('never silently', () => {
  test('a build list row that cannot be read is an error naming it; the other rows stay; totalCount = rows + errors', async () => {
    const p = provider();
    up.fake.fault({ kind: 'wrongType', path: /^\/v1\/build$/, mutate: (b) => { b[1].buildName = 7; } });
    const page = await p.listBuilds({ offset: 0, limit: 10 });
    expect(page.items.map((b) => b.key)).toEqual(['1']);
    expect(page.errors?.map((e) => [(e as UpstreamError).code, (e as UpstreamError).extensions.id])).toEqual([['UPSTREAM_BAD_RESPONSE', '2']]);
    expect(page.errors![0]!.message).toContain('buildName');
    expect(page.totalCount).toBe(page.items.length + page.errors!.length);
  });

  test('filtering by last run state, a build whose runs cannot be read is an error naming it, not a build left out', async () => {
    const p = provider();
    up.fake.fault({ path: /^\/v1\/build\/2\/runs$/, status: 404, body: { status: 404, code: 'BUILD_NOT_FOUND', message: 'Build not found' } });
    const page = await p.listBuilds({ offset: 0, limit: 10, filter: { lastRunStates: ['DONE', 'ERROR', 'CANCELED', 'RUNNING', 'QUEUED'] } });
    expect(page.items.map((b) => b.key)).toEqual(['1']);
    expect(page.errors?.map((e) => [(e as UpstreamError).code, (e as UpstreamError).extensions.id])).toEqual([['UPSTREAM_NOT_FOUND', '2']]);
    expect(page.totalCount).toBe(2);
    up.fake.fault({ path: /^\/v1\/build\/1\/runs$/, status: 503, times: 5 });
    const failing = await p.listBuilds({ offset: 0, limit: 10, filter: { lastRunStates: ['DONE'] } });
    expect(failing.errors?.map((e) => (e as UpstreamError).extensions.id)).toEqual(['1']);
    expect(failing.totalCount).toBe(failing.items.length + 1);
  });
});
