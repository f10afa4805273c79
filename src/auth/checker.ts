import type { GraphQLSchema } from 'graphql';
import type { AuthChecker } from 'type-graphql';
import { argumentsOf, targetOf } from '../audit/audit-log.js';
import { BuildgateError, ErrorCode } from '../errors.js';
import { fromGlobalId } from '../ids.js';
import type { Context } from '../schema/context.js';
import { actorOf, isRole, roleRank, type Principal, type Role } from './principal.js';

/** Arguments holding global IDs or provider instance ids: what a scoped credential may touch. */
const ID_ARGS = ['id', 'ids', 'buildId', 'runId', 'stepRunId'];
const PROVIDER_ARGS = ['providerId', 'providerIds'];

function providersNamed(given: Record<string, unknown>): string[] {
  const args = argumentsOf(given);
  const out = new Set<string>();
  const list = (v: unknown) => (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
  for (const k of ID_ARGS) {
    for (const id of list(args[k])) {
      try { out.add(fromGlobalId(id).providerId); } catch { /* a malformed ID is the resolver's BAD_USER_INPUT */ }
    }
  }
  for (const k of PROVIDER_ARGS) for (const p of list(args[k])) out.add(p);
  return [...out];
}

/**
 * The providers a credential may see among `ids`: all of them when it is not scoped. Lists
 * that name no provider (`builds`, `providers`, `buildsChanged`) narrow through this, so a
 * scoped key sees only its providers' objects, as it may only name theirs.
 */
export function visibleProviders<T extends string>(principal: Principal | undefined, ids: readonly T[]): T[] {
  const scope = principal?.providers;
  return scope ? ids.filter((id) => scope.includes(id)) : [...ids];
}

function deny(message: string): never {
  throw new BuildgateError(ErrorCode.FORBIDDEN, message);
}

/**
 * The one place roles are checked: type-graphql calls it for every field marked
 * `@Authorized(role)` before the resolver (and, for subscriptions, before `subscribe`).
 * A role allows everything of the roles below it; a credential scoped to provider
 * instances is refused on any argument naming another provider's object.
 */
export const authChecker: AuthChecker<Context> = async ({ args, context, info }, roles) => {
  const p: Principal | undefined = context.principal;
  const need: Role = roles.find(isRole) ?? 'admin';
  const field = `${info.parentType.name}.${info.fieldName}`;
  if (!p) deny(`${field} needs a credential`);
  if (roleRank(p.role) < roleRank(need)) {
    deny(`${field} needs role ${need}; ${actorOf(p)} has role ${p.role}`);
  }
  if (p.providers) {
    const outside = providersNamed(args).filter((id) => !p.providers!.includes(id));
    if (outside.length) deny(`${actorOf(p)} may not act on provider ${outside.map((o) => JSON.stringify(o)).join(', ')}`);
  }
  return true;
};

async function auditMutation(ctx: Context, operation: string, args: Record<string, unknown>, outcome: string): Promise<void> {
  try {
    await ctx.services.audit.record({
      actor: ctx.principal ? actorOf(ctx.principal) : 'anonymous', operation, targetId: targetOf(args),
      args, outcome, requestId: ctx.requestId,
    });
  } catch (e) {
    ctx.logger.error({ err: e, operation }, 'audit entry not written');
  }
}

/**
 * Wraps every Mutation field so that each call, allowed or refused (the auth check runs
 * inside), leaves one audit entry with its outcome. Only root mutation fields are wrapped,
 * so reads pay nothing.
 */
export function auditMutations(schema: GraphQLSchema): void {
  for (const field of Object.values(schema.getMutationType()?.getFields() ?? {})) {
    const resolve = field.resolve;
    if (!resolve) continue;
    field.resolve = async (root, args: Record<string, unknown>, ctx: Context, info) => {
      try {
        const result = await resolve(root, args, ctx, info);
        // A refused input is a payload with errors, not a thrown error: its first code is the outcome.
        const refused = (result as { errors?: Array<{ code?: unknown }> } | null)?.errors?.[0]?.code;
        await auditMutation(ctx, info.fieldName, args, typeof refused === 'string' ? refused : 'OK');
        return result;
      } catch (e) {
        const code = (e as { extensions?: { code?: unknown } })?.extensions?.code;
        await auditMutation(ctx, info.fieldName, args, typeof code === 'string' ? code : ErrorCode.INTERNAL_SERVER_ERROR);
        throw e;
      }
    };
  }
}

interface HandlerMeta { target: unknown; methodName: string; schemaName: string; roles?: unknown[] }

/**
 * Called after buildSchema: every Query, Mutation and Subscription of these resolvers must
 * carry `@Authorized(role)`. A new operation without one stops the start instead of
 * being open to everyone.
 */
export function assertEveryRootFieldAuthorized(resolvers: readonly unknown[]): void {
  const storage = (globalThis as { TypeGraphQLMetadataStorage?: Record<'queries' | 'mutations' | 'subscriptions', HandlerMeta[]> }).TypeGraphQLMetadataStorage;
  if (!storage) throw new Error('type-graphql metadata not found: cannot check @Authorized on root fields');
  const missing: string[] = [];
  for (const [kind, list] of [['Query', storage.queries], ['Mutation', storage.mutations], ['Subscription', storage.subscriptions]] as const) {
    for (const h of list) {
      if (!resolvers.includes(h.target) || h.roles?.some(isRole)) continue;
      missing.push(`${kind}.${h.schemaName}`);
    }
  }
  if (missing.length) throw new Error(`Root fields without @Authorized('viewer' | 'operator' | 'admin'): ${missing.join(', ')}`);
}
