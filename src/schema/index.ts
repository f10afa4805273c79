import 'reflect-metadata';
import { buildSchema, getMetadataStorage } from 'type-graphql';
import type { GraphQLSchema } from 'graphql';
import type { PubSub } from '@graphql-yoga/subscription';
import { BuildResolver } from './build/build.resolver.js';
import { NodeResolver, ProviderResolver } from './node/node.resolver.js';
import { RunResolver } from './run/run.resolver.js';
import { LiveResolver } from './live/live.resolver.js';
import { QuayResolver } from './quay/quay.resolver.js';
import { ZadigResolver } from './zadig/zadig.resolver.js';
import type { Topics } from '../live/hub.js';
import { AuditResolver } from '../audit/audit.resolver.js';
import { ApiKeyResolver } from '../auth/api-keys.resolver.js';
import { assertEveryRootFieldAuthorized, auditMutations, authChecker } from '../auth/checker.js';

export const resolvers = [BuildResolver, RunResolver, NodeResolver, ProviderResolver, ZadigResolver, QuayResolver, LiveResolver, AuditResolver, ApiKeyResolver] as const;

/** Builds the executable schema; the same call emits schema/schema.graphql. */
export async function createSchema(pubSub: PubSub<Topics>): Promise<GraphQLSchema> {
  // TypeScript applies parameter decorators last to first, so type-graphql collects each
  // method's arguments in reverse; a stable sort by position restores declaration order
  // (sorting by index alone is enough: arguments of one method keep their relative order).
  getMetadataStorage().params.sort((a, b) => a.index - b.index);
  const schema = await buildSchema({
    resolvers,
    pubSub: pubSub as never,
    validate: false, // inputs are checked by explicit rules with field-named messages
    emitSchemaFile: false,
    authChecker, // roles: @Authorized('viewer' | 'operator' | 'admin') on every root field
  });
  assertEveryRootFieldAuthorized(resolvers);
  auditMutations(schema);
  // type-graphql leaves the root types undescribed; they head the playground's docs.
  schema.getQueryType()!.description = 'Read builds, runs, steps, logs, image tags, build records and providers, whichever build system holds them.';
  schema.getMutationType()!.description = 'Change build definitions, start, cancel or remove runs, manage API keys.';
  schema.getSubscriptionType()!.description = 'Live changes over graphql-ws (same URL as HTTP).';
  return schema;
}
