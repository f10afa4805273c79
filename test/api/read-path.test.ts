import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { startDemoUpstreams, type DemoUpstreams } from '../../src/demo/upstreams.js';
import type { NativeProvider } from '../../src/providers/native/index.js';
import { BuildsListDocument, CreateBuildDocument, DeleteBuildDocument, type BuildsListQueryVariables } from '../generated/graphql.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

/**
 * The read path costs a few store statements per screen whatever its size (no N+1), and its
 * cursors never lose or repeat a row while builds come and go or a provider fails.
 */
const OBJECTS = (n: number) => `{ builds(first: ${n}, providerIds: ["native"]) { edges { node { id name runs(first: 3) { edges { node { id state steps { title state } } } } } } } }`;

/** The gateway's native provider: its build and run stores (with the gateway's secrets key). */
const native = (gw: TestGateway) => gw.server.services.registry.get('native') as NativeProvider;

/** Native builds with runs and step runs, written straight to the gateway's store. */
async function seed(gw: TestGateway, builds: number, runsPerBuild: number, stepsPerRun: number, prefix = 'b'): Promise<string[]> {
  const { builds: store, runs } = native(gw);
  const keys: string[] = [];
  for (let i = 0; i < builds; i++) {
    const b = await store.create({
      name: `${prefix}-${String(i).padStart(3, '0')}`,
      steps: Array.from({ length: stepsPerRun }, (_v, s) => ({ stepOrder: s + 1, useFlag: true, config: { stepType: 'SHELL' as const, stepTitle: `step ${s + 1}`, shellType: 'COMMAND' as const, command: 'true' } })),
    });
    for (let r = 0; r < runsPerBuild; r++) {
      await runs.createRun(b.key, {
        run_type: 'BUILD', state: 'QUEUED', description: null, callback_url: null, callback_status: null, image_url: null, image_size: null, image_digest: null,
        trigger: 'API', triggered_by: null, source_revision: null, error_message: null, begin_time: null, end_time: null, created_at: Date.now(),
      }, b.steps!, () => null);
    }
    keys.push(b.key);
  }
  return keys;
}

/** Builds created over GraphQL (their keys). */
async function createBuilds(gw: TestGateway, names: string[]): Promise<string[]> {
  const keys: string[] = [];
  for (const name of names) {
    const r = await gw.gql(CreateBuildDocument, { build: { name, steps: [{ stepOrder: 1, stepType: 'SHELL', shell: { shellType: 'COMMAND', command: 'true' } }] } });
    expect(r.errors).toBeUndefined();
    keys.push(r.data!.createBuild.build!.id);
  }
  return keys;
}

/** Statements the store ran while `fn` ran. */
async function statements<T>(gw: TestGateway, fn: () => Promise<T>): Promise<{ n: number; result: T }> {
  const before = gw.server.store.statements.count;
  const result = await fn();
  return { n: gw.server.store.statements.count - before, result };
}

describe.each(['sqlite', 'postgres'] as const)('read path (%s)', (database) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ database });
    await seed(gw, 100, 3, 4);
  }, 120_000);
  afterAll(async () => { await gw?.close(); });

  it.each([10, 50, 100])('the builds → runs → steps query with first: %i costs at most 4 statements', async (n) => {
    const { n: count, result } = await statements(gw, () => gw.gql(OBJECTS(n)));
    expect(result.errors).toBeUndefined();
    const edges = (result.data as any).builds.edges;
    expect(edges).toHaveLength(n);
    for (const e of edges) {
      expect(e.node.runs.edges).toHaveLength(3);
      for (const r of e.node.runs.edges) expect(r.node.steps.map((s: any) => s.title)).toEqual(['step 1', 'step 2', 'step 3', 'step 4']);
    }
    expect(count).toBeLessThanOrEqual(4);
  });

  it('BuildsList first: 50 (count, page, steps, stats, last runs) costs at most 5 statements', async () => {
    const { n, result } = await statements(gw, () => gw.gql(BuildsListDocument, { providerIds: ['native'], first: 50 }));
    expect(result.errors).toBeUndefined();
    expect(result.data!.builds.edges).toHaveLength(50);
    expect(result.data!.builds.totalCount).toBe(100);
    expect(result.data!.builds.edges.every((e) => e.node.stats!.runCount === 3 && e.node.lastRun!.state === 'QUEUED')).toBe(true);
    expect(n).toBeLessThanOrEqual(5);
  });

  it('runs pages with keyset cursors: a run started between pages moves no row', async () => {
    const [key] = await seed(gw, 1, 7, 1, 'r');
    const q = `query($id: ID!, $after: String) { build(id: $id) { runs(first: 3, after: $after) { pageInfo { hasNextPage endCursor } edges { node { buildNo } } } } }`;
    const { toGlobalId } = await import('../../src/ids.js');
    const id = toGlobalId('native', 'Build', key!);
    const p1 = (await gw.gql(q, { id })).data as any;
    await native(gw).runs.createRun(key!, {
      run_type: 'BUILD', state: 'QUEUED', description: null, callback_url: null, callback_status: null, image_url: null, image_size: null, image_digest: null,
      trigger: 'API', triggered_by: null, source_revision: null, error_message: null, begin_time: null, end_time: null, created_at: Date.now(),
    }, [], () => null);
    const p2 = (await gw.gql(q, { id, after: p1.build.runs.pageInfo.endCursor })).data as any;
    const p3 = (await gw.gql(q, { id, after: p2.build.runs.pageInfo.endCursor })).data as any;
    const nos = [p1, p2, p3].flatMap((p) => p.build.runs.edges.map((e: any) => e.node.buildNo));
    expect(nos).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(p3.build.runs.pageInfo.hasNextPage).toBe(false);
    // Backward: the oldest two, then the two before them, newest first within a page.
    const back = `query($id: ID!, $before: String) { build(id: $id) { runs(last: 2, before: $before) { pageInfo { hasPreviousPage startCursor } edges { node { buildNo } } } } }`;
    const b1 = (await gw.gql(back, { id })).data as any;
    expect(b1.build.runs.edges.map((e: any) => e.node.buildNo)).toEqual([2, 1]);
    const b2 = (await gw.gql(back, { id, before: b1.build.runs.pageInfo.startCursor })).data as any;
    expect(b2.build.runs.edges.map((e: any) => e.node.buildNo)).toEqual([4, 3]);
    expect(b2.build.runs.pageInfo.hasPreviousPage).toBe(true);
  });
});

describe.each(['sqlite', 'postgres'] as const)('native builds paged while they change (%s)', (database) => {
  let gw: TestGateway;
  const list = (v: BuildsListQueryVariables) => gw.gql(BuildsListDocument, v);
  beforeAll(async () => { gw = await startGateway({ database }); });
  afterAll(async () => { await gw?.close(); });

  it('pages of builds see every build exactly once while builds are added and removed between pages', async () => {
    const original = await createBuilds(gw, Array.from({ length: 20 }, (_v, i) => `k-${String(i).padStart(3, '0')}`));
    const seen: string[] = [];
    let after: string | null | undefined = null;
    let added = 0;
    for (let page = 0; page < 50; page++) {
      const r: Awaited<ReturnType<typeof list>> = await list({ providerIds: ['native'], filter: { nameContains: 'k-' }, first: 3, after });
      expect(r.errors).toBeUndefined();
      const names = r.data!.builds.edges.map((e) => e.node.name);
      seen.push(...names);
      // Before the next page: a build that sorts before everything shown, and one shown earlier removed.
      await createBuilds(gw, [`k-000-new-${added++}`]);
      const gone = original.shift();
      if (gone && page % 2 === 0) expect((await gw.gql(DeleteBuildDocument, { buildId: gone })).errors).toBeUndefined();
      if (!r.data!.builds.pageInfo.hasNextPage) break;
      after = r.data!.builds.pageInfo.endCursor;
    }
    const expected = Array.from({ length: 20 }, (_v, i) => `k-${String(i).padStart(3, '0')}`);
    // In order, none twice (the new ones sort just after k-000, behind the cursor: not seen).
    expect(seen.filter((s) => !s.includes('new'))).toEqual(expected.filter((name) => seen.includes(name)));
    expect(new Set(seen).size).toBe(seen.length);
    // Removed builds were all behind the cursor already: every original one was seen.
    expect(expected.filter((name) => !seen.includes(name))).toEqual([]);
  });
});

describe.each(['sqlite', 'postgres'] as const)('merged builds with a provider failing between pages (%s)', (database) => {
  let demo: DemoUpstreams;
  let gw: TestGateway;
  const list = (v: BuildsListQueryVariables) => gw.gql(BuildsListDocument, v);
  beforeAll(async () => {
    demo = await startDemoUpstreams({ pace: 'test', instance: { cacheTtlMs: 0, retries: 0, timeoutMs: 600 } });
    gw = await startGateway({ database, config: { providers: demo.instances } });
    await createBuilds(gw, Array.from({ length: 6 }, (_v, i) => `native-${i}`));
  }, 60_000);
  afterEach(() => { for (const f of Object.values(demo.fakes)) f.fake.clearFaults(); });
  afterAll(async () => {
    await gw?.close();
    await demo?.stop();
  });

  // Zadig cannot sort by last run time; the others can.
  const providers = ['native', 'cocktail-demo', 'quay-demo', 'codearts-demo'];

  it.each(['NAME', 'LAST_RUN_TIME'] as const)('every row comes exactly once (sort %s)', async (sort) => {
    const all = await gw.gql(BuildsListDocument, { first: 100, sort, providerIds: providers });
    expect(all.errors).toBeUndefined();
    const everyone = all.data!.builds.edges.map((e) => e.node.id);
    expect(everyone.length).toBeGreaterThan(10);
    const seen: string[] = [];
    let after: string | null | undefined = null;
    for (let page = 0; page < 100; page++) {
      // Quay fails for pages 2 and 3, CodeArts for page 5.
      if (page === 2) demo.fakes.quay.fake.fault({ status: 500, times: Infinity, path: /^\/api\/v1\/repository/ });
      if (page === 4) demo.fakes.quay.fake.clearFaults();
      if (page === 5) demo.fakes.codearts.fake.fault({ status: 500, times: Infinity });
      if (page === 6) demo.fakes.codearts.fake.clearFaults();
      const r: Awaited<ReturnType<typeof list>> = await list({ first: 2, after, sort, providerIds: providers });
      if (page === 2 || page === 3) expect(r.errors?.map((e) => e.extensions?.providerId)).toContain('quay-demo');
      seen.push(...r.data!.builds.edges.map((e) => e.node.id));
      if (!r.data!.builds.pageInfo.hasNextPage) break;
      after = r.data!.builds.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(everyone.length);
    expect([...seen].sort()).toEqual([...everyone].sort());
  });
});
