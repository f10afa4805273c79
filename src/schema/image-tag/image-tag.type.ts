import { Field, ObjectType } from 'type-graphql';
import { GraphQLDateTime, GraphQLSafeInt } from 'graphql-scalars';
import type { ImageTagData } from '../../providers/types.js';
import { toGlobalId } from '../../ids.js';
import { Node } from '../common/node.js';

@ObjectType({ implements: Node, description: 'An image tag a run produced.' })
export class ImageTag extends Node {
  providerId!: string;
  buildKey!: string;
  runKey!: string | null;
  @Field({ description: 'Provider-native key.' }) key!: string;
  @Field({ description: 'Tag.' }) tag!: string;
  @Field(() => String, { nullable: true, description: 'Image name.' }) imageName!: string | null;
  @Field(() => String, { nullable: true, description: 'Full image URL (registry/path:tag).' }) imageUrl!: string | null;
  @Field(() => String, { nullable: true, description: 'Repository path in the registry.' }) registryImagePath!: string | null;
  @Field(() => String, { nullable: true, description: 'Registry (project) name.' }) registryName!: string | null;
  @Field(() => String, { nullable: true, description: 'Manifest digest (sha256:…).' }) digest!: string | null;
  @Field(() => GraphQLSafeInt, { nullable: true, description: 'Image size in bytes (config + layers).' }) size!: number | null;
  @Field(() => GraphQLDateTime, { nullable: true, description: 'When the run that pushed it started.' }) runStartedAt!: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true, description: 'When it was pushed (the end of its run).' }) pushedAt!: Date | null;
  @Field(() => String, { nullable: true, description: 'Description of the run that pushed it.' }) runDescription!: string | null;

  static from(providerId: string, t: ImageTagData): ImageTag {
    return Object.assign(new ImageTag(), {
      id: toGlobalId(providerId, 'ImageTag', t.key), providerId, buildKey: t.buildKey, runKey: t.runKey, key: t.key, tag: t.tag,
      imageName: t.imageName ?? null, imageUrl: t.imageUrl ?? null, registryImagePath: t.registryImagePath ?? null,
      registryName: t.registryName ?? null, digest: t.digest ?? null, size: t.size ?? null, runStartedAt: t.beginTime ?? null,
      pushedAt: t.endTime ?? null, runDescription: t.runDescription ?? null,
    });
  }
}
