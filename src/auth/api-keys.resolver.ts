import { GraphQLDateTime } from 'graphql-scalars';
import { Arg, Authorized, Ctx, Field, ID, InputType, Mutation, ObjectType, Query, registerEnumType, Resolver } from 'type-graphql';
import { MutationInput, MutationPayload, payload } from '../schema/common/mutation.js';
import { badInput, BuildgateError, ErrorCode, notFound } from '../errors.js';
import type { Context } from '../schema/context.js';
import { ApiKeys, type ApiKeyInfo } from './api-keys.js';
import { actorOf, type Role } from './principal.js';

export const RoleEnum = { VIEWER: 'viewer', OPERATOR: 'operator', ADMIN: 'admin' } as const;
registerEnumType(RoleEnum, {
  name: 'Role',
  description: 'What a credential may do; each role includes the ones below it.',
  valuesConfig: {
    VIEWER: { description: 'Read everything, subscribe to live data.' },
    OPERATOR: { description: 'Also run, cancel and remove runs.' },
    ADMIN: { description: 'Also change build definitions, read the audit log, manage API keys.' },
  },
});

@ObjectType({ description: 'An API key as stored: never the key itself (only its hash is kept).' })
export class ApiKey {
  @Field(() => ID, { description: 'Key id: the part after "bgk_" in the key; `actor` in the audit log is "apiKey:<id>".' }) id!: string;
  @Field(() => String, { nullable: true, description: 'Free-form label.' }) name!: string | null;
  @Field(() => RoleEnum, { description: 'Role granted.' }) role!: Role;
  @Field(() => [String], { nullable: true, description: 'Provider instance ids it is scoped to; null: all.' }) providerIds!: string[] | null;
  @Field(() => GraphQLDateTime, { description: 'When it was created.' }) createdAt!: Date;
  @Field(() => GraphQLDateTime, { nullable: true, description: 'When it was revoked; null while it works.' }) revokedAt!: Date | null;

  static from(i: ApiKeyInfo): ApiKey {
    const { providers, ...rest } = i;
    return Object.assign(new ApiKey(), { ...rest, providerIds: providers });
  }
}

@ObjectType({ description: 'Result of createApiKey: the key is in this response only, store it now.' })
export class CreateApiKeyPayload extends MutationPayload {
  @Field(() => ApiKey, { nullable: true, description: 'Its stored record (null when errors is not empty).' }) apiKey!: ApiKey | null;
  @Field(() => String, { nullable: true, description: 'The key ("bgk_<id>_<secret>"), sent as "Authorization: Bearer <key>" or connectionParams.authorization. Shown once: buildgate keeps only its hash.' }) key!: string | null;
}

@InputType({ description: 'Input of createApiKey: a new API key.' })
export class CreateApiKeyInput extends MutationInput {
  @Field(() => RoleEnum, { description: 'Role to grant.' }) role!: Role;
  @Field(() => String, { nullable: true, description: 'Free-form label (at most 200 characters).' }) name?: string | null;
  @Field(() => [String], { nullable: true, description: 'Scope it to these provider instance ids (omit: all).' }) providerIds?: string[] | null;
}

@InputType({ description: 'Input of revokeApiKey.' })
export class RevokeApiKeyInput extends MutationInput {
  @Field(() => ID, { description: 'Key id.' }) apiKeyId!: string;
}

@ObjectType({ description: 'Result of revokeApiKey.' })
export class RevokeApiKeyPayload extends MutationPayload {
  @Field(() => ApiKey, { nullable: true, description: 'The key as stored now, revokedAt set (null when errors is not empty).' }) apiKey!: ApiKey | null;
}

const PROVIDER_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Key management over GraphQL, as `buildgate keys` does it on the host. Only an unscoped
 * admin may do it: a key scoped to some providers must not mint one that is not.
 */
function manager(ctx: Context): ApiKeys {
  const p = ctx.principal;
  if (p?.providers) throw new BuildgateError(ErrorCode.FORBIDDEN, `${actorOf(p)} is scoped to providers and may not manage API keys`);
  return new ApiKeys(ctx.services.store);
}

@Resolver()
export class ApiKeyResolver {
  @Authorized('admin')
  @Query(() => [ApiKey], { description: 'API keys, oldest first, revoked ones included (unscoped admin only).' })
  async apiKeys(@Ctx() ctx: Context): Promise<ApiKey[]> {
    return (await manager(ctx).list()).map(ApiKey.from);
  }

  @Authorized('admin')
  @Mutation(() => CreateApiKeyPayload, { description: 'Creates an API key and returns it once (unscoped admin only).' })
  createApiKey(@Ctx() ctx: Context, @Arg('input', () => CreateApiKeyInput, { description: 'Role, label, scope.' }) input: CreateApiKeyInput): Promise<CreateApiKeyPayload> {
    const keys = manager(ctx); // FORBIDDEN stays a top-level error: it is the credential's, not the input's
    return payload(CreateApiKeyPayload, input, async () => {
      if (input.name != null && input.name.length > 200) throw badInput('name: at most 200 characters', 'name');
      for (const id of input.providerIds ?? []) {
        if (!PROVIDER_ID.test(id)) throw badInput(`providerIds: ${JSON.stringify(id)} is not a provider id (lower-case letters, digits, dashes)`, 'providerIds');
      }
      const { key, info } = await keys.create({ role: input.role, name: input.name ?? null, providers: input.providerIds ?? null });
      return { apiKey: ApiKey.from(info), key };
    });
  }

  @Authorized('admin')
  @Mutation(() => RevokeApiKeyPayload, { description: 'Revokes an API key at once (the next request with it is refused); revoking twice keeps the first time (unscoped admin only).' })
  revokeApiKey(@Ctx() ctx: Context, @Arg('input', () => RevokeApiKeyInput, { description: 'Key id.' }) input: RevokeApiKeyInput): Promise<RevokeApiKeyPayload> {
    const keys = manager(ctx);
    return payload(RevokeApiKeyPayload, input, async () => {
      const id = input.apiKeyId;
      if (!(await keys.revoke(id))) throw notFound('ApiKey', id, 'apiKeyId');
      const info = (await keys.list()).find((k) => k.id === id)!;
      return { apiKey: ApiKey.from(info) };
    });
  }
}
