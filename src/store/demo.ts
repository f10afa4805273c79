import type { BuildData, BuildInputData, Page, PageArgs, RunBuildOptions, RunData } from '../model.js';

/** What seeding needs of the native provider (passed in: the store does not reach up to providers). */
export interface DemoTarget {
  listBuilds(args: PageArgs): Promise<Page<BuildData>>;
  createBuild(input: BuildInputData): Promise<BuildData>;
  runBuild(buildKey: string, opts: RunBuildOptions): Promise<RunData>;
}

/**
 * A few native builds for a newcomer's first look at the playground. They only use
 * SHELL and HTTP-free steps so they run on any machine.
 */
export const DEMO_BUILDS: BuildInputData[] = [
  {
    name: 'hello-shell',
    description: 'Prints a few lines and the environment of a run (SHELL step).',
    steps: [{ stepOrder: 1, useFlag: true, config: { stepType: 'SHELL', stepTitle: 'say hello', shellType: 'SCRIPT', command: 'echo "hello from buildgate"\nfor i in 1 2 3 4 5; do echo "line $i"; sleep 1; done\nuname -a' } }],
  },
  {
    name: 'gradle-sample',
    description: 'The Cocktail sample build (seed 000): clone, user task, script, image.',
    imageName: 'gradle-sample',
    registryName: 'demo',
    autotag: { enabled: true, prefix: 'v', seqType: 'SEQUENCE' },
    steps: [
      { stepOrder: 1, useFlag: true, config: { stepType: 'CODE_DOWN', stepTitle: 'code repository task', repositoryType: 'GIT', repositoryUrl: 'github.com/codefresh-contrib/gradle-sample-app.git', branchName: 'master', codeSaveDir: 'repo', commonType: 'COMMON', protocolType: 'https' } },
      { stepOrder: 2, useFlag: false, config: { stepType: 'USER_TASK', stepTitle: 'user task', cmd: ['mvn', 'clean', 'install'], workingDir: '/build', imageName: 'build-api-test-gradle', imageTag: '8u292-rmsoft', dockerVolumeMountVOList: [{ containerPath: '/build', hostPath: '$PWD/repo' }] } },
      { stepOrder: 3, useFlag: true, config: { stepType: 'SHELL', stepTitle: 'script task', shellType: 'SCRIPT', command: 'cd repo\nls -al' } },
      { stepOrder: 4, useFlag: true, config: { stepType: 'CREATE_IMAGE', stepTitle: 'image build task', dockerFileType: 'CONTENTS', dockerFile: 'FROM scratch\nCOPY repo/README.md /README.md', registryName: 'demo', imageName: 'gradle-sample' } },
    ],
  },
  {
    name: 'ping-api',
    description: 'Calls an HTTP endpoint and keeps the answer (HTTP step with a secret header).',
    steps: [
      { stepOrder: 1, useFlag: true, config: { stepType: 'HTTP', stepTitle: 'REST call task', url: 'http://127.0.0.1:4000/healthz', httpMode: 'GET', timeout: 5, validResponseCodes: '200', outputFile: 'health.json', consoleLogResponseBody: true, customHeaders: [{ name: 'Authorization', value: 'Bearer demo-token-not-a-secret', secret: true }] } },
    ],
  },
];

/**
 * Seeds the demo builds when the store has no build yet, and starts one run of the first
 * (a few seconds of SHELL output) so the run page, log and statistics have something to
 * show at once. Returns how many builds were added.
 */
export async function seedDemoBuilds(native: DemoTarget): Promise<number> {
  const existing = await native.listBuilds({ offset: 0, limit: 1 });
  if ((existing.totalCount ?? 0) > 0) return 0;
  const created = [];
  for (const b of DEMO_BUILDS) created.push(await native.createBuild(b));
  await native.runBuild(created[0]!.key, { description: 'demo run started at first start', triggeredBy: 'demo' });
  return DEMO_BUILDS.length;
}
