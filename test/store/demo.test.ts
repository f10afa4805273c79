import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { tempBuildah } from '../support/busybox-image.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

const BUILDS = `{ builds(first: 50) { edges { node { id name } } } }`;
const RUN = `mutation($id: ID!) { runBuild(input: { buildId: $id, description: "demo test" }) { run { id } } }`;
const STATE = `query($id: ID!) { run(id: $id) { state errorMessage steps { stepType state errorMessage } } }`;

/**
 * The demo builds of the embedded default, run as a newcomer would: no network beyond this
 * machine, the demo's own config (demo.seed resolved by the config, not widened here).
 * buildah is installed here, so the image build is seeded and must work too.
 */
describe('demo builds', () => {
  let gw: TestGateway;
  let registry: TestRegistry;
  let buildahTmp: Awaited<ReturnType<typeof tempBuildah>>;

  beforeAll(async () => {
    registry = await startRegistry();
    buildahTmp = await tempBuildah();
    gw = await startGateway({
      config: {
        auth: { anonymous: 'admin' },
        demo: { seed: true },
        engine: { registry: { host: registry.host, insecure: true }, buildah: { storageDriver: 'vfs', isolation: 'chroot', root: buildahTmp.settings.root!, runroot: buildahTmp.settings.runroot! } },
      },
    });
  }, 60000);

  afterAll(async () => {
    await gw?.close();
    await registry?.stop();
    await buildahTmp?.cleanup();
  });

  it('every seeded build runs to DONE offline', async () => {
    const builds = ((await gw.gql(BUILDS)).data as any).builds.edges.map((e: any) => e.node) as { id: string; name: string }[];
    expect(builds.map((b) => b.name).sort()).toEqual(['hello-shell', 'ping-api', 'static-site-image']);
    const runs = await Promise.all(builds.map(async (b) => ({ name: b.name, id: ((await gw.gql(RUN, { id: b.id })).data as any).runBuild.run.id as string })));
    for (const run of runs) {
      let r: any;
      for (let i = 0; i < 1800; i++) {
        r = ((await gw.gql(STATE, { id: run.id })).data as any).run;
        if (['DONE', 'ERROR', 'CANCELED'].includes(r.state)) break;
        await new Promise((res) => setTimeout(res, 100));
      }
      expect({ name: run.name, state: r.state, error: r.errorMessage, steps: r.steps }).toEqual({
        name: run.name, state: 'DONE', error: null, steps: r.steps.map((s: any) => ({ ...s, state: 'DONE', errorMessage: null })),
      });
    }
  }, 240000);
});
