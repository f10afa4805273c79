import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildah, describeFailure, removeContainer, tlsArgs, type BuildahSettings } from '../../src/engine/buildah.js';

/**
 * No network pulls are possible here, so every container test starts from a tiny image
 * built locally: busybox-static copied into a scratch image, its applets installed as
 * symlinks (sh, echo, cat, ls, sleep, ...), pushed to the test registry. About 1 MB.
 */

/** Private buildah storage (vfs, chroot) in a temp dir, so test files never share locks or images. */
export async function tempBuildah(): Promise<{ settings: BuildahSettings; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'buildgate-buildah-'));
  const settings: BuildahSettings = {
    storageDriver: 'vfs', isolation: 'chroot', root: path.join(dir, 'root'), runroot: path.join(dir, 'runroot'),
  };
  return { settings, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

const built = new Map<string, Promise<string>>();

/** Builds and pushes `<registry>/base/busybox:1` once per registry; returns the reference. */
export function busyboxImage(registryHost: string, settings: BuildahSettings): Promise<string> {
  let p = built.get(registryHost);
  if (!p) {
    p = build(registryHost, settings);
    built.set(registryHost, p);
  }
  return p;
}

async function build(registryHost: string, settings: BuildahSettings): Promise<string> {
  const ref = `${registryHost}/base/busybox:1`;
  const name = `busybox-base-${process.pid}-${Date.now()}`;
  const signal = new AbortController().signal;
  const cwd = tmpdir();
  const run = async (what: string, args: string[]) => {
    const r = await buildah(settings, args, { cwd, signal, timeoutMs: 120_000 });
    if (r.exitCode !== 0) throw new Error(describeFailure(what, r, 120_000));
  };
  try {
    await run('from scratch', ['from', '--name', name, 'scratch']);
    await run('copy busybox', ['copy', name, '/bin/busybox', '/bin/busybox']);
    await run('install applets', ['run', '--isolation', settings.isolation, name, '--', '/bin/busybox', '--install', '-s', '/bin']);
    await run('config', ['config', '--env', 'PATH=/bin', '--cmd', '/bin/sh', name]);
    await run('commit', ['commit', name, ref]);
    await run('push', ['push', ...tlsArgs(true), ref]);
  } finally {
    await removeContainer(settings, name, cwd);
  }
  return ref;
}
