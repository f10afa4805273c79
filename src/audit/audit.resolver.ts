import { GraphQLDateTime, GraphQLJSONObject } from 'graphql-scalars';
import { Args, Authorized, Ctx, Field, ID, ObjectType, Query, Resolver } from 'type-graphql';
import { Connection, connectionFrom, PagingArgs } from '../schema/common/connection.js';
import type { Context } from '../schema/context.js';
import { actorOf } from '../auth/principal.js';
import { BuildgateError, ErrorCode } from '../errors.js';
import type { AuditEntryData } from './audit-log.js';

@ObjectType({ description: 'One mutation as the audit log recorded it.' })
export class AuditEntry {
  @Field(() => ID, { description: 'Entry number (rising with time).' }) id!: string;
  @Field(() => GraphQLDateTime, { description: 'When the mutation was asked for.' }) requestedAt!: Date;
  @Field({ description: 'Who: "apiKey:<key id>", "jwt:<subject>" or "anonymous".' }) actor!: string;
  @Field({ description: 'Mutation name.' }) operation!: string;
  @Field(() => String, { nullable: true, description: 'ID (or provider) the mutation acted on.' }) targetId!: string | null;
  @Field(() => GraphQLJSONObject, { description: 'Arguments with credentials replaced by "***" and long texts shortened.' }) arguments!: Record<string, unknown>;
  @Field({ description: 'OK; the UserErrorCode of a refused input (VALIDATION, NOT_FOUND, ACTION_NOT_ALLOWED, ...); or the error code the mutation was stopped with (UNAUTHENTICATED, FORBIDDEN, RATE_LIMITED, ...).' }) outcome!: string;
  @Field(() => String, { nullable: true, description: 'x-request-id of the request, to find its log lines.' }) requestId!: string | null;

  static from(e: AuditEntryData): AuditEntry {
    return Object.assign(new AuditEntry(), { ...e, id: String(e.id), requestedAt: e.time, arguments: (e.args ?? {}) as Record<string, unknown> });
  }
}

const AuditEntryConnection = Connection(AuditEntry, 'AuditEntry');

@Resolver()
export class AuditResolver {
  @Authorized('admin')
  @Query(() => AuditEntryConnection, { description: 'Mutations with who, what, when and outcome, newest first (admin only; not for a credential scoped to providers).' })
  auditLog(@Ctx() ctx: Context, @Args() paging: PagingArgs) {
    // Entries name targets of every provider (and API keys), and their arguments show what was
    // asked; sorting out which a scoped admin may see would leave the gaps themselves visible.
    if (ctx.principal?.providers) throw new BuildgateError(ErrorCode.FORBIDDEN, `${actorOf(ctx.principal)} is scoped to providers and may not read the audit log`);
    return connectionFrom(paging, ctx.services.config.limits.maxPageSize, (page) => ctx.services.audit.list(page), AuditEntry.from);
  }
}
