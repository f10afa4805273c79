import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, Authorized, Ctx, Field, FieldResolver, ID, Info, InputType, Mutation, ObjectType, Query, Resolver, Root, Subscription } from 'type-graphql';
import { badInput, notFound } from '../../errors.js';
import { fromGlobalId, toGlobalId } from '../../ids.js';
import type { BuildChangePayload } from '../../live/hub.js';
import type { BuildAction, BuildData, BuildSort, SortOrder } from '../../providers/types.js';
import { BuildActionEnum, BuildSortEnum, ChangeKindEnum, ImageTagSortEnum, SortOrderEnum } from '../common/enums.js';
import { Connection, connectionFrom, PagingArgs, selectsTotalCount } from '../common/connection.js';
import { MutationInput, MutationPayload, payload } from '../common/mutation.js';
import { visibleProviders } from '../../auth/checker.js';
import type { Context } from '../context.js';
import { ImageTag } from '../image-tag/image-tag.type.js';
import { Provider } from '../provider/provider.type.js';
import { BuildRun } from '../run/run.type.js';
import { asInputFieldError, BuildFilterInput, BuildInput, toBuildInputData } from './build.inputs.js';
import { Build, BuildStats } from './build.type.js';
import { mergedBuilds } from './merged-builds.js';

const BuildConnection = Connection(Build, 'Build');
const BuildRunConnection = Connection(BuildRun, 'BuildRun');
const ImageTagConnection = Connection(ImageTag, 'ImageTag');

@InputType({ description: 'Input of createBuild.' })
class CreateBuildInput extends MutationInput {
  @Field({ defaultValue: 'native', description: 'Provider instance id (one with BUILD_CREATE).' }) providerId!: string;
  @Field(() => BuildInput, { description: 'The definition.' }) build!: BuildInput;
}

@InputType({ description: 'Input of updateBuild.' })
class UpdateBuildInput extends MutationInput {
  @Field(() => ID, { description: 'Build ID.' }) buildId!: string;
  @Field(() => BuildInput, { description: 'The new definition.' }) build!: BuildInput;
}

@InputType({ description: 'Input of deleteBuild.' })
class DeleteBuildInput extends MutationInput {
  @Field(() => ID, { description: 'Build ID.' }) buildId!: string;
}

@ObjectType({ description: 'Result of createBuild.' })
class CreateBuildPayload extends MutationPayload {
  @Field(() => Build, { nullable: true, description: 'The new build (null when errors is not empty).' }) build!: Build | null;
}

@ObjectType({ description: 'Result of updateBuild.' })
class UpdateBuildPayload extends MutationPayload {
  @Field(() => Build, { nullable: true, description: 'The build as stored now (null when errors is not empty).' }) build!: Build | null;
}

@ObjectType({ description: 'Result of deleteBuild.' })
class DeleteBuildPayload extends MutationPayload {
  @Field(() => ID, { nullable: true, description: 'ID of the deleted build (null when errors is not empty).' }) deletedBuildId!: string | null;
}

@ObjectType({ description: 'A build definition was created, changed or deleted.' })
export class BuildChange {
  @Field(() => ChangeKindEnum, { description: 'What happened.' }) kind!: string;
  @Field(() => ID, { description: 'Global ID of the build.' }) buildId!: string;
  @Field({ description: 'Provider instance id.' }) providerId!: string;
  @Field(() => Build, { nullable: true, description: 'The build as it is now (null after DELETED).' }) build!: Build | null;
}

export async function loadBuild(ctx: Context, id: string): Promise<{ providerId: string; data: BuildData }> {
  const gid = fromGlobalId(id, 'Build');
  const data = await ctx.loaders.build(gid.providerId).load(gid.key);
  if (!data) throw notFound('Build', id);
  return { providerId: gid.providerId, data };
}

/** Rejects any string in the input longer than the configured limit, naming where. */
function checkSizes(value: unknown, max: number, path = 'input'): void {
  if (typeof value === 'string') {
    if (value.length > max) throw badInput(`${path} is longer than ${max} characters`, path);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => checkSizes(v, max, `${path}[${i}]`));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) checkSizes(v, max, `${path}.${k}`);
  }
}

@Resolver(() => Build)
export class BuildResolver {
  @Authorized('viewer')
  @Query(() => BuildConnection, { description: 'Builds of one or more providers (when `providerIds` is omitted: all that the credential may see), merged into one list with one cursor. A provider that fails adds an error naming it; the other rows still come.' })
  async builds(
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
    @Args() paging: PagingArgs,
    @Arg('providerIds', () => [String], { nullable: true, description: 'Provider instance ids.' }) providers?: string[] | null,
    @Arg('filter', () => BuildFilterInput, { nullable: true, description: 'Filters.' }) filter?: BuildFilterInput | null,
    @Arg('sort', () => BuildSortEnum, { defaultValue: 'NAME', description: 'Sort key.' }) sort: BuildSort = 'NAME',
    @Arg('order', () => SortOrderEnum, { defaultValue: 'ASC', description: 'Sort direction.' }) order: SortOrder = 'ASC',
  ) {
    const { registry, config } = ctx.services;
    const ids = providers?.length ? providers : visibleProviders(ctx.principal, registry.all().filter((p) => p.capabilities.has('BUILD_LIST')).map((p) => p.id));
    for (const id of ids) registry.get(id); // unknown id → NOT_FOUND
    const page = await mergedBuilds(ctx, ids, paging, { filter: filter ?? undefined, sort, order }, config.limits.maxPageSize, selectsTotalCount(info));
    return { ...page, edges: page.edges.map((e) => ({ cursor: e.cursor, node: Build.from(e.node.providerId, e.node.data) })) };
  }

  @Authorized('viewer')
  @Query(() => Build, { nullable: true, description: 'One build by global ID; null, with a NOT_FOUND error for its path, when there is none.' })
  async build(@Ctx() ctx: Context, @Arg('id', () => ID, { description: 'Build ID.' }) id: string) {
    const { providerId, data } = await loadBuild(ctx, id);
    return Build.from(providerId, data);
  }

  @Authorized('admin')
  @Mutation(() => CreateBuildPayload, { description: 'Creates a build definition (native engine by default). Needs a provider with BUILD_CREATE.' })
  createBuild(@Ctx() ctx: Context, @Arg('input', () => CreateBuildInput, { description: 'Provider and definition.' }) input: CreateBuildInput) {
    return payload(CreateBuildPayload, input, async () => {
      const provider = input.providerId;
      checkSizes(input.build, ctx.services.config.limits.maxInputString, 'input.build');
      const create = ctx.services.registry.method(provider, 'createBuild', 'BUILD_CREATE');
      const data = await create(toBuildInputData(input.build, () => { throw badInput('stepId is only for updateBuild', 'stepId'); }))
        .catch((e: unknown) => { throw asInputFieldError(e, input.build); });
      ctx.services.live.buildChanged({ kind: 'CREATED', providerId: provider, buildKey: data.key });
      return { build: Build.from(provider, data) };
    }, ['input', 'build']);
  }

  @Authorized('admin')
  @Mutation(() => UpdateBuildPayload, { description: 'Replaces a build definition. Secrets left out keep their stored values (steps matched by stepId).' })
  updateBuild(@Ctx() ctx: Context, @Arg('input', () => UpdateBuildInput, { description: 'Build ID and new definition.' }) input: UpdateBuildInput) {
    return payload(UpdateBuildPayload, input, async () => {
      checkSizes(input.build, ctx.services.config.limits.maxInputString, 'input.build');
      const gid = fromGlobalId(input.buildId, 'Build', 'input.buildId');
      const update = ctx.services.registry.method(gid.providerId, 'updateBuild', 'BUILD_UPDATE');
      const data = await update(gid.key, toBuildInputData(input.build, (sid) => {
        const s = fromGlobalId(sid, 'BuildStep', 'stepId');
        const [buildKey, buildStepKey] = [s.key.slice(0, s.key.indexOf('#')), s.key.slice(s.key.indexOf('#') + 1)];
        if (s.providerId !== gid.providerId || buildKey !== gid.key) throw badInput(`stepId ${sid} is a step of another build`, 'stepId');
        return buildStepKey;
      })).catch((e: unknown) => { throw asInputFieldError(e, input.build); });
      ctx.services.live.buildChanged({ kind: 'UPDATED', providerId: gid.providerId, buildKey: data.key });
      return { build: Build.from(gid.providerId, data) };
    }, ['input', 'build']);
  }

  @Authorized('admin')
  @Mutation(() => DeleteBuildPayload, { description: 'Deletes a build definition with its runs, logs and tag records.' })
  deleteBuild(@Ctx() ctx: Context, @Arg('input', () => DeleteBuildInput, { description: 'Build ID.' }) input: DeleteBuildInput) {
    return payload(DeleteBuildPayload, input, async () => {
      const id = input.buildId;
      const gid = fromGlobalId(id, 'Build', 'input.buildId');
      const del = ctx.services.registry.method(gid.providerId, 'deleteBuild', 'BUILD_DELETE');
      if (!(await del(gid.key))) throw notFound('Build', id, 'input.buildId');
      ctx.services.live.buildChanged({ kind: 'DELETED', providerId: gid.providerId, buildKey: gid.key });
      return { deletedBuildId: id };
    });
  }

  @Authorized('viewer')
  @Subscription(() => BuildChange, {
    topics: 'BUILDS_CHANGED',
    filter: ({ payload, args, context }: { payload: BuildChangePayload; args: { providerIds?: string[] | null }; context: Context }) =>
      (!args.providerIds?.length || args.providerIds.includes(payload.providerId)) && visibleProviders(context.principal, [payload.providerId]).length > 0,
    description: 'Build definitions created, updated or deleted (optionally of some providers only).',
  })
  async buildsChanged(
    @Root() payload: BuildChangePayload,
    @Ctx() ctx: Context,
    @Arg('providerIds', () => [String], { nullable: true, description: 'Provider instance ids.' }) _providerIds?: string[] | null,
  ): Promise<BuildChange> {
    const buildId = toGlobalId(payload.providerId, 'Build', payload.buildKey);
    let build: Build | null = null;
    if (payload.kind !== 'DELETED') {
      const data = await ctx.services.registry.get(payload.providerId).getBuild?.(payload.buildKey) ?? null;
      build = data ? Build.from(payload.providerId, data) : null;
    }
    return Object.assign(new BuildChange(), { kind: payload.kind, buildId, providerId: payload.providerId, build });
  }

  @FieldResolver(() => Provider, { description: 'The provider instance holding the build.' })
  provider(@Root() b: Build, @Ctx() ctx: Context) {
    return Provider.from(ctx.services.registry.get(b.providerId));
  }

  @FieldResolver(() => BuildStats, { nullable: true, description: 'Run statistics (counts, averages, latest run); null for providers that keep none (no BUILD_STATS capability), so a mixed list needs no per-row errors.' })
  async stats(@Root() b: Build, @Ctx() ctx: Context) {
    if (!ctx.services.registry.get(b.providerId).capabilities.has('BUILD_STATS')) return null;
    return BuildStats.from(await ctx.loaders.stats(b.providerId).load(b.key));
  }

  @FieldResolver(() => BuildRun, { nullable: true, description: 'The latest run.' })
  async lastRun(@Root() b: Build, @Ctx() ctx: Context) {
    const r = await ctx.loaders.latestRun(b.providerId).load(b.key);
    return r ? BuildRun.from(b.providerId, r) : null;
  }

  @FieldResolver(() => BuildRunConnection, { description: 'Runs of this build, newest first.' })
  async runs(@Root() b: Build, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo, @Args() paging: PagingArgs) {
    ctx.services.registry.method(b.providerId, 'listRuns', 'RUN_LIST'); // UNSUPPORTED_BY_PROVIDER before anything is read
    return connectionFrom(paging, ctx.services.config.limits.maxPageSize, (page) => ctx.loaders.runs(b.providerId, page).load(b.key),
      (r) => BuildRun.from(b.providerId, r), { withTotal: selectsTotalCount(info) });
  }

  @FieldResolver(() => ImageTagConnection, { nullable: true, description: 'Image tags produced by this build across runs; null for providers that keep none (no IMAGE_TAGS capability), like stats.' })
  async imageTags(
    @Root() b: Build,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
    @Args() paging: PagingArgs,
    @Arg('sort', () => ImageTagSortEnum, { defaultValue: 'END_TIME', description: 'Sort key.' }) sort: 'TAG' | 'IMAGE_SIZE' | 'END_TIME',
    @Arg('order', () => SortOrderEnum, { defaultValue: 'DESC', description: 'Direction.' }) order: SortOrder,
  ) {
    if (!ctx.services.registry.get(b.providerId).capabilities.has('IMAGE_TAGS')) return null;
    ctx.services.registry.method(b.providerId, 'listImageTags', 'IMAGE_TAGS');
    return connectionFrom(paging, ctx.services.config.limits.maxPageSize, (page) => ctx.loaders.imageTags(b.providerId, { ...page, sort, order }).load(b.key),
      (t) => ImageTag.from(b.providerId, t), { withTotal: selectsTotalCount(info) });
  }

  @FieldResolver(() => [BuildActionEnum], { description: 'Actions possible on the build now: BUILD when the provider can start runs of it, REMOVE when it can delete it.' })
  possibleActions(@Root() b: Build, @Ctx() ctx: Context) {
    const caps = ctx.services.registry.get(b.providerId).capabilities;
    const all: BuildAction[] = ['VIEW', ...(caps.has('RUN_START') ? ['BUILD' as const] : []), ...(caps.has('BUILD_DELETE') ? ['REMOVE' as const] : [])];
    return b.actions ? all.filter((a) => b.actions!.includes(a)) : all;
  }
}

export { BuildConnection, BuildRunConnection, ImageTagConnection };
