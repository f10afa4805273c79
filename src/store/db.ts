import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { LRUCache } from 'lru-cache';
import { Kysely, PostgresDialect, SqliteDialect, type Generated } from 'kysely';
import pg from 'pg';

/**
 * Table shapes. Times are epoch milliseconds (bigint-safe numbers) so that SQLite and
 * PostgreSQL store and compare them the same way. JSON columns are text.
 */
export interface BuildTable {
  id: Generated<number>;
  name: string;
  description: string | null;
  account_seq: number | null;
  registry_name: string | null;
  registry_project_id: number | null;
  external_registry_seq: number | null;
  image_name: string | null;
  tag_name: string | null;
  autotag_use: number;
  autotag_prefix: string | null;
  autotag_seq_type: string | null;
  build_server_host: string | null;
  build_server_tls_verify: number;
  /** JSON: buildServerCacrt / buildServerClientCert / buildServerClientKey. Never returned. */
  secrets: string;
  next_build_no: number;
  created_at: number;
  updated_at: number;
}
export interface BuildStepTable {
  id: Generated<number>;
  build_id: number;
  step_order: number;
  step_type: string;
  use_flag: number;
  /** JSON config without secret fields. */
  config: string;
  /** JSON of the secret fields only. */
  secrets: string;
}
export interface BuildRunTable {
  id: Generated<number>;
  build_id: number;
  build_no: number;
  run_type: string;
  state: string;
  description: string | null;
  tag_name: string | null;
  callback_url: string | null;
  callback_status: string | null;
  image_url: string | null;
  image_size: number | null;
  image_digest: string | null;
  trigger: string;
  triggered_by: string | null;
  source_revision: string | null;
  error_message: string | null;
  begin_time: number | null;
  end_time: number | null;
  created_at: number;
  /** Highest log sequence number stored for this run. */
  last_seq: number;
}
export interface StepRunTable {
  id: Generated<number>;
  run_id: number;
  build_step_id: number | null;
  step_order: number;
  step_type: string;
  title: string | null;
  state: string;
  use_flag: number;
  config: string;
  begin_time: number | null;
  end_time: number | null;
  error_message: string | null;
}
export interface LogLineTable {
  run_id: number;
  seq: number;
  step_run_id: number | null;
  stream: string;
  time: number;
  text: string;
  /** 1 on a piece of a long line that continues the previous one. */
  continued: number;
}
export interface ImageTagTable {
  id: Generated<number>;
  build_id: number;
  run_id: number | null;
  tag: string;
  image_name: string | null;
  image_url: string | null;
  registry_image_path: string | null;
  registry_name: string | null;
  digest: string | null;
  size: number | null;
  begin_time: number | null;
  end_time: number | null;
}
export interface Database {
  builds: BuildTable;
  build_steps: BuildStepTable;
  build_runs: BuildRunTable;
  step_runs: StepRunTable;
  log_lines: LogLineTable;
  image_tags: ImageTagTable;
}

export type Dialect = 'sqlite' | 'postgres';
export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  url: string;
  /** Raw handles for the log-ingestion hot path (prepared statements / multi-row inserts). */
  sqlite?: SQLite.Database;
  pgPool?: pg.Pool;
  close(): Promise<void>;
}

/** Opens the store named by a URL: `sqlite:<file>` / `sqlite::memory:` or `postgres://...`. */
export function openStore(url: string, opts: { pgSchema?: string } = {}): Store {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const pool = new pg.Pool({
      connectionString: url,
      max: 10,
      // A schema per test run keeps parallel test files apart.
      ...(opts.pgSchema ? { options: `-c search_path=${opts.pgSchema}` } : {}),
    });
    // BIGINT comes back as string by default; our values (ms times, ids) fit in a double.
    pg.types.setTypeParser(20, (v) => Number(v));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: 'postgres', url, pgPool: pool, close: () => db.destroy() };
  }
  if (!url.startsWith('sqlite:')) throw new Error(`database.url must start with sqlite: or postgres:// (got ${url.split(':')[0]}:)`);
  const file = url.slice('sqlite:'.length);
  if (file !== ':memory:') privateDbFile(file);
  const sqlite = new SQLite(file);
  // WAL + NORMAL: durable across a process kill (the OS has the pages), fast for log ingestion.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  return { db, dialect: 'sqlite', url, sqlite, close: () => db.destroy() };
}

/**
 * The store holds credentials (sealed) and the audit log: readable by its owner only. A new
 * file is created 0600 before SQLite opens it (SQLite gives its -wal and -shm files the
 * database file's mode); files created by earlier versions with 0644 are narrowed.
 */
function privateDbFile(file: string): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      if ((fs.statSync(f).mode & 0o077) !== 0) fs.chmodSync(f, 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}

/**
 * Kysely's SQLite driver prepares every query afresh; better-sqlite3 statements are reusable,
 * and Kysely runs one query at a time on its single connection, so a statement is never used
 * by two queries at once. Preparing costs more than running a small indexed read.
 */
function withStatementCache(sqlite: SQLite.Database, max = 500): SQLite.Database {
  const statements = new LRUCache<string, SQLite.Statement>({ max });
  const prepare = (source: string) => {
    let stmt = statements.get(source);
    if (!stmt) {
      stmt = sqlite.prepare(source);
      statements.set(source, stmt);
    }
    return stmt;
  };
  return new Proxy(sqlite, {
    get: (target, key) => {
      if (key === 'prepare') return prepare;
      const v = Reflect.get(target, key, target) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
