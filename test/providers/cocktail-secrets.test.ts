import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { startDemoUpstreams, type DemoUpstreams } from '../../src/demo/upstreams.js';
import { toGlobalId } from '../../src/ids.js';
import { BuildDetailDocument } from '../generated/graphql.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

/** A Cocktail step whose password is set says hasPassword: true, and the password never reaches the caller. */
let demo: DemoUpstreams;
let gw: TestGateway;

beforeAll(async () => {
  demo = await startDemoUpstreams({ pace: 'test', instance: { cacheTtlMs: 0, retries: 0, timeoutMs: 3000 } });
  gw = await startGateway({ config: { providers: demo.instances.filter((i) => i.kind === 'COCKTAIL') } });
});
afterAll(async () => {
  await gw?.close();
  await demo?.stop();
});

it('hasPassword is true for a step whose password Cocktail reports as set', async () => {
  demo.fakes.cocktail.fake.fault({ kind: 'wrongType', path: /^\/v1\/build\/1$/, mutate: (b) => {
    b[0].buildSteps[0].buildStepConfig.password = 'stored-pass';
  } });
  const r = await gw.gql(BuildDetailDocument, { id: toGlobalId('cocktail-demo', 'Build', '1') });
  expect(r.errors).toBeUndefined();
  const step = r.data!.build!.steps!.find((s) => s.config?.__typename === 'CodeDownStepConfig')!;
  expect(step.config).toMatchObject({ hasPassword: true });
  expect(JSON.stringify(r)).not.toContain('stored-pass');
});
