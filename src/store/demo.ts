import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { BuildData, BuildInputData, Page, PageArgs, RunBuildOptions, RunData } from '../model.js';

/** What seeding needs of the native provider (passed in: the store does not reach up to providers). */
export interface DemoTarget {
  listBuilds(args: PageArgs): Promise<Page<BuildData>>;
  createBuild(input: BuildInputData): Promise<BuildData>;
  runBuild(buildKey: string, opts: RunBuildOptions): Promise<RunData>;
}

/** Whether `name` is an executable on PATH. */
function onPath(name: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try { fs.accessSync(path.join(dir, name), fs.constants.X_OK); return true; } catch { return false; }
  });
}

/**
 * A few native builds for a newcomer's first look at the playground. Each runs offline on
 * the machine the gateway runs on: a script, an HTTP call to this gateway's own /healthz
 * (the embedded default lets builds reach the gateway's address, see demo.seed), and, when
 * buildah is installed, an image built from files the script writes (no base image to pull),
 * pushed to `engine.registry` (`scripts/start-registry.sh` starts one).
 */
export function demoBuilds(opts: { gatewayUrl: string; buildah: boolean }): BuildInputData[] {
  const healthz = new URL('/healthz', opts.gatewayUrl).toString();
  const builds: BuildInputData[] = [
    {
      name: 'hello-shell',
      description: 'Prints a few lines and the environment of a run (SHELL step).',
      steps: [{ stepOrder: 1, useFlag: true, config: { stepType: 'SHELL', stepTitle: 'say hello', shellType: 'SCRIPT', command: 'echo "hello from buildgate"\nfor i in 1 2 3 4 5; do echo "line $i"; sleep 1; done\nuname -a' } }],
    },
    {
      name: 'ping-api',
      description: 'Calls this gateway\'s /healthz and keeps the answer (HTTP step with a secret header).',
      steps: [
        { stepOrder: 1, useFlag: true, config: { stepType: 'HTTP', stepTitle: 'REST call task', url: healthz, httpMode: 'GET', timeout: 5, validResponseCodes: '200', validResponseContent: 'ok', outputFile: 'health.json', consoleLogResponseBody: true, customHeaders: [{ name: 'Authorization', value: 'Bearer demo-token-not-a-secret', secret: true }] } },
        { stepOrder: 2, useFlag: true, config: { stepType: 'SHELL', stepTitle: 'show the answer', shellType: 'SCRIPT', command: 'cat health.json' } },
      ],
    },
  ];
  if (opts.buildah) {
    builds.push({
      name: 'static-site-image',
      description: 'Writes a small site, builds an image of it with buildah and pushes it to the engine\'s registry (SHELL + CREATE_IMAGE).',
      imageName: 'static-site',
      registryName: 'demo',
      autotag: { enabled: true, prefix: 'v', seqType: 'SEQUENCE' },
      steps: [
        { stepOrder: 1, useFlag: true, config: { stepType: 'SHELL', stepTitle: 'write the site', shellType: 'SCRIPT', command: 'mkdir -p site\necho "<h1>built by buildgate</h1>" > site/index.html\ndate -u > site/built-at.txt\nls -l site' } },
        { stepOrder: 2, useFlag: true, config: { stepType: 'CREATE_IMAGE', stepTitle: 'image build task', dockerFileType: 'CONTENTS', dockerFile: 'FROM scratch\nCOPY site/ /site/', registryName: 'demo', imageName: 'static-site' } },
      ],
    });
  }
  return builds;
}

/**
 * Seeds the demo builds when the store has no build yet, and starts one run of the first
 * (a few seconds of SHELL output) so the run page, log and statistics have something to
 * show at once. Returns how many builds were added.
 */
export async function seedDemoBuilds(native: DemoTarget, gatewayUrl: string, logger: Logger): Promise<number> {
  const existing = await native.listBuilds({ offset: 0, limit: 1 });
  if ((existing.totalCount ?? 0) > 0) return 0;
  const builds = demoBuilds({ gatewayUrl, buildah: onPath('buildah') });
  const created = [];
  for (const b of builds) created.push(await native.createBuild(b));
  await native.runBuild(created[0]!.key, { description: 'demo run started at first start', triggeredBy: 'demo' });
  logger.info({ builds: builds.map((b) => b.name) }, 'seeded demo builds into the empty store');
  return builds.length;
}
