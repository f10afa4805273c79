import { Arg, Authorized, Ctx, ID, Query, Resolver } from 'type-graphql';
import { badInput, notFound } from '../../errors.js';
import { fromGlobalId } from '../../ids.js';
import { Build, BuildStep } from '../build/build.type.js';
import { Node } from '../common/node.js';
import { visibleProviders } from '../../auth/checker.js';
import type { Context } from '../context.js';
import { ImageTag } from '../image-tag/image-tag.type.js';
import { Provider } from '../provider/provider.type.js';
import { BuildRecord } from '../record/build-record.type.js';
import { BuildRun, StepRun } from '../run/run.type.js';

/** Resolves any global ID by routing on its type to the provider that owns it. */
export async function resolveNode(ctx: Context, id: string): Promise<Node> {
  const gid = fromGlobalId(id);
  const { registry } = ctx.services;
  const p = gid.providerId;
  // Every type routes on the ID's provider, so one check covers them all; NOT_FOUND: a
  // scoped credential learns nothing of other providers' objects, not even that they exist.
  if (!visibleProviders(ctx.principal, [p]).length) throw notFound(gid.type, id);
  switch (gid.type) {
    case 'Provider':
      // The key must be the provider the ID names: it is what the scope check above saw.
      if (gid.key === p) return Provider.from(registry.get(p));
      break;
    case 'Build': {
      const b = await ctx.loaders.build(p).load(gid.key);
      if (b) return Build.from(p, b);
      break;
    }
    case 'BuildStep': {
      const [buildKey, buildStepKey] = [gid.key.slice(0, gid.key.indexOf('#')), gid.key.slice(gid.key.indexOf('#') + 1)];
      const b = await ctx.loaders.build(p).load(buildKey);
      const s = b?.steps?.find((x) => x.key === buildStepKey);
      if (b && s) return BuildStep.from(p, b.key, s);
      break;
    }
    case 'BuildRun': {
      const r = await ctx.loaders.run(p).load(gid.key);
      if (r) return BuildRun.from(p, r);
      break;
    }
    case 'StepRun': {
      const s = await registry.method(p, 'getStepRun', 'STEP_RUNS')(gid.key);
      if (s) return StepRun.from(p, s);
      break;
    }
    case 'ImageTag': {
      const t = await registry.method(p, 'getImageTag', 'IMAGE_TAGS')(gid.key);
      if (t) return ImageTag.from(p, t);
      break;
    }
    case 'BuildRecord': {
      const r = await registry.method(p, 'getBuildRecord', 'BUILD_RECORD')(gid.key);
      if (r) return BuildRecord.from(p, r);
      break;
    }
  }
  throw notFound(gid.type, id);
}

@Resolver()
export class NodeResolver {
  @Authorized('viewer')
  @Query(() => Node, { nullable: true, description: 'Any object by its global ID.' })
  node(@Ctx() ctx: Context, @Arg('id', () => ID, { description: 'Global ID.' }) id: string) {
    return resolveNode(ctx, id);
  }

  @Authorized('viewer')
  @Query(() => [Node], { nullable: 'items', description: 'Several objects by global ID, in the same order; an unknown ID gives null plus an error for that item.' })
  nodes(@Ctx() ctx: Context, @Arg('ids', () => [ID], { description: 'Global IDs (at most 100).' }) ids: string[]) {
    if (ids.length > 100) throw badInput(`nodes takes at most 100 ids (got ${ids.length})`, 'ids');
    return ids.map((id) => resolveNode(ctx, id));
  }
}

@Resolver(() => Provider)
export class ProviderResolver {
  @Authorized('viewer')
  @Query(() => [Provider], { description: 'Configured provider instances (those the credential may see) with their capabilities and health.' })
  providers(@Ctx() ctx: Context) {
    const visible = new Set(visibleProviders(ctx.principal, ctx.services.registry.all().map((p) => p.id)));
    return ctx.services.registry.all().filter((p) => visible.has(p.id)).map((p) => Provider.from(p));
  }

  @Authorized('viewer')
  @Query(() => Provider, { nullable: true, description: 'One provider instance by its instance id (e.g. "native"); null, with a NOT_FOUND error for its path, when none is configured or visible.' })
  provider(@Ctx() ctx: Context, @Arg('providerId', { description: 'Instance id.' }) providerId: string) {
    return Provider.from(ctx.services.registry.get(providerId));
  }
}
