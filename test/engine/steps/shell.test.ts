import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { shellStep } from '../../../src/engine/steps/shell.js';
import type { StepContext } from '../../../src/engine/steps/types.js';
import type { LogSource, ShellConfig } from '../../../src/providers/types.js';

let workspace: string;
beforeEach(async () => { workspace = await mkdtemp(path.join(os.tmpdir(), 'shell-test-')); });
afterEach(async () => { await rm(workspace, { recursive: true, force: true }); });

function context(config: Omit<ShellConfig, 'stepType'>, signal = new AbortController().signal, defaultTimeout = 60) {
  const lines: { stream: LogSource; text: string }[] = [];
  const ctx: StepContext = {
    runKey: 'r1', stepRunKey: 's1', workspace, tempDir: os.tmpdir(), signal, tagName: null,
    config: { stepType: 'SHELL', ...config },
    log: (stream, text) => { lines.push({ stream, text }); },
    build: { imageName: null, registryName: null },
    env: {
      registry: { host: '127.0.0.1:5000', insecure: true }, buildah: { storageDriver: 'vfs', isolation: 'chroot' },
      allowPrivateHosts: [], defaultStepTimeoutSec: defaultTimeout,
    },
  };
  return { ctx, lines };
}

/** Processes of a process group that are still alive (zombies waiting for a reaper count as gone). */
async function liveMembers(pgid: number): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // [state, ppid, pgrp, ...]
    if (Number(fields[2]) === pgid && fields[0] !== 'Z') out.push(Number(name));
  }
  return out;
}

describe('SHELL step', () => {
  it('runs a COMMAND in the workspace and streams stdout and stderr lines with their stream', async () => {
    const { ctx, lines } = context({ shellType: 'COMMAND', command: 'pwd; echo to-err >&2; echo done' });
    const res = await shellStep(ctx);
    expect(res).toEqual({ ok: true });
    expect(lines).toContainEqual({ stream: 'STDOUT', text: await import('node:fs').then((fs) => fs.realpathSync(workspace)) });
    expect(lines).toContainEqual({ stream: 'STDERR', text: 'to-err' });
    expect(lines).toContainEqual({ stream: 'STDOUT', text: 'done' });
    expect(lines[0]!.stream).toBe('SYSTEM');
  });

  it('runs a SCRIPT with sh -e: the first failing command fails the step and names the exit code', async () => {
    const { ctx, lines } = context({ shellType: 'SCRIPT', command: 'echo one > out.txt\nexit_code() { return 3; }\nexit_code\necho never' });
    const res = await shellStep(ctx);
    expect(res.ok).toBe(false);
    expect(res.error).toMatch(/exited with code 3/);
    expect(lines.some((l) => l.text === 'never')).toBe(false);
    expect(await readFile(path.join(workspace, 'out.txt'), 'utf8')).toBe('one\n');
    // the script file lives outside the workspace and is removed
    expect(await readdir(workspace)).toEqual(['out.txt']);
  });

  it('runs the seed-style script (cd, multi-line) successfully', async () => {
    const { ctx, lines } = context({ shellType: 'SCRIPT', command: 'mkdir -p repo\necho ">>> move"\ncd repo\n\ntouch a b\nls' });
    expect(await shellStep(ctx)).toEqual({ ok: true });
    expect(lines.filter((l) => l.stream === 'STDOUT').map((l) => l.text)).toEqual(['>>> move', 'a', 'b']);
  });

  it('honours a #! line in a SCRIPT', async () => {
    const { ctx, lines } = context({ shellType: 'SCRIPT', command: '#!/bin/sh\nfalse\necho still-running' });
    expect(await shellStep(ctx)).toEqual({ ok: true });
    expect(lines).toContainEqual({ stream: 'STDOUT', text: 'still-running' });
  });

  it('fails a COMMAND with a non-zero exit code', async () => {
    const { ctx } = context({ shellType: 'COMMAND', command: 'exit 7' });
    expect(await shellStep(ctx)).toEqual({ ok: false, error: 'SHELL command exited with code 7' });
  });

  it('times out after config.timeout seconds and says so', async () => {
    const { ctx } = context({ shellType: 'COMMAND', command: 'sleep 30', timeout: 1 });
    const t0 = Date.now();
    const res = await shellStep(ctx);
    expect(res).toEqual({ ok: false, error: 'SHELL step timed out after 1s' });
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('uses the engine default timeout when the step sets none', async () => {
    const { ctx } = context({ shellType: 'COMMAND', command: 'sleep 30', timeout: null }, undefined, 1);
    expect((await shellStep(ctx)).error).toBe('SHELL step timed out after 1s');
  });

  it('cancel kills the whole process tree, background children included', async () => {
    const ac = new AbortController();
    const { ctx } = context({ shellType: 'SCRIPT', command: 'echo $$ > sh.pid\nsleep 1000 &\necho $! > bg.pid\nwait' }, ac.signal);
    const running = shellStep(ctx);
    const pidFile = path.join(workspace, 'bg.pid');
    for (let i = 0; i < 100; i++) {
      const txt = await readFile(pidFile, 'utf8').catch(() => '');
      if (txt.endsWith('\n')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const shPid = Number(await readFile(path.join(workspace, 'sh.pid'), 'utf8'));
    const bgPid = Number(await readFile(pidFile, 'utf8'));
    // sh is the group leader (runProcess starts it detached), and the sleep is in its group
    expect(await liveMembers(shPid)).toEqual(expect.arrayContaining([shPid, bgPid]));
    ac.abort();
    expect(await running).toEqual({ ok: false, error: 'SHELL step canceled' });
    for (let i = 0; i < 60 && (await liveMembers(shPid)).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await liveMembers(shPid)).toEqual([]);
  });

  it('refuses an unknown shellType and an empty command', async () => {
    expect((await shellStep(context({ shellType: 'BASH' as never, command: 'true' }).ctx)).error).toMatch(/shellType/);
    expect((await shellStep(context({ shellType: 'COMMAND', command: '  ' }).ctx)).error).toBe('command is empty');
  });
});
