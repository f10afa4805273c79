import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Store } from '../store/db.js';
import { isRole, type Role } from './principal.js';
import { authDb } from './tables.js';

/** What `keys list` shows: never the key nor its hash. */
export interface ApiKeyInfo {
  id: string;
  name: string | null;
  role: Role;
  providers: string[] | null;
  createdAt: Date;
  revokedAt: Date | null;
}

const PREFIX = 'bgk_';

/**
 * Revocations made in this process ('revoked', keyId): open websockets of the key are closed
 * at once. Revocations by other processes (the CLI, other replicas) are found by the
 * transport's periodic re-check.
 */
export const keyRevocations = new EventEmitter<{ revoked: [string] }>();
keyRevocations.setMaxListeners(0); // one listener per gateway in this process (tests start many)
const hash = (key: string) => createHash('sha256').update(key, 'utf8').digest('hex');

/**
 * API keys: `bgk_<id>_<43 chars of 256 random bits>`. Only the sha256 of the key is stored,
 * so a copy of the database does not give working keys; the key itself is shown once.
 */
export class ApiKeys {
  constructor(private readonly store: Store) {}

  async create(opts: { role: Role; name?: string | null; providers?: string[] | null }): Promise<{ key: string; info: ApiKeyInfo }> {
    if (!isRole(opts.role)) throw new Error(`role must be one of viewer, operator, admin (got ${String(opts.role)})`);
    const id = randomBytes(6).toString('hex');
    const key = `${PREFIX}${id}_${randomBytes(32).toString('base64url')}`;
    const now = Date.now();
    const providers = opts.providers?.length ? [...new Set(opts.providers)] : null;
    await authDb(this.store).insertInto('api_keys').values({
      id, name: opts.name ?? null, key_hash: hash(key), role: opts.role,
      providers: providers ? JSON.stringify(providers) : null, created_at: now, revoked_at: null,
    }).execute();
    return { key, info: { id, name: opts.name ?? null, role: opts.role, providers, createdAt: new Date(now), revokedAt: null } };
  }

  async list(): Promise<ApiKeyInfo[]> {
    const rows = await authDb(this.store).selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(toInfo);
  }

  /** Returns false when no such key exists; revoking twice keeps the first time. */
  async revoke(id: string): Promise<boolean> {
    const db = authDb(this.store);
    const row = await db.selectFrom('api_keys').select(['id', 'revoked_at']).where('id', '=', id).executeTakeFirst();
    if (!row) return false;
    if (row.revoked_at == null) await db.updateTable('api_keys').set({ revoked_at: Date.now() }).where('id', '=', id).execute();
    keyRevocations.emit('revoked', id);
    return true;
  }

  /** Those of `ids` that are revoked or no longer exist. */
  async goneAmong(ids: readonly string[]): Promise<string[]> {
    const ok = new Set<string>();
    // In chunks: SQLite and PostgreSQL bound the parameters of one statement.
    for (let i = 0; i < ids.length; i += 500) {
      const live = await authDb(this.store).selectFrom('api_keys').select('id').where('id', 'in', ids.slice(i, i + 500)).where('revoked_at', 'is', null).execute();
      for (const r of live) ok.add(r.id);
    }
    return ids.filter((id) => !ok.has(id));
  }

  /** The key's record when it is a live key; null for unknown, malformed or revoked keys. */
  async verify(key: string): Promise<ApiKeyInfo | null> {
    if (!key.startsWith(PREFIX) || key.length > 100) return null;
    const row = await authDb(this.store).selectFrom('api_keys').selectAll().where('key_hash', '=', hash(key)).executeTakeFirst();
    if (!row || row.revoked_at != null) return null;
    return toInfo(row);
  }

  static looksLikeKey(token: string): boolean {
    return token.startsWith(PREFIX);
  }
}

function toInfo(r: { id: string; name: string | null; role: string; providers: string | null; created_at: number; revoked_at: number | null }): ApiKeyInfo {
  return {
    id: r.id, name: r.name, role: isRole(r.role) ? r.role : 'viewer',
    providers: r.providers ? (JSON.parse(r.providers) as string[]) : null,
    createdAt: new Date(Number(r.created_at)), revokedAt: r.revoked_at == null ? null : new Date(Number(r.revoked_at)),
  };
}
