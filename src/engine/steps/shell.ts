import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import path from 'node:path';
import type { ShellConfig } from '../../model.js';
import { runProcess } from '../process.js';
import { checkStepConfig } from './rules.js';
import type { StepExecutor } from './types.js';

/**
 * SHELL step: runs in the run's workspace, as the gateway's user (no container).
 *
 * - `COMMAND`: one command line, `/bin/sh -c <command>`; its exit status decides.
 * - `SCRIPT`: the text is written to a file in the run's temp dir, outside the workspace (so
 *   it never ends up in an image built from the workspace) and run as `/bin/sh -e <file>`: like
 *   Jenkins and GitLab shell steps, the first failing command fails the step, so a broken
 *   `cd repo` cannot let later lines run in the wrong place. A script that starts with a
 *   `#!` line is executed directly and picks its own interpreter and options.
 *
 * Timeout: `timeout` seconds, or the engine's `defaultStepTimeoutSec` when unset or 0.
 * Cancel and timeout kill the whole process group (background children included).
 */
export const shellStep: StepExecutor = async (ctx) => {
  const cfg = ctx.config as ShellConfig;
  try {
    checkStepConfig(cfg);
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
  const timeoutSec = cfg.timeout && cfg.timeout > 0 ? cfg.timeout : ctx.env.defaultStepTimeoutSec;

  let tmpDir: string | null = null;
  try {
    let cmd = '/bin/sh';
    let args: string[];
    if (cfg.shellType === 'COMMAND') {
      args = ['-c', cfg.command];
      ctx.log('SYSTEM', `SHELL command (timeout ${timeoutSec}s): ${firstLine(cfg.command)}`);
    } else {
      tmpDir = await mkdtemp(path.join(ctx.tempDir, 'shell-'));
      const file = path.join(tmpDir, 'script');
      await writeFile(file, cfg.command.endsWith('\n') ? cfg.command : cfg.command + '\n', { mode: 0o700 });
      if (cfg.command.startsWith('#!')) {
        await chmod(file, 0o700);
        cmd = file;
        args = [];
      } else {
        args = ['-e', file];
      }
      const lines = cfg.command.split('\n').length;
      ctx.log('SYSTEM', `SHELL script of ${lines} line(s) run by ${cmd === file ? 'its #! interpreter' : '/bin/sh -e'} (timeout ${timeoutSec}s)`);
    }

    const res = await runProcess(cmd, args, {
      cwd: ctx.workspace,
      signal: ctx.signal,
      timeoutMs: timeoutSec > 0 ? timeoutSec * 1000 : 0,
      onLine: ctx.log,
    });
    if (res.aborted) return { ok: false, error: 'SHELL step canceled' };
    if (res.timedOut) return { ok: false, error: `SHELL step timed out after ${timeoutSec}s` };
    if (res.exitCode !== 0) {
      const why = res.exitCode === null ? `was killed by ${res.signal}` : `exited with code ${res.exitCode}`;
      return { ok: false, error: `SHELL ${cfg.shellType === 'SCRIPT' ? 'script' : 'command'} ${why}` };
    }
    return { ok: true };
  } catch (e) {
    return { ok: false, error: `SHELL step could not start: ${(e as Error).message}` };
  } finally {
    if (tmpDir) await rm(tmpDir, { recursive: true, force: true });
  }
};

function firstLine(text: string): string {
  const line = text.split('\n')[0]!;
  return line.length > 200 ? line.slice(0, 200) + '…' : line;
}
