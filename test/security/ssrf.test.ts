import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CallbackDelivery } from '../../src/engine/callback.js';
import { createImageStep } from '../../src/engine/steps/create-image.js';
import type { StepContext } from '../../src/engine/steps/types.js';
import { userTaskStep } from '../../src/engine/steps/user-task.js';
import type { StepConfig } from '../../src/providers/types.js';
import { tempBuildah } from '../support/busybox-image.js';
import type { TestGateway } from '../support/gateway.js';
import { createKey, post, SHELL_BUILD, storeCounts, strictGateway } from './helpers.js';

/** A receiver on 127.0.0.1 that counts hits; `redirectTo` makes it answer 302. */
function receiver(redirectTo?: string): Promise<{ url: string; hits: () => number; connections: () => number; close: () => Promise<void> }> {
  let hits = 0;
  let connections = 0;
  const server = http.createServer((req, res) => {
    hits++;
    req.resume();
    if (redirectTo) { res.writeHead(302, { location: redirectTo }); res.end(); return; }
    res.end('ok');
  });
  server.on('connection', () => { connections++; });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}/hook`,
    hits: () => hits,
    // buildah speaks TLS to a registry that is not the engine's own: a handshake is contact too
    connections: () => connections,
    close: () => new Promise((r) => server.close(() => r())),
  })));
}

const logger = pino({ level: 'silent' });

/** One callback delivery with a single attempt; resolves with the last recorded callbackStatus. */
async function deliverCallback(url: string, body: unknown, allowPrivateHosts: string[]): Promise<string> {
  const statuses: string[] = [];
  const delivery = new CallbackDelivery({ attempts: 1, initialDelayMs: 10, maxDelayMs: 10, timeoutMs: 5000 }, allowPrivateHosts, logger, async (_id, s) => { statuses.push(s); });
  await delivery.deliver(1, url, body);
  return statuses.at(-1)!;
}

describe('run callbacks go through the SSRF guard', () => {
  it('a callback to 127.0.0.1 is refused by default, no request is made', async () => {
    const r = await receiver();
    const outcome = await deliverCallback(r.url, { x: 1 }, []);
    expect(outcome).toMatch(/^FAILED .*private/);
    expect(r.hits()).toBe(0);
    await r.close();
  });

  it('allowed when engine.allowPrivateHosts lists the address or a CIDR holding it', async () => {
    const r = await receiver();
    expect(await deliverCallback(r.url, { x: 1 }, ['127.0.0.1'])).toMatch(/^DELIVERED 200/);
    expect(await deliverCallback(r.url, { x: 1 }, ['127.0.0.0/8'])).toMatch(/^DELIVERED 200/);
    expect(r.hits()).toBe(2);
    await r.close();
  });

  it('a name resolving to loopback (localhost) is refused after DNS resolution', async () => {
    const r = await receiver();
    const outcome = await deliverCallback(r.url.replace('127.0.0.1', 'localhost'), {}, []);
    expect(outcome).toMatch(/^FAILED .*private/);
    expect(r.hits()).toBe(0);
    await r.close();
  });

  it('redirects are not followed (a public receiver cannot bounce the call inward)', async () => {
    const inner = await receiver();
    const outer = await receiver(inner.url);
    const outcome = await deliverCallback(outer.url, {}, ['127.0.0.1']);
    expect(outcome).toBe('FAILED after 1 attempt(s): HTTP 302 (redirects are not followed)');
    expect(outer.hits()).toBe(1);
    expect(inner.hits()).toBe(0);
    await inner.close(); await outer.close();
  });
});

describe('end to end: runBuild with a private callback URL', () => {
  let gw: TestGateway;
  let r: Awaited<ReturnType<typeof receiver>>;
  beforeAll(async () => { gw = await strictGateway(); r = await receiver(); });
  afterAll(async () => { await gw?.close(); await r?.close(); });

  it('runBuild refuses it at once with BAD_USER_INPUT: no run is created, the receiver is never called', async () => {
    const { auth } = await createKey(gw, 'admin');
    const b = await post(gw.url, { query: 'mutation($i: BuildInput!) { createBuild(input: { build: $i }) { build { id } } }', variables: { i: SHELL_BUILD('cb') } }, auth);
    for (const cb of [r.url, r.url.replace('127.0.0.1', 'localhost'), 'http://169.254.169.254/latest/meta-data']) {
      const run = await post(gw.url, { query: 'mutation($id: ID!, $cb: String) { runBuild(input: { buildId: $id, callbackUrl: $cb }) { run { id } errors { code path } } }', variables: { id: b.json.data.createBuild.build.id, cb } }, auth);
      expect(run.json.errors).toBeUndefined();
      expect(run.json.data.runBuild).toEqual({ run: null, errors: [{ code: 'VALIDATION', path: ['input', 'callbackUrl'] }] });
    }
    expect((await storeCounts(gw)).build_runs).toBe(0);
    expect(r.hits()).toBe(0);
  });
});

describe('registries buildah would contact go through the SSRF guard', () => {
  let r: Awaited<ReturnType<typeof receiver>>;
  let host: string;
  let workspace: string;
  let storage: Awaited<ReturnType<typeof tempBuildah>>;
  beforeAll(async () => {
    r = await receiver();
    host = new URL(r.url).host;
    workspace = await mkdtemp(path.join(os.tmpdir(), 'ssrf-ws-'));
    storage = await tempBuildah();
  });
  afterAll(async () => {
    await r?.close();
    await rm(workspace, { recursive: true, force: true });
    await storage?.cleanup();
  });

  const ctx = (config: StepConfig, allowPrivateHosts: string[], registryHost = '127.0.0.1:1'): StepContext => ({
    runKey: 'r', stepRunKey: 's', workspace, tempDir: os.tmpdir(), config, signal: new AbortController().signal, tagName: 't1', log: () => undefined,
    build: { imageName: null, registryName: null },
    env: { registry: { host: registryHost, insecure: true }, buildah: storage.settings, allowPrivateHosts, defaultStepTimeoutSec: 60 },
  });
  const image = (registryUrl: string | null): StepConfig => ({ stepType: 'CREATE_IMAGE', dockerFileType: 'CONTENTS', dockerFile: 'FROM scratch', registryName: 'dev', imageName: 'app', registryUrl });
  const pull = (imageName: string): StepConfig => ({ stepType: 'USER_TASK', imageName, imageTag: '1', cmd: ['true'] });

  it('CREATE_IMAGE registryUrl on loopback: refused without contact; contacted once allowed', async () => {
    const before = r.connections();
    const refused = await createImageStep(ctx(image(`http://${host}`), []));
    expect(refused.error).toMatch(/127\.0\.0\.1.*private\/loopback.*allowPrivateHosts/);
    expect(r.connections()).toBe(before);
    await createImageStep(ctx(image(`http://${host}`), ['127.0.0.1']));
    expect(r.connections()).toBeGreaterThan(before);
  });

  it('USER_TASK image on a loopback registry: refused without contact; pulled once allowed', async () => {
    const before = r.connections();
    const refused = await userTaskStep(ctx(pull(`${host}/base/busybox`), []));
    expect(refused.error).toMatch(/127\.0\.0\.1.*private\/loopback.*allowPrivateHosts/);
    expect(r.connections()).toBe(before);
    const localhost = await userTaskStep(ctx(pull(`localhost:${r.url.split(':')[2]!.split('/')[0]}/base/busybox`), []));
    expect(localhost.error).toMatch(/private\/loopback/);
    expect(r.connections()).toBe(before);
    await userTaskStep(ctx(pull(`${host}/base/busybox`), ['127.0.0.1']));
    expect(r.connections()).toBeGreaterThan(before);
  }, 60_000);

  it('the engine\'s own configured registry is always allowed (engine.registry.host, e.g. 127.0.0.1:5000)', async () => {
    const before = r.connections();
    await userTaskStep(ctx(pull('base/busybox'), [], host));
    expect(r.connections()).toBeGreaterThan(before);
    const mid = r.connections();
    await createImageStep(ctx(image(null), [], host));
    expect(r.connections()).toBeGreaterThan(mid);
  }, 60_000);
});
