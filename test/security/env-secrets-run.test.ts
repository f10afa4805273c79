import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { busyboxImage, tempBuildah } from '../support/busybox-image.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { waitFor } from './helpers.js';

/**
 * A real USER_TASK run (buildah, busybox from a local registry): the container gets the
 * sealed env value, its output shows it masked; a variable marked `secret: false` prints as is.
 */
const SECRET = 'ENV-RUN-SECRET-4711';

describe('USER_TASK env values in a real run', () => {
  let gw: TestGateway;
  let registry: TestRegistry;
  let buildahTmp: Awaited<ReturnType<typeof tempBuildah>>;

  beforeAll(async () => {
    registry = await startRegistry();
    buildahTmp = await tempBuildah();
    await busyboxImage(registry.host, buildahTmp.settings);
    gw = await startGateway({ config: { engine: { registry: { host: registry.host, insecure: true }, buildah: { ...buildahTmp.settings, root: buildahTmp.settings.root!, runroot: buildahTmp.settings.runroot! } } } });
  }, 120_000);
  afterAll(async () => {
    await gw?.close();
    await registry?.stop();
    await buildahTmp?.cleanup();
  });

  it('reach the container and are masked in its output, unless marked secret: false', async () => {
    const q = async (query: string, variables: object = {}) => {
      const r = await gw.gql(query, variables as never);
      expect(r.errors).toBeUndefined();
      return r.data as any;
    };
    const input = { name: 'env-run', steps: [{ stepOrder: 1, stepType: 'USER_TASK', userTask: {
      imageName: 'base/busybox', imageTag: '1', cmd: ['sh', '-c', 'echo "token=$DEPLOY_TOKEN"; echo "mode=$MODE"; echo "length=${#DEPLOY_TOKEN}"'],
      envs: [{ key: 'DEPLOY_TOKEN', value: SECRET }, { key: 'MODE', value: 'fast', secret: false }],
    } }] };
    const id = (await q('mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id } } }', { i: input })).createBuild.build.id;
    const runId = (await q('mutation($id: ID!) { runBuild(input: { buildId: $id }) { run { id } } }', { id })).runBuild.run.id;
    await waitFor(async () => ['DONE', 'ERROR'].includes((await q(`{ run(id: "${runId}") { state } }`)).run.state), 120_000);
    const run = (await q(`{ run(id: "${runId}") { state errorMessage log(first: 200) { lines { text } } } }`)).run;
    expect({ state: run.state, error: run.errorMessage }).toEqual({ state: 'DONE', error: null });
    const texts: string[] = run.log.lines.map((l: { text: string }) => l.text);
    expect(texts).toEqual(expect.arrayContaining(['token=***', 'mode=fast', `length=${SECRET.length}`]));
    expect(JSON.stringify(run)).not.toContain(SECRET);
  }, 150_000);
});
