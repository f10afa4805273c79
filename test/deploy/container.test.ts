import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildah, describeFailure, removeContainer, storageArgs } from '../../src/engine/buildah.js';
import { closedPort } from '../support/ports.js';
import { tempBuildah } from '../support/busybox-image.js';

/**
 * The container image of Containerfile, built the way docs/deploy.md says (context from
 * scripts/image-context.mjs, `buildah bud`), then its entry point started and asked for
 * /healthz. Needs `npm run build` (dist/) first. Several minutes on a loaded machine: the
 * context is ~250 MB, and vfs storage copies it for the layer and again for the container.
 */
const BUILD_MS = 15 * 60_000;

describe('container image', () => {
  let storage: Awaited<ReturnType<typeof tempBuildah>>;
  let context: string;
  const image = `localhost/buildgate:test-${process.pid}`;
  const container = `buildgate-image-test-${process.pid}`;
  const signal = new AbortController().signal;
  const cwd = os.tmpdir();
  const run = async (what: string, args: string[]) => {
    const out: string[] = [];
    const r = await buildah(storage.settings, args, { cwd, signal, timeoutMs: BUILD_MS, onLine: (stream, text) => { if (stream === 'STDOUT') out.push(text); } });
    if (r.exitCode !== 0) throw new Error(describeFailure(what, r, BUILD_MS));
    return out.join('\n');
  };

  beforeAll(async () => {
    expect(fs.existsSync('dist/src/cli.js')).toBe(true); // npm run build first
    storage = await tempBuildah();
    context = fs.mkdtempSync(path.join(os.tmpdir(), 'buildgate-image-ctx-'));
    const made = spawnSync(process.execPath, ['scripts/image-context.mjs', context], { encoding: 'utf8', timeout: BUILD_MS });
    if (made.status !== 0) throw new Error(`image-context failed: ${made.stderr}`);
    await run('building the image', ['bud', '--isolation', storage.settings.isolation, '--format', 'docker', '-f', path.resolve('Containerfile'), '-t', image, context]);
  }, BUILD_MS);
  afterAll(async () => {
    if (storage) {
      await removeContainer(storage.settings, container, cwd).catch(() => undefined);
      await storage.cleanup();
    }
    if (context) fs.rmSync(context, { recursive: true, force: true });
  }, 120_000);

  it('runs as a non-root user with a data volume, a healthcheck and the CLI as entry point', async () => {
    const inspected = JSON.parse(await run('inspecting the image', ['inspect', '--type', 'image', image]));
    const config = inspected.Docker.config;
    expect(config.User).toBe('10001:10001');
    expect(Object.keys(config.Volumes ?? {})).toEqual(['/data']);
    expect(config.Entrypoint).toEqual(['/usr/local/bin/node', '/app/dist/src/cli.js']);
    expect(config.Cmd).toEqual(['serve']);
    expect(config.Healthcheck.Test[0]).toBe('CMD');
    expect(config.Env).toEqual(expect.arrayContaining(['BUILDGATE_DATABASE__URL=sqlite:/data/buildgate.db', 'BUILDGATE_SERVER__HOST=0.0.0.0']));
  });

  it('starts its entry point, which answers /healthz, and its healthcheck passes', async () => {
    const inspected = JSON.parse(await run('inspecting the image', ['inspect', '--type', 'image', image]));
    const { Entrypoint, Cmd, Healthcheck } = inspected.Docker.config as { Entrypoint: string[]; Cmd: string[]; Healthcheck: { Test: string[] } };
    await run('creating the container', ['from', '--name', container, image]);
    const port = await closedPort();
    // chroot isolation shares the host's network: the server is reachable on 127.0.0.1.
    const env = ['--env', `BUILDGATE_SERVER__PORT=${port}`];
    const server = spawn('buildah', [...storageArgs(storage.settings), 'run', '--isolation', storage.settings.isolation, ...env, container, '--', ...Entrypoint, ...Cmd], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    server.stdout!.on('data', (d) => { output += d; });
    server.stderr!.on('data', (d) => { output += d; });
    try {
      const deadline = Date.now() + 120_000;
      let status = 0;
      while (Date.now() < deadline && server.exitCode === null) {
        status = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, () => 0);
        if (status === 200) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      if (status !== 200) throw new Error(`the image's entry point did not answer /healthz (exit ${server.exitCode}): ${output.slice(-2000)}`);
      expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()).toEqual({ status: 'ok' });
      // The store was created on the volume by the service user.
      const owner = await run('reading the volume', ['run', '--isolation', storage.settings.isolation, container, '--', '/usr/local/bin/node', '-e',
        "const s=require('fs').statSync('/data/buildgate.db');console.log(process.getuid()+' '+s.uid)"]);
      expect(owner.trim()).toBe('10001 10001');
      // The image's own healthcheck command, run in the same container.
      await run('running the healthcheck', ['run', '--isolation', storage.settings.isolation, ...env, container, '--', ...Healthcheck.Test.slice(1)]);
    } finally {
      if (server.exitCode === null) {
        process.kill(-server.pid!, 'SIGTERM');
        await new Promise((r) => server.once('exit', r));
      }
    }
  }, 300_000);
});
