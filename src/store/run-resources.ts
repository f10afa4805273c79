import type { Generated, Kysely } from 'kysely';
import type { Database, Store } from './db.js';

/**
 * Table of migration 0004_run_resources: what a running step holds on a machine and must not
 * outlive the process (gateway or agent) that started it — a step's process group, or a run's
 * temp dir. A row is written when the resource is made and deleted when it is released; rows
 * left by a process that died are what the next start on that host kills and removes.
 */
export interface RunResourceTable {
  id: Generated<number>;
  /** The machine: hostname, and the kernel's boot id (pids and start times mean nothing across a reboot). */
  host: string;
  boot_id: string;
  /** The gateway or agent process that owns it, with its start time (clock ticks after boot, /proc/<pid>/stat). */
  owner_pid: number;
  owner_start: string;
  run_id: number;
  /** A process group (its leader's pid) and the leader's start time; null for a temp dir row. */
  pgid: number | null;
  pg_start: string | null;
  /** A temp dir to remove; null for a process group row. */
  path: string | null;
  created_at: number;
}
interface ResourceDatabase extends Database {
  run_resources: RunResourceTable;
}
export type RunResource = Omit<RunResourceTable, 'id' | 'created_at'>;
export type StoredRunResource = RunResource & { id: number };

const db = (store: Store) => store.db as unknown as Kysely<ResourceDatabase>;

export async function addRunResource(store: Store, r: RunResource): Promise<number> {
  const row = await db(store).insertInto('run_resources').values({ ...r, created_at: Date.now() }).returning('id').executeTakeFirstOrThrow();
  return Number(row.id);
}

export async function deleteRunResource(store: Store, id: number): Promise<void> {
  await db(store).deleteFrom('run_resources').where('id', '=', id).execute();
}

export async function runResourcesOfHost(store: Store, host: string): Promise<StoredRunResource[]> {
  const rows = await db(store).selectFrom('run_resources').selectAll().where('host', '=', host).orderBy('id').execute();
  return rows.map(({ created_at: _c, ...r }) => ({ ...r, id: Number(r.id), owner_pid: Number(r.owner_pid), run_id: Number(r.run_id), pgid: r.pgid === null ? null : Number(r.pgid) }));
}
