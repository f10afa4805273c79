import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { toGlobalId } from '../../src/ids.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

/**
 * The findings of issue 16 as a client sees them over HTTP: a missing item does not wipe its
 * siblings, expected failures of a mutation are data in its payload, provider-specific
 * mutations answer the same way for every provider, arguments come in declaration order.
 */
let gw: TestGateway;
let runId: string;
type Res = { data?: any; errors?: Array<{ message: string; path?: unknown[]; extensions?: Record<string, unknown> }> };
const q = async (query: string, variables?: Record<string, unknown>) => (await gw.gql(query, variables)) as Res;

beforeAll(async () => {
  gw = await startGateway();
  const b = await q('mutation { createBuild(input: { build: { name: "conv", steps: [{ stepOrder: 1, stepType: SHELL, shell: { command: "echo one; echo two" } }] } }) { build { id } errors { code } } }');
  expect(b.data.createBuild.errors).toEqual([]);
  const r = await q('mutation($b: ID!) { runBuild(input: { buildId: $b }) { run { id } } }', { b: b.data.createBuild.build.id });
  runId = r.data.runBuild.run.id;
  for (let i = 0; i < 300; i++) {
    if ((await q('query($id: ID!) { run(id: $id) { state } }', { id: runId })).data.run.state === 'DONE') return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('the run did not finish');
}, 60_000);
afterAll(async () => { await gw?.close(); });

describe('Schema 1.0 over HTTP', () => {
  it('a missing run is null with a NOT_FOUND error for its path; sibling root fields keep their data', async () => {
    const r = await q('query($id: ID!) { providers { providerId } run(id: $id) { id } }', { id: toGlobalId('native', 'BuildRun', '999999') });
    expect(r.data).toEqual({ providers: [{ providerId: 'native' }], run: null });
    expect(r.errors).toEqual([expect.objectContaining({ path: ['run'], extensions: expect.objectContaining({ code: 'NOT_FOUND' }) })]);
    const p = await q('{ providers { providerId } provider(providerId: "nope") { kind } }');
    expect(p.data).toEqual({ providers: [{ providerId: 'native' }], provider: null });
    expect(p.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('canceling a finished run: ACTION_NOT_ALLOWED as data in the payload, clientMutationId returned, audited with that code', async () => {
    const r = await q('mutation($id: ID!) { cancelRun(input: { runId: $id, clientMutationId: "c-1" }) { clientMutationId run { id } errors { code message path details } } }', { id: runId });
    expect(r.errors).toBeUndefined();
    expect(r.data.cancelRun).toMatchObject({ clientMutationId: 'c-1', run: null, errors: [{ code: 'ACTION_NOT_ALLOWED', path: null, details: { action: 'CANCEL', state: 'DONE' } }] });
    expect(r.data.cancelRun.errors[0].details.possibleActions).toContain('REMOVE');
    const log = await q('{ auditLog(first: 1) { edges { node { operation outcome targetId } } } }');
    expect(log.data.auditLog.edges[0].node).toEqual({ operation: 'cancelRun', outcome: 'ACTION_NOT_ALLOWED', targetId: runId });
  });

  it('a refused ID names the input field; a malformed one too', async () => {
    const missing = await q('mutation($id: ID!) { removeRun(input: { runId: $id }) { removedRunId keptImageTags { image } errors { code path } } }', { id: toGlobalId('native', 'BuildRun', '999999') });
    expect(missing.data.removeRun).toEqual({ removedRunId: null, keptImageTags: [], errors: [{ code: 'NOT_FOUND', path: ['input', 'runId'] }] });
    const bad = await q('mutation { runBuild(input: { buildId: "!!" }) { run { id } errors { code path } } }');
    expect(bad.data.runBuild).toEqual({ run: null, errors: [{ code: 'VALIDATION', path: ['input', 'buildId'] }] });
  });

  it('provider-specific mutations answer UNSUPPORTED_BY_PROVIDER the same way for every provider without the extension', async () => {
    const buildId = (await q('{ builds(providerIds: ["native"]) { edges { node { id } } } }')).data.builds.edges[0].node.id;
    const quay = await q('mutation($b: ID!) { requestQuayBuild(input: { buildId: $b }) { run { id } errors { code details } } }', { b: buildId });
    expect(quay.data.requestQuayBuild).toEqual({ run: null, errors: [{ code: 'UNSUPPORTED_BY_PROVIDER', details: { providerId: 'native', operation: 'requestQuayBuild' } }] });
    const zadig = await q(`mutation { createZadigBuild(input: { providerId: "native", projectKey: "p", build: {
      name: "x", infrastructure: KUBERNETES, buildOs: "u", installs: [], scriptType: SHELL, buildScript: "", services: [{ serviceName: "s", serviceModule: "m" }] } }) { build { id } errors { code details } } }`);
    expect(zadig.data.createZadigBuild).toEqual({ build: null, errors: [{ code: 'UNSUPPORTED_BY_PROVIDER', details: { providerId: 'native', operation: 'createZadigBuild' } }] });
  });

  it('log lines carry a StepRun ID node() resolves; sequence numbers are SafeInt (2^53 is refused before any read)', async () => {
    const r = await q('query($id: ID!) { run(id: $id) { steps { id stepType rawStepType } log { lines { seq stepRunId source loggedAt text } } } }', { id: runId });
    const step = r.data.run.steps[0];
    expect(step).toMatchObject({ stepType: 'SHELL', rawStepType: 'SHELL' });
    const line = r.data.run.log.lines.find((l: any) => l.text === 'one');
    expect(line).toMatchObject({ stepRunId: step.id, source: 'STDOUT' });
    expect((await q('query($id: ID!) { node(id: $id) { __typename id } }', { id: line.stepRunId })).data.node).toEqual({ __typename: 'StepRun', id: step.id });
    const big = await q('query($id: ID!) { run(id: $id) { log(afterSeq: 9007199254740993) { lastSeq } } }', { id: runId });
    expect(big.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('introspection lists arguments and input fields in declaration order', async () => {
    const r = await q(`{ __type(name: "BuildRun") { fields { name args { name } } }
      input: __type(name: "RunBuildInput") { inputFields { name } }
      sub: __schema { subscriptionType { fields { name args { name } } } } }`);
    expect(r.data.__type.fields.find((f: any) => f.name === 'log').args.map((a: any) => a.name)).toEqual(['stepRunId', 'afterSeq', 'first', 'tail']);
    expect(r.data.input.inputFields.map((f: any) => f.name)).toEqual(['clientMutationId', 'buildId', 'tagName', 'description', 'callbackUrl']);
    expect(r.data.sub.subscriptionType.fields.find((f: any) => f.name === 'runLog').args.map((a: any) => a.name)).toEqual(['runId', 'stepRunId', 'afterSeq']);
  });
});
