import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Database, Dialect } from './db.js';

/** Migrations live in code (one entry per version) so the compiled package needs no loose files. */
function migrations(dialect: Dialect): Record<string, Migration> {
  const id = dialect === 'postgres' ? 'bigserial' : 'integer';
  const big = dialect === 'postgres' ? 'bigint' : 'integer';
  const pk = (c: any) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement());
  return {
    '0001_builds': {
      async up(db: Kysely<any>) {
        await db.schema.createTable('builds')
          .addColumn('id', id, pk)
          .addColumn('name', 'varchar(256)', (c) => c.notNull())
          .addColumn('description', 'text')
          .addColumn('account_seq', 'integer')
          .addColumn('registry_name', 'varchar(256)')
          .addColumn('registry_project_id', 'integer')
          .addColumn('external_registry_seq', 'integer')
          .addColumn('image_name', 'varchar(256)')
          .addColumn('tag_name', 'varchar(256)')
          .addColumn('autotag_use', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('autotag_prefix', 'varchar(128)')
          .addColumn('autotag_seq_type', 'varchar(16)')
          .addColumn('build_server_host', 'varchar(512)')
          .addColumn('build_server_tls_verify', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('secrets', 'text', (c) => c.notNull().defaultTo('{}'))
          .addColumn('next_build_no', 'integer', (c) => c.notNull().defaultTo(1))
          .addColumn('created_at', big, (c) => c.notNull())
          .addColumn('updated_at', big, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('builds_name').on('builds').column('name').execute();
        await db.schema.createTable('build_steps')
          .addColumn('id', id, pk)
          .addColumn('build_id', big, (c) => c.notNull().references('builds.id').onDelete('cascade'))
          .addColumn('step_order', 'integer', (c) => c.notNull())
          .addColumn('step_type', 'varchar(32)', (c) => c.notNull())
          .addColumn('use_flag', 'integer', (c) => c.notNull())
          .addColumn('config', 'text', (c) => c.notNull())
          .addColumn('secrets', 'text', (c) => c.notNull().defaultTo('{}'))
          .execute();
        await db.schema.createIndex('build_steps_build').on('build_steps').columns(['build_id', 'step_order']).execute();
      },
    },
    '0002_runs': {
      async up(db: Kysely<any>) {
        await db.schema.createTable('build_runs')
          .addColumn('id', id, pk)
          .addColumn('build_id', big, (c) => c.notNull().references('builds.id').onDelete('cascade'))
          .addColumn('build_no', 'integer', (c) => c.notNull())
          .addColumn('run_type', 'varchar(16)', (c) => c.notNull())
          .addColumn('state', 'varchar(16)', (c) => c.notNull())
          .addColumn('description', 'text')
          .addColumn('tag_name', 'varchar(256)')
          .addColumn('callback_url', 'text')
          .addColumn('callback_status', 'text')
          .addColumn('image_url', 'text')
          .addColumn('image_size', big)
          .addColumn('image_digest', 'varchar(128)')
          .addColumn('trigger', 'varchar(32)', (c) => c.notNull())
          .addColumn('triggered_by', 'varchar(256)')
          .addColumn('source_revision', 'varchar(128)')
          .addColumn('error_message', 'text')
          .addColumn('begin_time', big)
          .addColumn('end_time', big)
          .addColumn('created_at', big, (c) => c.notNull())
          .addColumn('last_seq', big, (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema.createIndex('build_runs_build').on('build_runs').columns(['build_id', 'build_no']).execute();
        await db.schema.createIndex('build_runs_state').on('build_runs').column('state').execute();
        await db.schema.createTable('step_runs')
          .addColumn('id', id, pk)
          .addColumn('run_id', big, (c) => c.notNull().references('build_runs.id').onDelete('cascade'))
          .addColumn('build_step_id', big)
          .addColumn('step_order', 'integer', (c) => c.notNull())
          .addColumn('step_type', 'varchar(32)', (c) => c.notNull())
          .addColumn('title', 'text')
          .addColumn('state', 'varchar(16)', (c) => c.notNull())
          .addColumn('use_flag', 'integer', (c) => c.notNull())
          .addColumn('config', 'text', (c) => c.notNull())
          .addColumn('begin_time', big)
          .addColumn('end_time', big)
          .addColumn('error_message', 'text')
          .execute();
        await db.schema.createIndex('step_runs_run').on('step_runs').columns(['run_id', 'step_order']).execute();
        await db.schema.createTable('log_lines')
          .addColumn('run_id', big, (c) => c.notNull().references('build_runs.id').onDelete('cascade'))
          .addColumn('seq', big, (c) => c.notNull())
          .addColumn('step_run_id', big)
          .addColumn('stream', 'varchar(8)', (c) => c.notNull())
          .addColumn('time', big, (c) => c.notNull())
          .addColumn('text', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('log_lines_pk', ['run_id', 'seq'])
          // SQLite: one B-tree keyed by (run_id, seq) instead of rowid table + PK index: half the
          // writes per line on the ingestion hot path. Per-step reads scan the run's range.
          .$call((b) => (dialect === 'sqlite' ? b.modifyEnd(sql`without rowid`) : b))
          .execute();
        await db.schema.createTable('image_tags')
          .addColumn('id', id, pk)
          .addColumn('build_id', big, (c) => c.notNull().references('builds.id').onDelete('cascade'))
          .addColumn('run_id', big)
          .addColumn('tag', 'varchar(256)', (c) => c.notNull())
          .addColumn('image_name', 'varchar(256)')
          .addColumn('image_url', 'text')
          .addColumn('registry_image_path', 'text')
          .addColumn('registry_name', 'varchar(256)')
          .addColumn('digest', 'varchar(128)')
          .addColumn('size', big)
          .addColumn('begin_time', big)
          .addColumn('end_time', big)
          .execute();
        await db.schema.createIndex('image_tags_build').on('image_tags').column('build_id').execute();
      },
    },
    '0003_auth_audit': {
      async up(db: Kysely<any>) {
        await db.schema.createTable('api_keys')
          .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
          .addColumn('name', 'varchar(256)')
          .addColumn('key_hash', 'varchar(64)', (c) => c.notNull().unique())
          .addColumn('role', 'varchar(16)', (c) => c.notNull())
          .addColumn('providers', 'text') // JSON array; null: every provider
          .addColumn('created_at', big, (c) => c.notNull())
          .addColumn('revoked_at', big)
          .execute();
        await db.schema.createTable('audit_log')
          .addColumn('id', id, pk)
          .addColumn('time', big, (c) => c.notNull())
          .addColumn('actor', 'varchar(300)', (c) => c.notNull())
          .addColumn('operation', 'varchar(128)', (c) => c.notNull())
          .addColumn('target_id', 'text')
          .addColumn('args', 'text', (c) => c.notNull()) // JSON, secrets removed
          .addColumn('outcome', 'varchar(64)', (c) => c.notNull()) // OK or an error code
          .addColumn('request_id', 'varchar(64)')
          .execute();
      },
    },
    '0004_log_continued': {
      async up(db: Kysely<any>) {
        // 1 on a piece of a long line that continues the previous piece.
        await db.schema.alterTable('log_lines').addColumn('continued', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      },
    },
    '0005_secret_envs': {
      // USER_TASK env values became secrets: move stored values out of the public config into
      // the secrets column (still plain JSON here; sealed by the start that follows) and drop
      // them from run snapshots, which never need them (the engine runs the build's steps).
      async up(db: Kysely<any>) {
        const steps = await db.selectFrom('build_steps').select(['id', 'config', 'secrets']).where('step_type', '=', 'USER_TASK').execute();
        for (const s of steps as Array<{ id: number; config: string; secrets: string }>) {
          const moved = legacyEnvsMoved(s.config, s.secrets);
          if (moved) await db.updateTable('build_steps').set(moved).where('id', '=', s.id).execute();
        }
        const runs = await db.selectFrom('step_runs').select(['id', 'config']).where('step_type', '=', 'USER_TASK').execute();
        for (const r of runs as Array<{ id: number; config: string }>) {
          const moved = legacyEnvsMoved(r.config, '{}');
          if (moved) await db.updateTable('step_runs').set({ config: moved.config }).where('id', '=', r.id).execute();
        }
      },
    },
    '0006_run_resources': {
      // Step process groups and run temp dirs per host (store/run-resources.ts).
      async up(db: Kysely<any>) {
        await db.schema.createTable('run_resources').ifNotExists()
          .addColumn('id', id, pk)
          .addColumn('host', 'varchar(256)', (c) => c.notNull())
          .addColumn('boot_id', 'varchar(64)', (c) => c.notNull())
          .addColumn('owner_pid', 'integer', (c) => c.notNull())
          .addColumn('owner_start', 'varchar(32)', (c) => c.notNull())
          .addColumn('run_id', big, (c) => c.notNull())
          .addColumn('pgid', 'integer')
          .addColumn('pg_start', 'varchar(32)')
          .addColumn('path', 'text')
          .addColumn('created_at', big, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('run_resources_host').ifNotExists().on('run_resources').column('host').execute();
      },
    },
    '0007_read_indexes': {
      async up(db: Kysely<any>) {
        // Per-build pages and a build's latest run are index seeks however many runs it has.
        // (if not exists: a store whose migration record was rolled back keeps its indexes)
        await db.schema.createIndex('build_runs_build_id').ifNotExists().on('build_runs').columns(['build_id', 'id']).execute();
        await db.schema.createIndex('build_runs_build_type_id').ifNotExists().on('build_runs').columns(['build_id', 'run_type', 'id']).execute();
        await db.schema.createIndex('image_tags_run').ifNotExists().on('image_tags').column('run_id').execute();
      },
    },
    '0009_scale_indexes': {
      async up(db: Kysely<any>) {
        // BuildsList at 10,000 builds / 1,000,000 runs (bench/read-scale.mjs). A page sorted by name
        // reads its rows in the order of this index and stops at the page's end, instead of sorting
        // every build; the expression is the sort value of build-store.ts's list, as each dialect runs it.
        await sql`create index if not exists builds_sort_name on builds (${sql.raw(dialect === 'postgres' ? '(lower(name) collate "C")' : 'lower(name)')}, id)`.execute(db);
        // Statistics aggregate a build's runs from the index alone (no row read per run). It leads with
        // (build_id, run_type, id), so it also seeks a build's latest run, and replaces the index of 0007
        // with those columns: with both, SQLite was seen picking the wrong one and sorting every run.
        await db.schema.createIndex('build_runs_stats').ifNotExists().on('build_runs')
          .columns(['build_id', 'run_type', 'id', 'state', 'begin_time', 'end_time', 'image_size']).execute();
        await db.schema.dropIndex('build_runs_build_type_id').ifExists().execute();
      },
    },
  };
}

/** A USER_TASK config's env values from before they were secrets, moved to the secrets JSON; null when none. */
function legacyEnvsMoved(configJson: string, secretsJson: string): { config: string; secrets: string } | null {
  let config: { envs?: Array<{ key: string; value?: string | null; secret?: boolean | null }> | null };
  let secrets: { fields?: object; headers?: object; envs?: Record<string, string> };
  try { config = JSON.parse(configJson); secrets = JSON.parse(secretsJson); } catch { return null; }
  const legacy = (config.envs ?? []).filter((e) => e.secret === undefined || e.secret === null);
  if (!legacy.length) return null;
  const envs = { ...secrets.envs };
  for (const e of legacy) {
    if (e.value) envs[e.key] = e.value;
    e.value = '';
    e.secret = true;
  }
  return { config: JSON.stringify(config), secrets: JSON.stringify({ fields: {}, headers: {}, ...secrets, envs }) };
}

/** Brings the store to the newest schema version; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<Database>, dialect: Dialect): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) };
  // Kysely looks for its migration tables in every schema unless told which: a store in one
  // PostgreSQL schema would take another schema's tables for its own (seen with parallel tests).
  const schema = dialect === 'postgres' ? String((await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]?.s) : undefined;
  const { error, results } = await new Migrator({
    db, provider, migrationTableName: 'bg_migrations', migrationLockTableName: 'bg_migrations_lock', ...(schema ? { migrationTableSchema: schema } : {}),
  }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Store migration ${failed} failed: ${(error as Error).message ?? String(error)}`);
  }
}

export { sql };
