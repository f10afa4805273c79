import { Arg, Authorized, Ctx, FieldResolver, Float, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { actionNotAllowed, badInput, BuildgateError, ErrorCode, notFound } from '../../errors.js';
import { fromGlobalId, toGlobalId } from '../../ids.js';
import { possibleActions } from '../../providers/run-actions.js';
import { TEXT_MAX } from '../../providers/build-rules.js';
import type { BuildAction, RunData } from '../../providers/types.js';
import { BuildActionEnum } from '../common/enums.js';
import { Build } from '../build/build.type.js';
import type { Context } from '../context.js';
import { Provider } from '../provider/provider.type.js';
import { BuildRecord } from '../record/build-record.type.js';
import { BuildRun, LogLine, LogPage, logUrlFor, StepRun } from './run.type.js';

export async function loadRun(ctx: Context, id: string): Promise<{ providerId: string; data: RunData }> {
  const gid = fromGlobalId(id, 'BuildRun');
  const data = await ctx.loaders.run(gid.providerId).load(gid.key);
  if (!data) throw notFound('BuildRun', id);
  return { providerId: gid.providerId, data };
}

function allowedActions(ctx: Context, run: BuildRun): BuildAction[] {
  return possibleActions(run.possibleActions, ctx.services.registry.get(run.providerId).capabilities);
}

function requireAction(ctx: Context, run: BuildRun, action: BuildAction) {
  const allowed = allowedActions(ctx, run);
  if (!allowed.includes(action)) throw actionNotAllowed(action, run.state, allowed);
}

@Resolver(() => BuildRun)
export class RunResolver {
  @Authorized('viewer')
  @Query(() => BuildRun, { description: 'One run by global ID.' })
  async run(@Ctx() ctx: Context, @Arg('id', () => ID, { description: 'BuildRun ID.' }) id: string) {
    const { providerId, data } = await loadRun(ctx, id);
    return BuildRun.from(providerId, data);
  }

  @Authorized('operator')
  @Mutation(() => BuildRun, { description: 'Starts a run of a build (Cocktail POST /v1/build/run/{buildSeq}): optional tag, description and a callback URL called when it ends.' })
  async runBuild(
    @Ctx() ctx: Context,
    @Arg('buildId', () => ID, { description: 'Build ID.' }) buildId: string,
    @Arg('tagName', () => String, { nullable: true, description: 'Image tag; autotag or the build tag when omitted.' }) tagName?: string | null,
    @Arg('description', () => String, { nullable: true, description: `Run description (at most ${TEXT_MAX.description.toLocaleString('en')} characters).` }) description?: string | null,
    @Arg('callbackUrl', () => String, { nullable: true, description: 'URL POSTed with the run summary when the run ends.' }) callbackUrl?: string | null,
  ) {
    const gid = fromGlobalId(buildId, 'Build');
    if (tagName != null && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tagName)) throw badInput('tagName must be a valid image tag', 'tagName');
    if (callbackUrl != null && !/^https?:\/\/[^\s]+$/i.test(callbackUrl)) throw badInput('callbackUrl must be an http(s) URL', 'callbackUrl');
    if ((description?.length ?? 0) > TEXT_MAX.description) throw badInput(`description is longer than ${TEXT_MAX.description} characters`, 'description');
    const start = ctx.services.registry.method(gid.providerId, 'runBuild', 'RUN_START');
    const data = await start(gid.key, { tagName, description, callbackUrl, triggeredBy: 'api' });
    return BuildRun.from(gid.providerId, data);
  }

  @Authorized('operator')
  @Mutation(() => BuildRun, { description: 'Cancels a queued or running run. Canceling a finished run is refused with ACTION_NOT_ALLOWED; canceling twice returns the run as it is.' })
  async cancelRun(@Ctx() ctx: Context, @Arg('id', () => ID, { description: 'BuildRun ID.' }) id: string) {
    const { providerId, data } = await loadRun(ctx, id);
    const run = BuildRun.from(providerId, data);
    if (run.state === 'CANCELED') return run;
    requireAction(ctx, run, 'CANCEL');
    const cancel = ctx.services.registry.method(providerId, 'cancelRun', 'RUN_CANCEL');
    return BuildRun.from(providerId, await cancel(data.key));
  }

  @Authorized('operator')
  @Mutation(() => ID, { description: 'Removes a finished run: its record, logs and workspace, and its image tag when asked. Returns the removed ID.' })
  async removeRun(
    @Ctx() ctx: Context,
    @Arg('id', () => ID, { description: 'BuildRun ID.' }) id: string,
    @Arg('removeImageTag', { defaultValue: false, description: 'Also delete the pushed image tag from the registry, while this run still owns it: no newer run pushed the same tag and the registry still has this run\'s digest under it. A tag kept for that reason is reported beside the result as an ACTION_NOT_ALLOWED error with extensions.imageTag and extensions.keptBecause (NEWER_RUN or DIGEST_CHANGED); the run is removed all the same.' }) removeImageTag: boolean,
  ) {
    const { providerId, data } = await loadRun(ctx, id);
    requireAction(ctx, BuildRun.from(providerId, data), 'REMOVE');
    const remove = ctx.services.registry.method(providerId, 'removeRun', 'RUN_REMOVE');
    const removed = await remove(data.key, { removeImageTag });
    if (!removed) throw notFound('BuildRun', id);
    for (const k of removed.imageTagsKept) {
      ctx.partialErrors.push(new BuildgateError(ErrorCode.ACTION_NOT_ALLOWED, `image tag ${k.image} was kept: ${k.detail}`, {
        imageTag: k.image, keptBecause: k.reason, ownerRunId: k.ownerRunKey ? toGlobalId(providerId, 'BuildRun', k.ownerRunKey) : null,
      }));
    }
    return id;
  }

  @FieldResolver(() => [BuildActionEnum], { description: "Actions possible now: the provider's own list or the state rule, limited to what the provider can do." })
  possibleActions(@Root() r: BuildRun, @Ctx() ctx: Context) {
    return allowedActions(ctx, r);
  }

  @FieldResolver(() => String, { description: 'Path (relative to the server) that downloads the whole stored log as text; add ?step=<StepRun ID> for one step.' })
  logUrl(@Root() r: BuildRun) {
    return logUrlFor(r.id);
  }

  @FieldResolver(() => Provider, { description: 'Provider instance of the run.' })
  provider(@Root() r: BuildRun, @Ctx() ctx: Context) {
    return Provider.from(ctx.services.registry.get(r.providerId));
  }

  @FieldResolver(() => Build, { nullable: true, description: 'The build this run belongs to.' })
  async build(@Root() r: BuildRun, @Ctx() ctx: Context) {
    const data = await ctx.loaders.build(r.providerId).load(r.buildKey);
    return data ? Build.from(r.providerId, data) : null;
  }

  @FieldResolver(() => [StepRun], { description: 'Steps of the run in order.' })
  async steps(@Root() r: BuildRun, @Ctx() ctx: Context) {
    ctx.services.registry.method(r.providerId, 'listStepRuns', 'STEP_RUNS');
    return (await ctx.loaders.stepRuns(r.providerId).load(r.key)).map((s) => StepRun.from(r.providerId, s));
  }

  @FieldResolver(() => BuildRecord, { nullable: true, description: 'History record of the run (trigger, revision, timings).' })
  async record(@Root() r: BuildRun, @Ctx() ctx: Context) {
    const get = ctx.services.registry.method(r.providerId, 'getBuildRecord', 'BUILD_RECORD');
    const rec = await get(r.key);
    return rec ? BuildRecord.from(r.providerId, rec) : null;
  }

  @FieldResolver(() => LogPage, { description: 'Stored log lines after `afterSeq` (or the last `first` lines with `tail`), optionally of one step.' })
  async log(
    @Root() r: BuildRun,
    @Ctx() ctx: Context,
    @Arg('stepRunId', () => ID, { nullable: true, description: 'Only lines of this StepRun.' }) stepRunId?: string | null,
    @Arg('afterSeq', () => Float, { nullable: true, description: 'Return lines with seq greater than this.' }) afterSeq?: number | null,
    @Arg('first', () => Int, { defaultValue: 500, description: 'Most lines to return (max 5000).' }) first: number = 500,
    @Arg('tail', { defaultValue: false, description: 'Return the last `first` lines (before afterSeq is ignored).' }) tail: boolean = false,
  ) {
    if (first < 1 || first > 5000) throw badInput('first must be between 1 and 5000', 'first');
    if (afterSeq != null && (!Number.isInteger(afterSeq) || afterSeq < 0)) throw badInput('afterSeq must be a non-negative integer', 'afterSeq');
    let stepKey: string | null = null;
    if (stepRunId) {
      // A step of another run (or provider) is not a filter that happens to match nothing: it is wrong input.
      const s = fromGlobalId(stepRunId, 'StepRun');
      const p = ctx.services.registry.get(r.providerId);
      const step = s.providerId === r.providerId && p.getStepRun ? await p.getStepRun(s.key) : null;
      if (!step || step.runKey !== r.key) throw new BuildgateError(ErrorCode.NOT_FOUND, `StepRun ${JSON.stringify(stepRunId)} is not a step of run ${JSON.stringify(r.id)}`, { id: stepRunId });
      stepKey = s.key;
    }
    const get = ctx.services.registry.method(r.providerId, 'getLogs', 'LOGS');
    const page = await get(r.key, { stepKey, afterSeq: afterSeq ?? 0, limit: first, tail });
    return Object.assign(new LogPage(), { lines: page.lines.map((l) => LogLine.from(r.providerId, l)), lastSeq: page.lastSeq, hasMore: page.hasMore });
  }
}
