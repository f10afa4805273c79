import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseRegistry, RegistryClient, resolveImage } from '../../src/engine/registry.js';
import { CreateBuildDocument } from '../generated/graphql.js';
import { busyboxImage, tempBuildah } from '../support/busybox-image.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

/** Bytes of every blob the registry stores (manifests are blobs too). */
async function storedBlobBytes(reg: TestRegistry): Promise<number> {
  const root = path.join(reg.dir, 'data/docker/registry/v2/blobs/sha256');
  let total = 0;
  for (const prefix of await readdir(root)) {
    for (const digest of await readdir(path.join(root, prefix))) total += (await stat(path.join(root, prefix, digest, 'data'))).size;
  }
  return total;
}

describe('RegistryClient against a real docker-registry', () => {
  let reg: TestRegistry;
  let storage: Awaited<ReturnType<typeof tempBuildah>>;
  let client: RegistryClient;

  beforeAll(async () => {
    reg = await startRegistry();
    storage = await tempBuildah();
    await busyboxImage(reg.host, storage.settings);
    client = new RegistryClient({ ...parseRegistry(reg.host, true) });
  }, 120_000);
  afterAll(async () => {
    await reg?.stop();
    await storage?.cleanup();
  });

  it('pings, lists the pushed tag, and reads digest, size and created time', async () => {
    await client.ping();
    expect(await client.listTags('base/busybox')).toEqual(['1']);
    const m = await client.manifest('base/busybox', '1');
    expect(m).not.toBeNull();
    expect(m!.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(m!.configDigest).toMatch(/^sha256:/);
    // Independent check: all stored blobs = config + layers + the manifest itself.
    const manifestBytes = (await (await fetch(`http://${reg.host}/v2/base/busybox/manifests/${m!.digest}`, {
      headers: { accept: m!.mediaType },
    })).arrayBuffer()).byteLength;
    expect(m!.size).toBe((await storedBlobBytes(reg)) - manifestBytes);
    expect(m!.size).toBeGreaterThan(500_000); // busybox-static is ~2 MB, ~1 MB gzipped
    const created = await client.created('base/busybox', '1');
    expect(created).toBeInstanceOf(Date);
    expect(Math.abs(Date.now() - created!.getTime())).toBeLessThan(10 * 60_000);
  });

  it('has no tags for a repository that does not exist, and no manifest for an unknown tag', async () => {
    expect(await client.listTags('nobody/nothing')).toEqual([]);
    expect(await client.manifest('base/busybox', 'no-such-tag')).toBeNull();
    expect(await client.created('base/busybox', 'no-such-tag')).toBeNull();
  });

  /** Tags busybox's manifest as repository:tag (mounting its blobs there first when needed). */
  async function tagCopy(repository: string, tag: string) {
    const m = await client.manifest('base/busybox', '1');
    const body = await (await fetch(`http://${reg.host}/v2/base/busybox/manifests/${m!.digest}`, { headers: { accept: m!.mediaType } })).text();
    const put = () => fetch(`http://${reg.host}/v2/${repository}/manifests/${tag}`, { method: 'PUT', headers: { 'content-type': m!.mediaType }, body });
    // Blobs are per repository: the PUT succeeds only if they were mounted; push them first.
    if ((await put()).status !== 201) {
      for (const d of [m!.configDigest!, ...JSON.parse(body).layers.map((l: { digest: string }) => l.digest)]) {
        const r = await fetch(`http://${reg.host}/v2/${repository}/blobs/uploads/?mount=${d}&from=base/busybox`, { method: 'POST' });
        expect(r.status).toBe(201);
      }
      expect((await put()).status).toBe(201);
    }
    return m!.digest;
  }

  it('deletes a tag, after which it is gone; deleting it again reports false', async () => {
    // A tag of its own, so the other tests keep theirs.
    await tagCopy('base/copy', 'to-delete');
    expect(await client.listTags('base/copy')).toEqual(['to-delete']);
    expect(await client.deleteTag('base/copy', 'to-delete')).toBe(true);
    expect(await client.listTags('base/copy')).toEqual([]);
    expect(await client.manifest('base/copy', 'to-delete')).toBeNull();
    expect(await client.deleteTag('base/copy', 'to-delete')).toBe(false);
    expect(await client.listTags('base/busybox')).toEqual(['1']);
  });

  it('deleting a tag keeps the other tags of the same image (docker-registry deletes by digest)', async () => {
    const digest = await tagCopy('base/shared', 'run-7');
    await tagCopy('base/shared', 'latest');
    await tagCopy('base/shared', 'stable');
    expect((await client.listTags('base/shared')).sort()).toEqual(['latest', 'run-7', 'stable']);
    expect(await client.deleteTag('base/shared', 'run-7')).toBe(true);
    expect((await client.listTags('base/shared')).sort()).toEqual(['latest', 'stable']);
    expect(await client.manifest('base/shared', 'run-7')).toBeNull();
    for (const t of ['latest', 'stable']) {
      const m = await client.manifest('base/shared', t);
      expect(m?.digest).toBe(digest); // the same bytes, put back
      expect(m?.size).toBeGreaterThan(500_000);
    }
  });

  it('says clearly when the registry is down', async () => {
    const down = new RegistryClient({ host: '127.0.0.1:1', scheme: 'http', insecure: true }, 2000);
    await expect(down.ping()).rejects.toThrow('registry 127.0.0.1:1 is unreachable (ECONNREFUSED)');
    await expect(down.listTags('a/b')).rejects.toThrow(/unreachable/);
  });
});

/**
 * Tags owned by runs: removeRun(removeImageTag) deletes a tag only while the run still owns
 * it. Real gateway, real buildah builds pushed to a real docker-registry.
 */
describe.each(['sqlite', 'postgres'] as const)('removeRun(removeImageTag) and tags other runs pushed again (%s)', (database) => {
  let reg: TestRegistry;
  let storage: Awaited<ReturnType<typeof tempBuildah>>;
  let gw: TestGateway;
  let client: RegistryClient;
  let buildId: string;

  beforeAll(async () => {
    reg = await startRegistry();
    storage = await tempBuildah();
    const base = await busyboxImage(reg.host, storage.settings);
    client = new RegistryClient(parseRegistry(reg.host, true));
    gw = await startGateway({ database, config: { engine: { maxConcurrentRuns: 1, registry: { host: reg.host, insecure: true }, buildah: { storageDriver: 'vfs', isolation: 'chroot', root: storage.settings.root!, runroot: storage.settings.runroot! } } } });
    // Every run's image differs (a timestamp file), so every push is a new digest.
    const created = await gw.gql(CreateBuildDocument, { build: { name: 'tags', tagName: 'default', steps: [
      { stepOrder: 1, stepType: 'SHELL', shell: { command: 'date +%s%N > stamp' } },
      { stepOrder: 2, stepType: 'CREATE_IMAGE', createImage: { dockerFileType: 'CONTENTS', dockerFile: `FROM ${base}\nCOPY stamp /stamp\n`, registryName: 'own', imageName: 'app' } },
    ] } });
    expect(created.errors).toBeUndefined();
    buildId = created.data!.createBuild.build!.id;
  }, 120_000);
  afterAll(async () => {
    await gw?.close();
    await reg?.stop();
    await storage?.cleanup();
  });

  const runTagged = async (tag: string): Promise<{ id: string; imageDigest: string }> => {
    const r = await gw.gql(`mutation($id: ID!, $tag: String) { runBuild(input: { buildId: $id, tagName: $tag }) { run { id } } }`, { id: buildId, tag });
    const id = (r.data as { runBuild: { run: { id: string } } }).runBuild.run.id;
    for (let i = 0; i < 1200; i++) {
      const run = ((await gw.gql(`query($id: ID!) { run(id: $id) { state errorMessage imageDigest } }`, { id })).data as any).run;
      if (['DONE', 'ERROR', 'CANCELED'].includes(run.state)) {
        expect([run.state, run.errorMessage]).toEqual(['DONE', null]);
        return { id, imageDigest: run.imageDigest };
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error('run did not end');
  };
  const remove = (id: string) => gw.gql(`mutation($id: ID!) { removeRun(input: { runId: $id, removeImageTag: true }) { removedRunId keptImageTags { image keptBecause ownerRunId detail } errors { code } } }`, { id });

  it('keeps a tag a newer run pushed again, and says so; the newest run removes it', async () => {
    const a = await runTagged('shared');
    const b = await runTagged('shared');
    expect(b.imageDigest).not.toBe(a.imageDigest);

    const removedA = await remove(a.id);
    expect(removedA.errors).toBeUndefined();
    expect(removedA.data).toEqual({ removeRun: { removedRunId: a.id, errors: [], keptImageTags: [{
      image: `${reg.host}/own/app:shared`, keptBecause: 'NEWER_RUN', ownerRunId: b.id, detail: expect.any(String),
    }] } });
    expect((await client.manifest('own/app', 'shared'))?.digest).toBe(b.imageDigest);
    expect((await gw.gql(`query($id: ID!) { run(id: $id) { id } }`, { id: a.id })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    const removedB = await remove(b.id);
    expect(removedB.errors).toBeUndefined();
    expect(removedB.data).toEqual({ removeRun: { removedRunId: b.id, errors: [], keptImageTags: [] } });
    expect(await client.manifest('own/app', 'shared')).toBeNull();
  }, 600_000);

  it('keeps a tag that now holds another image than the run pushed', async () => {
    const c = await runTagged('solo');
    // Someone pushes another image under the same tag, outside buildgate.
    const other = (await client.manifest('base/busybox', '1'))!;
    const body = await (await fetch(`http://${reg.host}/v2/base/busybox/manifests/${other.digest}`, { headers: { accept: other.mediaType } })).text();
    for (const d of [other.configDigest!, ...JSON.parse(body).layers.map((l: { digest: string }) => l.digest)]) {
      expect((await fetch(`http://${reg.host}/v2/own/app/blobs/uploads/?mount=${d}&from=base/busybox`, { method: 'POST' })).status).toBe(201);
    }
    expect((await fetch(`http://${reg.host}/v2/own/app/manifests/solo`, { method: 'PUT', headers: { 'content-type': other.mediaType }, body })).status).toBe(201);

    const removed = await remove(c.id);
    expect(removed.errors).toBeUndefined();
    expect(removed.data).toEqual({ removeRun: { removedRunId: c.id, errors: [], keptImageTags: [expect.objectContaining({ keptBecause: 'DIGEST_CHANGED', image: `${reg.host}/own/app:solo` })] } });
    expect((await client.manifest('own/app', 'solo'))?.digest).toBe(other.digest);
  }, 600_000);
});

describe('RegistryClient with basic auth (htpasswd)', () => {
  let reg: TestRegistry;
  const password = 'pa55-Secret-xyz';
  beforeAll(async () => { reg = await startRegistry({ auth: { username: 'builder', password } }); }, 30_000);
  afterAll(async () => { await reg?.stop(); });

  it('works with the right credentials', async () => {
    const client = new RegistryClient({ ...parseRegistry(reg.host, true), username: 'builder', password });
    await client.ping();
    expect(await client.listTags('x/y')).toEqual([]);
  });

  it('fails without or with wrong credentials, and never repeats the password', async () => {
    const anon = new RegistryClient(parseRegistry(reg.host, true));
    await expect(anon.ping()).rejects.toThrow(/answered 401 \(credentials missing or wrong\)/);
    const wrong = new RegistryClient({ ...parseRegistry(reg.host, true), username: 'builder', password: 'wrong-' + password });
    const err = await wrong.ping().then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/401/);
    expect(err?.message).not.toContain(password);
  });
});

describe('parseRegistry', () => {
  it('reads schemes and bare hosts', () => {
    expect(parseRegistry('http://10.0.0.1:5000', false)).toEqual({ host: '10.0.0.1:5000', scheme: 'http', insecure: true });
    expect(parseRegistry('https://reg.example.com/', false)).toEqual({ host: 'reg.example.com', scheme: 'https', insecure: false });
    expect(parseRegistry('reg.example.com:443', false)).toEqual({ host: 'reg.example.com:443', scheme: 'https', insecure: false });
    expect(parseRegistry('127.0.0.1:5000', true)).toEqual({ host: '127.0.0.1:5000', scheme: 'http', insecure: true });
  });
  it('refuses what is not a registry address', () => {
    expect(() => parseRegistry('user:pw@host', false)).toThrow(/not a host/);
    expect(() => parseRegistry('host/path', false)).toThrow(/not a host/);
    expect(() => parseRegistry('', false)).toThrow(/not a host/);
  });
});

describe('resolveImage', () => {
  it('puts bare names on the default registry and keeps qualified ones', () => {
    expect(resolveImage('gradle', '8u292', 'reg:5000')).toEqual({ ref: 'reg:5000/gradle:8u292', host: 'reg:5000' });
    expect(resolveImage('team/app', '', 'reg:5000')).toEqual({ ref: 'reg:5000/team/app:latest', host: 'reg:5000' });
    expect(resolveImage('quay.io/org/app', '1', 'reg:5000')).toEqual({ ref: 'quay.io/org/app:1', host: 'quay.io' });
    expect(resolveImage('localhost/app:2', null, 'reg:5000')).toEqual({ ref: 'localhost/app:2', host: 'localhost' });
    expect(resolveImage('10.0.0.1:5000/app:2', '2', 'reg:5000').ref).toBe('10.0.0.1:5000/app:2');
    expect(resolveImage('app@sha256:abc', 'x', 'reg:5000').ref).toBe('reg:5000/app@sha256:abc');
  });
  it('refuses conflicting tags and blank names', () => {
    expect(() => resolveImage('app:1', '2', 'reg:5000')).toThrow(/already has a tag/);
    expect(() => resolveImage('  ', '1', 'reg:5000')).toThrow(/not valid/);
  });
});
