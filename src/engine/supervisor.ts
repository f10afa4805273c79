import { AsyncLocalStorage } from 'node:async_hooks';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Store } from '../store/db.js';
import { addRunResource, deleteRunResource, runResourcesOfHost, type StoredRunResource } from '../store/run-resources.js';

/**
 * Supervision of what steps leave on a machine. Node has no PR_SET_PDEATHSIG: a step's
 * process group (spawned detached so cancel can kill the whole tree) outlives a gateway or
 * agent killed with -9. So every group and every run temp dir is recorded in the store
 * (host, owner process, pgid and start time) while it exists; at start, rows of this host
 * whose owner process is gone are acted on: the group is killed if it is still the same
 * group (same leader start time: a reused pid is left alone), the temp dir removed.
 */

/** Field 22 of /proc/<pid>/stat: start time in clock ticks after boot; null when no such process. */
export function processStart(pid: number): string | null {
  return statFields(pid)?.[19] ?? null;
}

/** The fields after `comm` (which may hold spaces and parens): index 0 is field 3 (state). */
function statFields(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

function readBootId(): string {
  try { return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(); } catch { return 'unknown'; }
}

const self = { host: os.hostname(), boot_id: readBootId(), owner_pid: process.pid, owner_start: processStart(process.pid) ?? '0' };

/**
 * Whether the group `pgid` whose leader started at `start` still exists. The kernel never
 * hands out a pid that is still some group's id, so while any member lives the id is ours;
 * when the leader is gone its members (same group and session: detached = setsid) are found
 * by a scan of /proc, started no earlier than the leader.
 */
function groupAlive(pgid: number, start: string): boolean {
  const leader = processStart(pgid);
  if (leader !== null) return leader === start;
  let entries: string[];
  try { entries = readdirSync('/proc'); } catch { return false; }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const f = statFields(Number(e));
    // f[2] pgrp, f[3] session, f[19] starttime
    if (f && Number(f[2]) === pgid && Number(f[3]) === pgid && BigInt(f[19] ?? '0') >= BigInt(start)) return true;
  }
  return false;
}

/** Kills the group if it is still the recorded one; true when a kill was sent. */
export function killGroupIfSame(pgid: number, start: string): boolean {
  if (!groupAlive(pgid, start)) return false;
  try {
    process.kill(-pgid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

interface StepScope { supervisor: Supervisor; runRowId: number }
const scope = new AsyncLocalStorage<StepScope>();

export class Supervisor {
  constructor(private readonly store: Store, private readonly logger: Logger) {}

  /** Runs a step so that the processes it spawns (runProcess) are recorded as the run's. */
  within<T>(runRowId: number, fn: () => Promise<T>): Promise<T> {
    return scope.run({ supervisor: this, runRowId }, fn);
  }

  /**
   * Called by runProcess right after spawning a detached group: records it for the step
   * running in this async context (none: not recorded). Returns the release to call once
   * the group is gone.
   */
  static track(pgid: number): () => Promise<void> {
    const s = scope.getStore();
    const start = processStart(pgid);
    if (!s || start === null) return async () => undefined;
    const id = addRunResource(s.supervisor.store, { ...self, run_id: s.runRowId, pgid, pg_start: start, path: null });
    id.catch((e: Error) => s.supervisor.logger.warn({ err: e, pgid }, 'could not record a step process group'));
    return async () => {
      const n = await id.catch(() => null);
      if (n !== null) await deleteRunResource(s.supervisor.store, n).catch(() => undefined);
    };
  }

  /** A fresh temp dir for one run under `root` (outside the workspace), recorded until released. */
  async tempDir(root: string, runRowId: number): Promise<{ path: string; release(): Promise<void> }> {
    await mkdir(root, { recursive: true });
    const dir = await mkdtemp(path.join(root, `run-${runRowId}-`));
    const id = await addRunResource(this.store, { ...self, run_id: runRowId, pgid: null, pg_start: null, path: dir });
    return {
      path: dir,
      release: async () => {
        await rm(dir, { recursive: true, force: true });
        await deleteRunResource(this.store, id);
      },
    };
  }

  /**
   * Kills the step process groups and removes the temp dirs that processes of this host
   * left behind when they died (another gateway or agent that still runs here keeps its own).
   */
  async reap(): Promise<{ killed: number; removed: number }> {
    let killed = 0;
    let removed = 0;
    for (const r of await runResourcesOfHost(this.store, self.host)) {
      if (!ownerGone(r)) continue;
      if (r.pgid !== null && r.pg_start !== null && r.boot_id === self.boot_id && killGroupIfSame(r.pgid, r.pg_start)) killed++;
      if (r.path !== null) { await rm(r.path, { recursive: true, force: true }); removed++; }
      await deleteRunResource(this.store, r.id);
    }
    if (killed || removed) this.logger.warn({ killed, removed }, 'ended step processes and removed temp dirs left by a process that died');
    return { killed, removed };
  }
}

function ownerGone(r: StoredRunResource): boolean {
  if (r.boot_id !== self.boot_id) return true;
  if (r.owner_pid === self.owner_pid && r.owner_start === self.owner_start) return false;
  return processStart(r.owner_pid) !== r.owner_start;
}
