import { Arg, Authorized, Ctx, Field, ID, InputType, Mutation, Resolver } from 'type-graphql';
import { unsupported } from '../../errors.js';
import { fromGlobalId } from '../../ids.js';
import { QuayProvider } from '../../providers/quay/index.js';
import type { Context } from '../context.js';
import { BuildRun } from '../run/run.type.js';

@InputType({ description: 'A Quay repository build request (Quay API requestRepoBuild); fields left out come from the repository settings in the provider options.' })
export class QuayBuildRequestInput {
  @Field(() => String, { nullable: true, description: 'URL of the .tar.gz to build; must start with http or https (Quay fetches it).' }) archiveUrl?: string | null;
  @Field(() => String, { nullable: true, description: 'Path of the Dockerfile in the archive (Quay dockerfile_path; the same as subdirectory).' }) dockerfilePath?: string | null;
  @Field(() => String, { nullable: true, description: 'Build context directory in the archive.' }) context?: string | null;
  @Field(() => [String], { nullable: true, description: 'Tags to push (Quay docker_tags); default the repository setting or "latest".' }) tags?: string[] | null;
  @Field(() => String, { nullable: true, description: 'Quay robot account used as pull credentials.' }) pullRobot?: string | null;
}

@Resolver()
export class QuayResolver {
  @Authorized('operator')
  @Mutation(() => BuildRun, { description: 'Requests a Quay repository build with every field of the Quay API (archive URL, Dockerfile path, context, tags, pull robot). Other providers: UNSUPPORTED_BY_PROVIDER.' })
  async requestQuayBuild(
    @Ctx() ctx: Context,
    @Arg('buildId', () => ID, { description: 'The Quay repository (a Build of a QUAY provider).' }) buildId: string,
    @Arg('input', () => QuayBuildRequestInput, { description: 'The request.' }) input: QuayBuildRequestInput,
  ) {
    const gid = fromGlobalId(buildId, 'Build');
    const p = ctx.services.registry.get(gid.providerId);
    if (!(p instanceof QuayProvider)) throw unsupported(p.id, 'requestQuayBuild');
    return BuildRun.from(p.id, await p.requestBuild(gid.key, input));
  }
}
