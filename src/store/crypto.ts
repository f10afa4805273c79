import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { LRUCache } from 'lru-cache';
import { maskUrl } from '../secrets/mask.js';
import type { Database } from './db.js';

/**
 * Secrets at rest: the `secrets` columns of `builds` and `build_steps`, and a
 * `build_runs.callback_url` carrying credentials, hold
 * `bgenc:v1:<key id>:<base64 iv|tag|ciphertext>` (AES-256-GCM). The key id (first 8 hex
 * digits of the key's SHA-256) says which key sealed a value, so values sealed with a
 * previous key still open while the store is re-sealed with the current one.
 */
const PREFIX = 'bgenc:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface SecretsKeyOptions {
  /** Current key: base64 of 32 bytes. */
  key?: string | undefined;
  /** Keys values may still be sealed with (rotation): base64 of 32 bytes each. */
  previousKeys?: readonly string[] | undefined;
  /** Key file used when no key is given; generated (mode 0600) when missing. */
  keyFile?: string | undefined;
}

const keyId = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 8);

function decodeKey(b64: string, what: string): Buffer {
  const key = Buffer.from(b64.trim(), 'base64');
  if (key.length !== 32) throw new Error(`${what} must be the base64 of 32 bytes (got ${key.length} bytes)`);
  return key;
}

export class SecretBox {
  readonly keyId: string;
  private readonly keys = new Map<string, Buffer>();
  /**
   * Opened values by sealed text (a fresh IV per write makes the sealed text change with the
   * value, so an entry never goes stale). A decipher costs ~10× the JSON parse it precedes,
   * and list reads open every step row; the engine holds these values in memory anyway.
   */
  private readonly opened = new LRUCache<string, string>({ max: 20_000 });

  constructor(key: Buffer, previous: readonly Buffer[] = []) {
    this.keyId = keyId(key);
    this.keys.set(this.keyId, key);
    for (const k of previous) if (!this.keys.has(keyId(k))) this.keys.set(keyId(k), k);
  }

  /** `context` names the column: a value moved to another column does not open there. */
  seal(plain: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.keyId)!, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${PREFIX}${this.keyId}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  /** Opens a sealed value; a value stored before encryption (plain JSON) is returned as it is. */
  open(stored: string, context: string): string {
    if (!stored.startsWith(PREFIX)) return stored;
    const cacheKey = `${context}\n${stored}`;
    const hit = this.opened.get(cacheKey);
    if (hit !== undefined) return hit;
    const [id, data] = stored.slice(PREFIX.length).split(':', 2) as [string, string | undefined];
    const key = this.keys.get(id);
    if (!key || data === undefined) throw new Error(`a ${context} value is sealed with key ${id}, which is neither secrets.key nor in secrets.previousKeys`);
    const raw = Buffer.from(data, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    const plain = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    this.opened.set(cacheKey, plain);
    return plain;
  }

  /** True when the value is sealed with the current key (nothing to do on re-sealing). */
  isCurrent(stored: string): boolean {
    return stored.startsWith(`${PREFIX}${this.keyId}:`);
  }

  /** The SQL LIKE pattern of values sealed with the current key. */
  get currentPattern(): string {
    return `${PREFIX}${this.keyId}:%`;
  }
}

/** Where the generated key lives by default: beside a SQLite file, else in ./data. */
export function defaultKeyFile(databaseUrl: string): string | null {
  if (databaseUrl === 'sqlite::memory:') return null;
  if (databaseUrl.startsWith('sqlite:')) return path.join(path.dirname(path.resolve(databaseUrl.slice('sqlite:'.length))), 'secrets.key');
  return path.resolve('data', 'secrets.key');
}

function createKeyFile(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // Written aside, then linked into place: of two processes starting on an empty directory,
  // one key wins whole and both read it (never a half-written file).
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  fs.writeFileSync(tmp, `${randomBytes(32).toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
  try {
    fs.linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * The key in use: `secrets.key` when configured, else the key file (created with a new
 * random key, mode 0600, when absent; an in-memory store gets a key for its lifetime).
 */
export function loadSecretBox(opts: SecretsKeyOptions, databaseUrl: string): SecretBox {
  const previous = (opts.previousKeys ?? []).map((k, i) => decodeKey(k, `secrets.previousKeys[${i}]`));
  if (opts.key) return new SecretBox(decodeKey(opts.key, 'secrets.key'), previous);
  const file = opts.keyFile ? path.resolve(opts.keyFile) : defaultKeyFile(databaseUrl);
  if (!file) return new SecretBox(randomBytes(32), previous);
  try {
    if (!fs.existsSync(file)) createKeyFile(file);
  } catch (e) {
    throw new Error(`secrets: cannot create the key file ${file} (${(e as Error).message}); set secrets.key or secrets.keyFile`);
  }
  if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600); // a key file readable by others protects nothing
  return new SecretBox(decodeKey(fs.readFileSync(file, 'utf8'), `secrets key file ${file}`), previous);
}

/** AAD of a sealed callback URL (a sealed value opens only in its column). */
export const CALLBACK_URL_CONTEXT = 'build_runs.callback_url';

/** A callback URL carrying credentials (`user:password@`, token-named query values) is stored sealed; others stay readable. */
export function sealCallbackUrl(box: SecretBox, url: string | null | undefined): string | null {
  if (!url) return null;
  return maskUrl(url) === url ? url : box.seal(url, CALLBACK_URL_CONTEXT);
}

/**
 * Seals every secrets value not yet sealed with the current key: rows written before
 * encryption (plain JSON) and rows sealed with a previous key. Runs at each start, so a
 * rotation completes on the first start with the new key. A row changed meanwhile by
 * another process is left to it (the update matches the value read).
 */
export async function sealStoredSecrets(db: Kysely<Database>, box: SecretBox): Promise<number> {
  let sealed = 0;
  for (const table of ['builds', 'build_steps'] as const) {
    const rows = await db.selectFrom(table).select(['id', 'secrets']).where('secrets', 'not like', box.currentPattern).execute();
    for (const r of rows) {
      const value = box.seal(box.open(r.secrets, `${table}.secrets`), `${table}.secrets`);
      const res = await db.updateTable(table).set({ secrets: value }).where('id', '=', r.id).where('secrets', '=', r.secrets).executeTakeFirst();
      sealed += Number(res.numUpdatedRows);
    }
  }
  // Callback URLs: sealed with a previous key, or plain with credentials (written before they were sealed).
  const runs = await db.selectFrom('build_runs').select(['id', 'callback_url']).where('callback_url', 'is not', null)
    .where('callback_url', 'not like', box.currentPattern).where((eb) => eb.or([
      eb('callback_url', 'like', `${PREFIX}%`), eb('callback_url', 'like', '%@%'), eb('callback_url', 'like', '%?%'),
    ])).execute();
  for (const r of runs) {
    const value = sealCallbackUrl(box, box.open(r.callback_url!, CALLBACK_URL_CONTEXT));
    if (value === r.callback_url) continue;
    const res = await db.updateTable('build_runs').set({ callback_url: value }).where('id', '=', r.id).where('callback_url', '=', r.callback_url).executeTakeFirst();
    sealed += Number(res.numUpdatedRows);
  }
  return sealed;
}

/** The key in use, with every stored secret sealed by it (see sealStoredSecrets). */
export async function openSecrets(db: Kysely<Database>, opts: SecretsKeyOptions, databaseUrl: string): Promise<{ box: SecretBox; sealed: number }> {
  const box = loadSecretBox(opts, databaseUrl);
  return { box, sealed: await sealStoredSecrets(db, box) };
}
