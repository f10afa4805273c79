import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { measureUpstreamCalls } from '../../bench/upstream-calls.js';
import { ConfigError } from '../../src/config/index.js';
import { startDemoUpstreams, type DemoUpstreams } from '../../src/demo/upstreams.js';
import { startFakeQuay } from '../fakes/quay.js';
import { collect, startGateway, type TestGateway } from '../support/gateway.js';

/**
 * The four upstream providers behind the one schema, over real HTTP: fake Cocktail, Quay,
 * Zadig and CodeArts servers on 127.0.0.1, a real gateway configured with one instance of
 * each (the same wiring as `serve --demo-upstreams`).
 */
let demo: DemoUpstreams;
let gw: TestGateway;
/** Every response body of this file; none may contain a credential (checked last). */
const bodies: string[] = [];

type Res = { data?: any; errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, any> }> };
async function q(query: string, variables?: Record<string, unknown>): Promise<Res> {
  const r = (await gw.gql(query, variables)) as Res;
  bodies.push(JSON.stringify(r));
  return r;
}
async function ok(query: string, variables?: Record<string, unknown>): Promise<any> {
  const r = await q(query, variables);
  expect(r.errors).toBeUndefined();
  // A mutation's refused input is data: its payload errors must be empty too.
  for (const v of Object.values((r.data ?? {}) as Record<string, any>)) if (v && Array.isArray(v.errors)) expect(v.errors).toEqual([]);
  return r.data;
}
async function until<T>(fn: () => Promise<T>, pred: (v: T) => boolean, ms = 15000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (pred(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}
const runState = (id: string) => ok('query($id: ID!) { run(id: $id) { state rawState possibleActions } }', { id }).then((d) => d.run);

const UPSTREAMS = ['cocktail-demo', 'quay-demo', 'zadig-demo', 'codearts-demo'];
/** Per provider: the build to run, and whether it has image tags. */
const CASES = [
  { id: 'cocktail-demo', kind: 'COCKTAIL', build: 'build-test', imageTags: true },
  { id: 'quay-demo', kind: 'QUAY', build: 'demo/web', imageTags: true },
  { id: 'zadig-demo', kind: 'ZADIG', build: 'api-build', imageTags: true },
  { id: 'codearts-demo', kind: 'CODEARTS', build: 'api-maven', imageTags: false },
];

async function buildIdOf(providerId: string, name: string): Promise<string> {
  const d = await ok('query($p: [String!]) { builds(providerIds: $p, first: 100) { edges { node { id name } } } }', { p: [providerId] });
  const hit = d.builds.edges.find((e: any) => e.node.name === name);
  expect(hit).toBeDefined();
  return hit.node.id;
}

beforeAll(async () => {
  demo = await startDemoUpstreams({ pace: 'test', instance: { cacheTtlMs: 0, retries: 0, timeoutMs: 3000 } });
  gw = await startGateway({ config: { providers: demo.instances } });
});
afterAll(async () => {
  await gw?.close();
  await demo?.stop();
});

describe('every upstream provider through the schema', () => {
  it('lists the five providers with their kinds and capabilities', async () => {
    const d = await ok('{ providers { providerId kind capabilities health { status } } }');
    expect(d.providers.map((p: any) => p.providerId)).toEqual(['native', ...UPSTREAMS]);
    expect(d.providers.map((p: any) => p.kind)).toEqual(['NATIVE', 'COCKTAIL', 'QUAY', 'ZADIG', 'CODEARTS']);
    expect(d.providers[4].capabilities).not.toContain('IMAGE_TAGS');
  });

  describe.each(CASES)('$id', ({ id, kind, build, imageTags }) => {
    it('lists and reads builds, runs one to the end and reads the run, steps, log, record, image tags and every node', async () => {
      const buildId = await buildIdOf(id, build);
      const detail = await ok('query($id: ID!) { build(id: $id) { id key name provider { providerId kind } } }', { id: buildId });
      expect(detail.build).toMatchObject({ id: buildId, name: build, provider: { providerId: id, kind } });

      const started = await ok('mutation($b: ID!) { runBuild(input: { buildId: $b }) { run { id state build { id } } } }', { b: buildId });
      const runId: string = started.runBuild.run.id;
      expect(['QUEUED', 'RUNNING']).toContain(started.runBuild.run.state);
      expect((await until(() => runState(runId), (r) => r.state === 'DONE')).state).toBe('DONE');

      const runs = await ok('query($id: ID!) { build(id: $id) { runs(first: 20) { edges { node { id state } } } } }', { id: buildId });
      expect(runs.build.runs.edges.map((e: any) => e.node.id)).toContain(runId);

      const page = await ok(`query($id: ID!) { run(id: $id) { id key state build { id }
        record { id state startedAt } steps { id stepOrder state rawState }
        log(first: 500) { lastSeq lines { seq text } } } }`, { id: runId });
      const run = page.run;
      expect(run.build.id).toBe(buildId);
      expect(run.steps.length).toBeGreaterThan(0);
      expect(run.log.lines.length).toBeGreaterThan(0);
      expect(run.log.lines.map((l: any) => l.seq)).toEqual([...run.log.lines.map((l: any) => l.seq)].sort((a, b) => a - b));
      expect(run.record).toMatchObject({ state: 'DONE' });

      let tagId: string | null = null;
      if (imageTags) {
        const tags = await ok('query($id: ID!) { build(id: $id) { imageTags(first: 50) { edges { node { id key tag } } } } }', { id: buildId });
        // Every provider's tag key starts with the key of the run that pushed it.
        const mine = tags.build.imageTags.edges.map((e: any) => e.node).filter((t: any) => t.key.startsWith(run.key));
        expect(mine.length).toBeGreaterThan(0);
        tagId = mine[0].id;
      }

      const ids: Array<[string, string]> = [[buildId, 'Build'], [runId, 'BuildRun'], [run.steps[0].id, 'StepRun'], [run.record.id, 'BuildRecord']];
      if (tagId) ids.push([tagId, 'ImageTag']);
      for (const [nid, type] of ids) {
        const n = await ok('query($id: ID!) { node(id: $id) { __typename id } }', { id: nid });
        expect(n.node).toEqual({ __typename: type, id: nid });
      }
    });

    it('cancels a run it started', async () => {
      const buildId = await buildIdOf(id, build);
      const runId = (await ok('mutation($b: ID!) { runBuild(input: { buildId: $b }) { run { id } } }', { b: buildId })).runBuild.run.id;
      // Cocktail allows CANCEL only once the run's INIT step is done.
      await until(() => runState(runId), (r) => r.possibleActions.includes('CANCEL'));
      const c = await ok('mutation($id: ID!) { cancelRun(input: { runId: $id }) { run { id runType state } errors { code message details } } }', { id: runId });
      if (kind === 'COCKTAIL') expect(c.cancelRun.run.runType).toBe('CANCEL'); // Cocktail cancels with a run of its own
      else expect(c.cancelRun.run.id).toBe(runId);
      expect((await until(() => runState(runId), (r) => r.state === 'CANCELED')).state).toBe('CANCELED');
    });
  });

  it('refuses what a provider cannot do with UNSUPPORTED_BY_PROVIDER naming provider and operation', async () => {
    const codearts = await buildIdOf('codearts-demo', 'api-maven');
    const quay = await buildIdOf('quay-demo', 'demo/api');
    const zadig = await buildIdOf('zadig-demo', 'web-build');
    const cases: Array<[string, Record<string, unknown>, string, string]> = [
      ['mutation($id: ID!) { updateBuild(input: { buildId: $id, build: {name: "x", steps: []} }) { build { id } errors { code message details } } }', { id: quay }, 'quay-demo', 'updateBuild'],
      ['mutation($id: ID!) { deleteBuild(input: { buildId: $id }) { deletedBuildId errors { code message details } } }', { id: quay }, 'quay-demo', 'deleteBuild'],
      ['mutation($id: ID!) { runBuild(input: { buildId: $id, tagName: "v1" }) { run { id } errors { code message details } } }', { id: zadig }, 'zadig-demo', 'image tag'],
      [`mutation { createZadigBuildFromTemplate(input: { providerId: "cocktail-demo", projectKey: "demo", build: { name: "x", templateName: "t", targetServices: [] } }) { build { id } errors { code message details } } }`, {}, 'cocktail-demo', 'createZadigBuildFromTemplate'],
    ];
    // Statistics and image tags are optional per provider: null, not an error, so mixed lists and build details stay whole.
    const stats = await q('query($id: ID!) { build(id: $id) { stats { runCount } } }', { id: quay });
    expect(stats.errors).toBeUndefined();
    expect((stats.data as any).build.stats).toBeNull();
    const tags = await q('query($id: ID!) { build(id: $id) { imageTags { edges { node { id } } } } }', { id: codearts });
    expect(tags.errors).toBeUndefined();
    expect((tags.data as any).build.imageTags).toBeNull();
    for (const [query, vars, providerId, operation] of cases) {
      const r = await q(query, vars);
      expect(r.errors).toBeUndefined();
      const [e] = (Object.values(r.data as object)[0] as { errors: Array<{ code: string; message: string; details: Record<string, unknown> }> }).errors;
      expect(e).toMatchObject({ code: 'UNSUPPORTED_BY_PROVIDER', details: { providerId } });
      expect(String(e!.details.operation)).toContain(operation);
      expect(e!.message).toContain(providerId);
    }
  });

  it('merges the builds of several providers under one cursor: paged 2 at a time, nothing duplicated or missing', async () => {
    const expected: string[] = [];
    for (const p of UPSTREAMS) {
      const d = await ok('query($p: [String!]) { builds(providerIds: $p, first: 100) { edges { node { id } } } }', { p: [p] });
      expected.push(...d.builds.edges.map((e: any) => e.node.id));
    }
    const seen: Array<{ id: string; name: string }> = [];
    let after: string | null = null;
    for (let pages = 0; pages < 50; pages++) {
      const d: any = await ok(`query($p: [String!], $after: String) { builds(providerIds: $p, first: 2, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { id name } } } }`, { p: UPSTREAMS, after });
      expect(d.builds.totalCount).toBe(expected.length);
      seen.push(...d.builds.edges.map((e: any) => e.node));
      if (!d.builds.pageInfo.hasNextPage) break;
      after = d.builds.pageInfo.endCursor;
    }
    expect(new Set(seen.map((s) => s.id)).size).toBe(seen.length);
    expect(seen.map((s) => s.id).sort()).toEqual([...expected].sort());
    const names = seen.map((s) => s.name.toLowerCase());
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));
  });

  it('asks an upstream once for an object a query names several times (per-request loaders)', async () => {
    const buildId = await buildIdOf('quay-demo', 'demo/api');
    const runId = (await ok('query($id: ID!) { build(id: $id) { lastRun { id } } }', { id: buildId })).build.lastRun.id;
    const quay = demo.fakes.quay.fake;
    const before = quay.requests.length;
    const d = await ok('query($id: ID!) { a: run(id: $id) { state } b: run(id: $id) { rawState } c: node(id: $id) { id } }', { id: runId });
    expect(d.c.id).toBe(runId);
    expect(quay.requests.slice(before).filter((r) => r.method === 'GET' && /\/build\/[0-9a-f-]{36}$/.test(r.path))).toHaveLength(1);
  });
});

describe('Zadig build modules (typed Zadig input)', () => {
  const input = (script: string) => ({
    name: 'gql-build', infrastructure: 'KUBERNETES', buildOs: 'ubuntu 20.04', installs: [{ name: 'go', version: '1.22' }],
    scriptType: 'SHELL', buildScript: script, repoInfo: [{ codehostName: 'gitlab', repoNamespace: 'org', repoName: 'svc', branch: 'main' }],
    parameters: [{ key: 'TOKEN', type: 'STRING', isCredential: true, defaultValue: 'ZADIG-PARAM-SECRET-1' }],
    services: [{ serviceName: 'gql-svc', serviceModule: 'gql-svc' }],
    dockerBuildStep: { dockerfileSource: 'LOCAL', buildContextDir: '.', dockerfileDirectory: './Dockerfile', enableBuildkit: true },
    advancedSettings: { clusterName: 'local', timeout: 60, resourceSpec: { cpuReq: 100, cpuLimit: 1000, memoryReq: 200, memoryLimit: 2000 }, cacheSetting: { enabled: true, cacheDir: '$WORKSPACE' } },
  });
  const CREATE = `mutation($input: ZadigBuildInput!) { createZadigBuild(input: { providerId: "zadig-demo", projectKey: "demo", build: $input }) { build { id key name provider { providerId } } } }`;
  const UPDATE = `mutation($input: ZadigBuildInput!) { updateZadigBuild(input: { providerId: "zadig-demo", projectKey: "demo", build: $input }) { build { id key details } } }`;

  it('requests a Quay build with every field of the Quay API, and refuses it for other providers', async () => {
    const quay = await buildIdOf('quay-demo', 'demo/web');
    const d = await ok(`mutation($id: ID!) { requestQuayBuild(input: { buildId: $id, archiveUrl: "https://archives.example/app.tar.gz", dockerfilePath: "/sub/Dockerfile", context: "/sub", tags: ["v9", "stable"], pullRobot: "org+puller" }) { run { id state rawState } } }`, { id: quay });
    expect(d.requestQuayBuild.run.state).toBe('QUEUED');
    const post = demo.fakes.quay.fake.requests.filter((r) => r.method === 'POST').at(-1)!;
    expect(post.body).toMatchObject({ archive_url: 'https://archives.example/app.tar.gz', dockerfile_path: '/sub/Dockerfile', context: '/sub', docker_tags: ['v9', 'stable'], pull_robot: 'org+puller' });
    const bad = await q('mutation($id: ID!) { requestQuayBuild(input: { buildId: $id, archiveUrl: "ftp://x/y.tgz" }) { run { id } errors { code path } } }', { id: quay });
    expect((bad.data as any).requestQuayBuild).toEqual({ run: null, errors: [{ code: 'VALIDATION', path: ['input', 'archiveUrl'] }] });
    const other = await q('mutation($id: ID!) { requestQuayBuild(input: { buildId: $id }) { run { id } errors { code details } } }', { id: await buildIdOf('codearts-demo', 'api-maven') });
    expect((other.data as any).requestQuayBuild.errors).toEqual([{ code: 'UNSUPPORTED_BY_PROVIDER', details: { providerId: 'codearts-demo', operation: 'requestQuayBuild' } }]);
  });

  it('creates and updates a module with Zadig snake_case bodies and publishes buildsChanged', async () => {
    const sub = collect<any>(gw.ws(), 'subscription { buildsChanged(providerIds: ["zadig-demo"]) { kind buildId providerId } }', {}, 2);
    await sub.ready;
    const zadig = demo.fakes.zadig.fake;
    const created = (await ok(CREATE, { input: input('make build') })).createZadigBuild.build;
    expect(created).toMatchObject({ key: 'demo/gql-build', name: 'gql-build', provider: { providerId: 'zadig-demo' } });
    const body = zadig.requests.filter((r) => r.method === 'POST' && r.path === '/openapi/build').at(-1)!.body as any;
    expect(body).toMatchObject({ name: 'gql-build', project_key: 'demo', infrastructure: 'kubernetes', build_os: 'ubuntu 20.04', script_type: 'shell',
      services: [{ service_name: 'gql-svc', service_module: 'gql-svc' }], repo_info: [{ codehost_name: 'gitlab', repo_namespace: 'org', repo_name: 'svc', branch: 'main' }],
      docker_build_step: { dockerfile_source: 'local', build_context_dir: '.', dockerfile_directory: './Dockerfile', enable_buildkit: true },
      advanced_settings: { cluster_name: 'local', resource_spec: { cpu_req: 100, cpu_limit: 1000, memory_req: 200, memory_limit: 2000 }, cache_setting: { enabled: true, cache_dir: '$WORKSPACE' } },
      parameters: [{ key: 'TOKEN', type: 'string', is_credential: true, default_value: 'ZADIG-PARAM-SECRET-1' }] });
    const updated = (await ok(UPDATE, { input: input('make release') })).updateZadigBuild.build;
    expect(updated.id).toBe(created.id);
    expect(updated.details.buildScript).toBe('make release');
    const events = await sub.events;
    expect(events.map((e) => e.data.buildsChanged)).toEqual([
      { kind: 'CREATED', buildId: created.id, providerId: 'zadig-demo' }, { kind: 'UPDATED', buildId: created.id, providerId: 'zadig-demo' }]);
  });

  it('creates and updates a module from a template', async () => {
    const tpl = { name: 'tpl-build', templateName: 'go-template', targetServices: [{ serviceName: 'tpl-svc', serviceModule: 'tpl-svc',
      repoInfo: [{ codehostName: 'gitlab', repoNamespace: 'org', repoName: 'tpl', branch: 'main' }], inputs: [{ key: 'GOOS', value: 'linux' }] }] };
    const c = await ok('mutation($i: ZadigTemplateBuildInput!) { createZadigBuildFromTemplate(input: { providerId: "zadig-demo", projectKey: "demo", build: $i }) { build { key } } }', { i: tpl });
    expect(c.createZadigBuildFromTemplate.build.key).toBe('demo/tpl-build');
    const u = await ok('mutation($i: ZadigTemplateBuildInput!) { updateZadigBuildFromTemplate(input: { providerId: "zadig-demo", projectKey: "demo", build: $i }) { build { key } } }', { i: tpl });
    expect(u.updateZadigBuildFromTemplate.build.key).toBe('demo/tpl-build');
    const reqs = demo.fakes.zadig.fake.requests;
    expect(reqs.some((r) => r.method === 'POST' && r.query.source === 'template' && (r.body as any).target_services[0].inputs[0].key === 'GOOS')).toBe(true);
    expect(reqs.some((r) => r.method === 'PUT' && r.path === '/openapi/build/tpl-build/template')).toBe(true);
  });

  it('refuses bad input with a VALIDATION user error naming the field as the client wrote it', async () => {
    const errorsOf = async (query: string, variables: Record<string, unknown>) => {
      const r = await q(query.replace('{ build { id key', '{ errors { code path message } build { id key'), variables);
      expect(r.errors).toBeUndefined();
      return (Object.values(r.data as object)[0] as { errors: Array<{ code: string; path: string[]; message: string }> }).errors;
    };
    expect(await errorsOf(CREATE, { input: { ...input('x'), services: [] } })).toEqual([expect.objectContaining({ code: 'VALIDATION', path: ['input', 'build', 'services'] })]);
    const [e2] = await errorsOf(CREATE, { input: { ...input('x'), services: [{ serviceName: '', serviceModule: 'm' }] } });
    expect(e2).toMatchObject({ code: 'VALIDATION', path: ['input', 'build', 'services', '0', 'serviceName'] });
    expect(e2!.message).toMatch(/^input\.build\.services\[0\]\.serviceName: /);
    expect(await errorsOf(CREATE.replace('projectKey: "demo"', 'projectKey: "nope"'), { input: input('x') })).toEqual([expect.objectContaining({ code: 'VALIDATION', path: ['input', 'projectKey'] })]);
  });
});

describe('configuration and cache', () => {
  it('a bad provider option stops the start, naming providers[i].options.<key>', async () => {
    const good = demo.instances[0]!;
    const bad = { ...demo.instances[1]!, id: 'quay-bad', options: { repositories: ['a/b'] } };
    await expect(startGateway({ config: { providers: [good, bad] } })).rejects.toThrow(ConfigError);
    await expect(startGateway({ config: { providers: [good, bad] } })).rejects.toThrow(/providers\[1\]\.options\.token/);
    const unknown = { ...demo.instances[3]!, id: 'codearts-bad', options: { ...demo.instances[3]!.options, tokn: 'x' } };
    await expect(startGateway({ config: { providers: [unknown] } })).rejects.toThrow(/providers\[0\]\.options: .*tokn/);
  });

  it('each provider instance has its own circuit breaker settings (providers[i].breaker)', async () => {
    const up = await startFakeQuay();
    up.fake.fault({ status: 503, times: Infinity });
    const instance = (id: string) => ({ id, kind: 'QUAY' as const, baseUrl: up.url, retries: 0, cacheTtlMs: 0, options: { token: up.token, repositories: ['demo/web'] } });
    // Same upstream, same failures: only the instance configured to open after 2 failing calls opens.
    const gw = await startGateway({ config: { providers: [{ ...instance('quay-touchy'), breaker: { volumeThreshold: 2, resetTimeoutMs: 60_000 } }, instance('quay-default')] } });
    try {
      const list = '{ builds(providerIds: ["quay-touchy", "quay-default"]) { totalCount } }';
      for (let i = 0; i < 2; i++) expect((await gw.gql(list)).errors?.length).toBeGreaterThan(0);
      const health = (await gw.gql<{ providers: Array<{ providerId: string; health: { circuitState: string } }> }, object>('{ providers { providerId health { circuitState } } }')).data!.providers;
      const state = Object.fromEntries(health.map((p) => [p.providerId, p.health.circuitState]));
      expect(state).toMatchObject({ 'quay-touchy': 'OPEN', 'quay-default': 'CLOSED' });
    } finally {
      await gw.close();
      await up.close();
    }
  });

  it('BuildsList over 50 builds per provider makes the fewest upstream calls each API allows, and none again within the TTL (Redis cache)', async () => {
    const rows = await measureUpstreamCalls(50, { redisUrl: 'redis://127.0.0.1:6379' });
    for (const r of rows) {
      expect(r.builds).toBe(50);
      expect(r.otherErrors).toBe(0);
      expect(r.repeatCalls).toBe(0);
    }
    const calls = Object.fromEntries(rows.map((r) => [r.provider.split(' ')[0], [r.calls, r.minimum]]));
    expect(calls['cocktail-demo']).toEqual([51, 51]);
    expect(calls['quay-demo']).toEqual([100, 100]);
    expect(calls['zadig-demo']).toEqual([2, 2]);
    // CodeArts: one job page + one history entry per job (lastRun needs no record-info).
    expect(calls['codearts-demo']).toEqual([51, 51]);
  }, 120_000);

  it('never returns a credential in any response of this file', () => {
    const secrets = [...Object.values(demo.fakes).map((f) => f.token), 'git-pass-demo', 'npm-secret-value', 'ZADIG-PARAM-SECRET-1'];
    const all = bodies.join('\n');
    expect(bodies.length).toBeGreaterThan(30);
    for (const s of secrets) expect(all).not.toContain(s);
  });
});
