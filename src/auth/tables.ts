import type { Kysely } from 'kysely';
import type { Database, Store } from '../store/db.js';

/** Tables of migration 0003_auth_audit, kept beside the code that uses them. */
export interface ApiKeyTable {
  id: string;
  name: string | null;
  /** sha256 hex of the whole key: keys are 256-bit random, so a fast hash is enough. */
  key_hash: string;
  role: string;
  /** JSON array of provider instance ids; null: every provider. */
  providers: string | null;
  created_at: number;
  revoked_at: number | null;
}
export interface AuditLogTable {
  id: import('kysely').Generated<number>;
  time: number;
  actor: string;
  operation: string;
  target_id: string | null;
  args: string;
  outcome: string;
  request_id: string | null;
}
export interface AuthDatabase extends Database {
  api_keys: ApiKeyTable;
  audit_log: AuditLogTable;
}

export const authDb = (store: Store) => store.db as unknown as Kysely<AuthDatabase>;
