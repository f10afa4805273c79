import { Arg, Authorized, Ctx, Field, ID, InputType, Mutation, ObjectType, Resolver } from 'type-graphql';
import { fromGlobalId } from '../../ids.js';
import { MutationInput, MutationPayload, payload } from '../common/mutation.js';
import type { Context } from '../context.js';
import { BuildRun } from '../run/run.type.js';

@InputType({ description: 'Input of requestQuayBuild: a Quay repository build request (Quay API requestRepoBuild); fields left out come from the repository settings in the provider options.' })
export class RequestQuayBuildInput extends MutationInput {
  @Field(() => ID, { description: 'The Quay repository (a Build of a QUAY provider).' }) buildId!: string;
  @Field(() => String, { nullable: true, description: 'URL of the .tar.gz to build; must start with http or https (Quay fetches it).' }) archiveUrl?: string | null;
  @Field(() => String, { nullable: true, description: 'Path of the Dockerfile in the archive (Quay dockerfile_path; the same as subdirectory).' }) dockerfilePath?: string | null;
  @Field(() => String, { nullable: true, description: 'Build context directory in the archive.' }) context?: string | null;
  @Field(() => [String], { nullable: true, description: 'Tags to push (Quay docker_tags); default the repository setting or "latest".' }) tags?: string[] | null;
  @Field(() => String, { nullable: true, description: 'Quay robot account used as pull credentials.' }) pullRobot?: string | null;
}

@ObjectType({ description: 'Result of requestQuayBuild.' })
class RequestQuayBuildPayload extends MutationPayload {
  @Field(() => BuildRun, { nullable: true, description: 'The new run (null when errors is not empty).' }) run!: BuildRun | null;
}

@Resolver()
export class QuayResolver {
  @Authorized('operator')
  @Mutation(() => RequestQuayBuildPayload, { description: 'Requests a Quay repository build with every field of the Quay API (archive URL, Dockerfile path, context, tags, pull robot). Other providers: UNSUPPORTED_BY_PROVIDER.' })
  requestQuayBuild(@Ctx() ctx: Context, @Arg('input', () => RequestQuayBuildInput, { description: 'The repository and the request.' }) input: RequestQuayBuildInput) {
    return payload(RequestQuayBuildPayload, input, async () => {
      const gid = fromGlobalId(input.buildId, 'Build', 'buildId');
      const builds = ctx.services.registry.extension(gid.providerId, 'repositoryBuilds', 'requestQuayBuild');
      const { buildId: _b, clientMutationId: _c, ...req } = input;
      return { run: BuildRun.from(gid.providerId, await builds.requestBuild(gid.key, req)) };
    });
  }
}
