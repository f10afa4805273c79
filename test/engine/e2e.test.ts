import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RegistryClient } from '../../src/engine/registry.js';
import { BuildDetailDocument, CreateBuildDocument, RunPageDocument } from '../generated/graphql.js';
import { busyboxImage, tempBuildah } from '../support/busybox-image.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { startGitHttpServer, type GitHttpServer } from '../servers/git-http.js';

const RUN = `mutation($id: ID!, $cb: String, $tag: String) { runBuild(input: { buildId: $id, callbackUrl: $cb, tagName: $tag, description: "e2e" }) { run { id } } }`;
const TAGS = `query($id: ID!, $sort: ImageTagSort, $order: SortOrder) { build(id: $id) { imageTags(sort: $sort, order: $order) { totalCount edges { node { tag size pushedAt } } } } }`;
const REMOVE = `mutation($id: ID!) { removeRun(input: { runId: $id, removeImageTag: true }) { removedRunId } }`;
const GIT_PASSWORD = 'git-e2e-Secret-42';

/**
 * The whole native path for real: clone a local repository over HTTP with credentials, run
 * a shell step, build an image from the repository's Dockerfile with buildah, push it to a
 * local registry, then find the tag, logs, states, record and stats through GraphQL.
 */
describe('native engine end to end', () => {
  let gw: TestGateway;
  let git: GitHttpServer;
  let registry: TestRegistry;
  let buildahTmp: Awaited<ReturnType<typeof tempBuildah>>;
  let commit: string;
  let callbackServer: http.Server;
  const callbacks: any[] = [];
  let callbackUrl: string;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bg-e2e-'));

  beforeAll(async () => {
    registry = await startRegistry();
    buildahTmp = await tempBuildah();
    const base = await busyboxImage(registry.host, buildahTmp.settings);
    // A bare repository with a Dockerfile, served over smart HTTP with basic auth.
    const root = path.join(tmp, 'git');
    fs.mkdirSync(root);
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', path.join(root, 'app.git')]);
    const work = path.join(tmp, 'work');
    execFileSync('git', ['init', '-q', '-b', 'main', work]);
    fs.writeFileSync(path.join(work, 'hello.txt'), 'hello from the repo\n');
    fs.writeFileSync(path.join(work, 'Dockerfile'), `FROM ${base}\nCOPY repo/hello.txt /hello.txt\nCOPY repo/built.txt /built.txt\nCMD ["cat", "/hello.txt"]\n`);
    const g = (...a: string[]) => execFileSync('git', ['-C', work, '-c', 'user.email=t@t', '-c', 'user.name=t', ...a]).toString().trim();
    g('add', '.');
    g('commit', '-q', '-m', 'first');
    g('push', '-q', path.join(root, 'app.git'), 'main');
    commit = g('rev-parse', 'HEAD');
    git = await startGitHttpServer(root, 'builder', GIT_PASSWORD);
    callbackServer = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => { callbacks.push(JSON.parse(body)); res.end('ok'); });
    });
    await new Promise<void>((r) => callbackServer.listen(0, '127.0.0.1', r));
    callbackUrl = `http://127.0.0.1:${(callbackServer.address() as any).port}/done`;
    gw = await startGateway({
      config: {
        engine: {
          registry: { host: registry.host, insecure: true },
          buildah: { storageDriver: 'vfs', isolation: 'chroot', root: buildahTmp.settings.root!, runroot: buildahTmp.settings.runroot! },
          allowPrivateHosts: ['127.0.0.1'],
        },
      },
    });
  }, 120000);

  afterAll(async () => {
    await gw?.close();
    await git?.close();
    await registry?.stop();
    await buildahTmp?.cleanup();
    callbackServer?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('clones, runs a script, builds and pushes an image, and exposes it all through GraphQL', async () => {
    const created = await gw.gql(CreateBuildDocument, {
      build: {
        name: 'e2e-app', imageName: 'app', registryName: 'e2e', autotag: { enabled: true, prefix: 'b', seqType: 'SEQUENCE' },
        steps: [
          { stepOrder: 1, stepType: 'CODE_DOWN', codeDown: { repositoryUrl: `127.0.0.1:${git.port}/app.git`, protocolType: 'HTTP', branchName: 'main', codeSaveDir: 'repo', commonType: 'PRIVATE', userId: 'builder', password: GIT_PASSWORD } },
          { stepOrder: 2, stepType: 'SHELL', shell: { command: 'cd repo\necho "built at $(date +%s%N)" > built.txt\ncat hello.txt\necho using password ' + GIT_PASSWORD } },
          { stepOrder: 3, stepType: 'CREATE_IMAGE', createImage: { dockerFileType: 'FILE_PATH', dockerFilePath: 'repo/Dockerfile', registryName: 'e2e', imageName: 'app' } },
        ],
      },
    });
    expect(created.errors).toBeUndefined();
    const buildId = created.data!.createBuild.build!.id;
    const run = ((await gw.gql(RUN, { id: buildId, cb: callbackUrl })).data as any).runBuild.run;

    let page = await gw.gql(RunPageDocument, { id: run.id, logLines: 2000 });
    for (let i = 0; i < 1200 && !['DONE', 'ERROR'].includes(page.data!.run!.state); i++) {
      await new Promise((r) => setTimeout(r, 100));
      page = await gw.gql(RunPageDocument, { id: run.id, logLines: 2000 });
    }
    const r = page.data!.run!;
    expect({ state: r.state, error: r.errorMessage }).toEqual({ state: 'DONE', error: null });
    expect(r.steps.map((s) => [s.stepType, s.state])).toEqual([['CODE_DOWN', 'DONE'], ['SHELL', 'DONE'], ['CREATE_IMAGE', 'DONE']]);
    expect(r.sourceRevision).toBe(commit);
    expect(r.record).toMatchObject({ commit, branch: 'main', trigger: 'API' });
    expect(r.tagName).toBe('b00001');
    const texts = r.log.lines.map((l) => l.text);
    expect(texts).toContain('hello from the repo');
    expect(texts).toContain('using password ***');
    expect(JSON.stringify(page)).not.toContain(GIT_PASSWORD);
    expect(r.log.lines.map((l) => l.seq)).toEqual(r.log.lines.map((_l, i) => i + 1));

    // The tag, as the registry and GraphQL see it.
    const client = new RegistryClient({ host: registry.host, scheme: 'http', insecure: true });
    const manifest = await client.manifest('e2e/app', 'b00001');
    expect(manifest).not.toBeNull();
    const detail = (await gw.gql(BuildDetailDocument, { id: buildId })).data!.build!;
    const tag = detail.imageTags!.edges[0]!.node;
    expect(tag).toMatchObject({ tag: 'b00001', digest: manifest!.digest, imageUrl: `${registry.host}/e2e/app:b00001` });
    expect(tag.size).toBe(manifest!.size);
    expect(detail.stats).toMatchObject({ runCount: 1, doneCount: 1, errorCount: 0, tagCount: 1 });
    expect(detail.stats!.averageImageSize).toBe(manifest!.size);

    // The callback got the summary once the run ended.
    for (let i = 0; i < 50 && callbacks.length === 0; i++) await new Promise((res) => setTimeout(res, 100));
    expect(callbacks[0]).toMatchObject({ runState: 'DONE', tagName: 'b00001', imageDigest: manifest!.digest, sourceRevision: commit, runDesc: 'e2e' });

    // A second run with a given tag: the tags sort as the Cocktail API offers (TAG / END_TIME / IMAGE_SIZE).
    const run2 = ((await gw.gql(RUN, { id: buildId, tag: 'a-first' })).data as any).runBuild.run;
    let state = '';
    for (let i = 0; i < 1200 && !['DONE', 'ERROR'].includes(state); i++) {
      await new Promise((res) => setTimeout(res, 100));
      state = (await gw.gql(RunPageDocument, { id: run2.id, logLines: 1 })).data!.run!.state;
    }
    expect(state).toBe('DONE');
    const tags = async (sort: string, order: string) => ((await gw.gql(TAGS, { id: buildId, sort, order })).data as any).build.imageTags.edges.map((e: any) => e.node);
    expect((await tags('TAG', 'ASC')).map((t: any) => t.tag)).toEqual(['a-first', 'b00001']);
    expect((await tags('TAG', 'DESC')).map((t: any) => t.tag)).toEqual(['b00001', 'a-first']);
    expect((await tags('PUSHED_AT', 'DESC')).map((t: any) => t.tag)).toEqual(['a-first', 'b00001']);
    const bySize = await tags('SIZE', 'ASC');
    expect(bySize[0].size).toBeLessThanOrEqual(bySize[1].size);

    // removeRun with removeImageTag deletes the record and the pushed tag, and only that one.
    const removed = await gw.gql(REMOVE, { id: run.id });
    expect(removed.errors).toBeUndefined();
    expect((removed.data as any).removeRun.removedRunId).toBe(run.id);
    expect(await client.manifest('e2e/app', 'b00001')).toBeNull();
    expect(await client.manifest('e2e/app', 'a-first')).not.toBeNull();
    const after = (await gw.gql(BuildDetailDocument, { id: buildId })).data!.build!;
    expect(after.imageTags!.totalCount).toBe(1);
    expect(after.runs.totalCount).toBe(1);
  }, 180000);
});
