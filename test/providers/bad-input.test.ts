import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startDemoUpstreams, type DemoUpstreams } from '../../src/demo/upstreams.js';
import { toGlobalId } from '../../src/ids.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

/** Bad input through the schema to upstream providers is answered with a stable code, never an internal error. */
let demo: DemoUpstreams;
let gw: TestGateway;
type Res = { data?: any; errors?: Array<{ message: string; extensions?: Record<string, any> }> };
const q = async (query: string, variables?: Record<string, unknown>) => (await gw.gql(query, variables)) as Res;
const code = (r: Res) => r.errors?.[0]?.extensions?.code;

beforeAll(async () => {
  demo = await startDemoUpstreams({ pace: 'test', instance: { cacheTtlMs: 0, retries: 0, timeoutMs: 3000 } });
  gw = await startGateway({ config: { providers: demo.instances } });
});
afterAll(async () => {
  await gw?.close();
  await demo?.stop();
});

/** A finished Cocktail run of the demo data, with its steps and its last log seq. */
async function finishedCocktailRun() {
  const r = await q(`{ builds(providerIds: ["cocktail-demo"], first: 10) { edges { node { runs(first: 10) { edges { node {
    id state steps { id } log(tail: true, first: 1) { lastSeq } } } } } } } }`);
  const runs = r.data.builds.edges.flatMap((e: any) => e.node.runs.edges.map((x: any) => x.node)).filter((x: any) => x.state === 'DONE' && x.log.lastSeq > 0);
  return { a: runs[0], b: runs[1] };
}

describe('bad input', () => {
  it('a malformed Cocktail run key inside a valid global ID is BAD_USER_INPUT', async () => {
    const r = await q('query($id: ID!) { run(id: $id) { id } }', { id: toGlobalId('cocktail-demo', 'BuildRun', 'not-a-key') });
    expect(code(r)).toBe('BAD_USER_INPUT');
  });

  it('a CodeArts build_no 0 is not asked upstream', async () => {
    const job = demo.fakes.codearts.jobs[0]!.id;
    const before = demo.fakes.codearts.fake.requests.length;
    const r = await q('query($id: ID!) { run(id: $id) { id } }', { id: toGlobalId('codearts-demo', 'BuildRun', `${job}/0`) });
    expect(code(r)).toBe('NOT_FOUND');
    expect(demo.fakes.codearts.fake.requests.slice(before).filter((x) => x.path.includes('/0/'))).toEqual([]);
  });

  it('log(afterSeq) past the last line answers the last line there is as lastSeq', async () => {
    const { a } = await finishedCocktailRun();
    const r = await q('query($id: ID!) { run(id: $id) { log(afterSeq: 100000) { lines { seq } lastSeq } } }', { id: a.id });
    expect(r.data.run.log).toEqual({ lines: [], lastSeq: a.log.lastSeq });
  });

  it('a stepRunId of another run is NOT_FOUND, not an empty page', async () => {
    const { a, b } = await finishedCocktailRun();
    const r = await q('query($id: ID!, $s: ID!) { run(id: $id) { log(stepRunId: $s) { lines { seq } } } }', { id: a.id, s: b.steps[0].id });
    expect(code(r)).toBe('NOT_FOUND');
  });

  it('nodes with more than 100 IDs is BAD_USER_INPUT', async () => {
    const ids = Array.from({ length: 101 }, (_, i) => toGlobalId('native', 'Build', String(i + 1)));
    const r = await q('query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids });
    expect(code(r)).toBe('BAD_USER_INPUT');
  });
});
