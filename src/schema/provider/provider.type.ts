import { Field, ObjectType } from 'type-graphql';
import { GraphQLDateTime } from 'graphql-scalars';
import type { Provider as ProviderImpl, ProviderHealthData } from '../../providers/types.js';
import { toGlobalId } from '../../ids.js';
import { maskUrl, maskUrlsInText } from '../../secrets/mask.js';
import { CapabilityEnum, CircuitStateEnum, ProviderKindEnum, ProviderStatusEnum } from '../common/enums.js';
import { Node } from '../common/node.js';

@ObjectType({ description: 'Health of a provider instance as seen by buildgate.' })
export class ProviderHealth {
  @Field(() => ProviderStatusEnum, { description: 'UP after a successful call, DOWN after a failed one, UNKNOWN before any.' }) status!: string;
  @Field(() => GraphQLDateTime, { nullable: true, description: 'Last successful upstream call.' }) lastSuccessAt!: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true, description: 'Last failed upstream call.' }) lastErrorAt!: Date | null;
  @Field(() => String, { nullable: true, description: 'Message of the last failure.' }) lastError!: string | null;
  @Field(() => CircuitStateEnum, { description: 'Circuit breaker state.' }) circuitState!: string;
}

/** An upstream's error message may quote the URL it called, credentials included. */
const maskedHealth = (h: ProviderHealthData): ProviderHealthData => (h.lastError ? { ...h, lastError: maskUrlsInText(h.lastError) } : h);

@ObjectType({ implements: Node, description: 'A configured provider instance: the native engine or one upstream build system.' })
export class Provider extends Node {
  @Field({ description: 'Instance id from the configuration, e.g. "native" or "quay-prod".' }) providerId!: string;
  @Field(() => ProviderKindEnum, { description: 'Which build system it speaks to.' }) kind!: string;
  @Field(() => String, { nullable: true, description: 'Base URL of the upstream API (null for the native engine); a password and token-named query values show as ***.' }) baseUrl!: string | null;
  @Field(() => [CapabilityEnum], { description: 'What the UI may offer for this provider.' }) capabilities!: string[];
  @Field(() => ProviderHealth, { description: 'Last seen health.' }) health!: ProviderHealth;

  static from(p: ProviderImpl): Provider {
    return Object.assign(new Provider(), {
      id: toGlobalId(p.id, 'Provider', p.id), providerId: p.id, kind: p.kind, baseUrl: p.baseUrl ? maskUrl(p.baseUrl) : null,
      capabilities: [...p.capabilities], health: maskedHealth(p.health()),
    });
  }
}
