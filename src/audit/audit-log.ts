import type { Store } from '../store/db.js';
import { authDb } from '../auth/tables.js';
import { scrubArgs } from './scrub.js';

export interface AuditRecord {
  actor: string;
  operation: string;
  targetId: string | null;
  args: Record<string, unknown>;
  /** OK, or the error code the mutation ended with. */
  outcome: string;
  requestId: string | null;
}

export interface AuditEntryData extends Omit<AuditRecord, 'args'> { id: number; time: Date; args: unknown }

/** Argument names that name the object a mutation acts on, in order of preference. */
const TARGET_ARGS = ['id', 'buildId', 'runId', 'apiKeyId', 'providerId'];

/** A mutation's arguments are the fields of its one `input`; a query's are its own. */
export function argumentsOf(args: Record<string, unknown>): Record<string, unknown> {
  const input = args.input;
  return input && typeof input === 'object' && !Array.isArray(input) ? { ...args, ...(input as Record<string, unknown>) } : args;
}

export const targetOf = (given: Record<string, unknown>): string | null => {
  const args = argumentsOf(given);
  for (const k of TARGET_ARGS) if (typeof args[k] === 'string') return args[k] as string;
  return null;
};

/** Append-only record of mutations (who, what, when, outcome) in the store. */
export class AuditLog {
  constructor(private readonly store: Store) {}

  async record(r: AuditRecord): Promise<void> {
    await authDb(this.store).insertInto('audit_log').values({
      time: Date.now(), actor: r.actor.slice(0, 300), operation: r.operation.slice(0, 128), target_id: r.targetId,
      args: JSON.stringify(scrubArgs(r.args)), outcome: r.outcome.slice(0, 64), request_id: r.requestId,
    }).execute();
  }

  /** Newest first, by offset (the paging every connection of the schema uses). */
  async list(page: { offset: number; limit: number }): Promise<{ items: AuditEntryData[]; hasMore: boolean; totalCount: number }> {
    const db = authDb(this.store);
    const [rows, count] = await Promise.all([
      db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').offset(page.offset).limit(page.limit + 1).execute(),
      db.selectFrom('audit_log').select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return {
      items: rows.slice(0, page.limit).map((r) => ({
        id: Number(r.id), time: new Date(Number(r.time)), actor: r.actor, operation: r.operation,
        targetId: r.target_id, args: JSON.parse(r.args) as unknown, outcome: r.outcome, requestId: r.request_id,
      })),
      hasMore: rows.length > page.limit,
      totalCount: Number(count.n),
    };
  }
}
