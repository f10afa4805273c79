import { GraphQLSafeInt } from 'graphql-scalars';
import { Arg, Authorized, Ctx, Field, FieldResolver, ID, InputType, Int, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { actionNotAllowed, badInput, BuildgateError, ErrorCode, notFound } from '../../errors.js';
import { MutationInput, MutationPayload, payload } from '../common/mutation.js';
import { fromGlobalId, toGlobalId } from '../../ids.js';
import { possibleActions } from '../../providers/run-actions.js';
import { TEXT_MAX } from '../../providers/build-rules.js';
import type { BuildAction, RunData } from '../../providers/types.js';
import { BuildActionEnum, KeptBecauseEnum } from '../common/enums.js';
import { Build } from '../build/build.type.js';
import type { Context } from '../context.js';
import { Provider } from '../provider/provider.type.js';
import { BuildRecord } from '../record/build-record.type.js';
import { BuildRun, LogLine, LogPage, logUrlFor, StepRun } from './run.type.js';

export async function loadRun(ctx: Context, id: string, field?: string): Promise<{ providerId: string; data: RunData }> {
  const gid = fromGlobalId(id, 'BuildRun', field);
  const data = await ctx.loaders.run(gid.providerId).load(gid.key);
  if (!data) throw notFound('BuildRun', id, field);
  return { providerId: gid.providerId, data };
}

@InputType({ description: 'Input of runBuild.' })
class RunBuildInput extends MutationInput {
  @Field(() => ID, { description: 'Build ID.' }) buildId!: string;
  @Field(() => String, { nullable: true, description: 'Image tag; autotag or the build tag when omitted.' }) tagName?: string | null;
  @Field(() => String, { nullable: true, description: `Run description (at most ${TEXT_MAX.description.toLocaleString('en')} characters).` }) description?: string | null;
  @Field(() => String, { nullable: true, description: 'URL POSTed with the run summary when the run ends.' }) callbackUrl?: string | null;
}

@InputType({ description: 'Input of cancelRun.' })
class CancelRunInput extends MutationInput {
  @Field(() => ID, { description: 'BuildRun ID.' }) runId!: string;
}

@InputType({ description: 'Input of removeRun.' })
class RemoveRunInput extends MutationInput {
  @Field(() => ID, { description: 'BuildRun ID.' }) runId!: string;
  @Field({ defaultValue: false, description: "Also delete the pushed image tag from the registry, while this run still owns it: no newer run pushed the same tag and the registry still has this run's digest under it. A tag kept for that reason is listed in the payload's keptImageTags; the run is removed all the same." }) removeImageTag!: boolean;
}

@ObjectType({ description: 'Result of runBuild.' })
class RunBuildPayload extends MutationPayload {
  @Field(() => BuildRun, { nullable: true, description: 'The new run (null when errors is not empty).' }) run!: BuildRun | null;
}

@ObjectType({ description: 'Result of cancelRun.' })
class CancelRunPayload extends MutationPayload {
  @Field(() => BuildRun, { nullable: true, description: 'The run as it is after the cancel (null when errors is not empty).' }) run!: BuildRun | null;
}

@ObjectType({ description: 'A pushed image tag removeRun left in the registry because the run no longer owns it.' })
class KeptImageTag {
  @Field({ description: 'host/repository:tag' }) image!: string;
  @Field(() => KeptBecauseEnum, { description: 'Why it was kept.' }) keptBecause!: string;
  @Field(() => ID, { nullable: true, description: 'The run that pushed the tag again (NEWER_RUN).' }) ownerRunId!: string | null;
  @Field({ description: 'What was found, for people.' }) detail!: string;
}

@ObjectType({ description: 'Result of removeRun.' })
class RemoveRunPayload extends MutationPayload {
  @Field(() => ID, { nullable: true, description: 'ID of the removed run (null when errors is not empty).' }) removedRunId!: string | null;
  @Field(() => [KeptImageTag], { description: 'Image tags asked to be removed but kept (removeImageTag: true).' }) keptImageTags: KeptImageTag[] = [];
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
  @Query(() => BuildRun, { nullable: true, description: 'One run by global ID; null, with a NOT_FOUND error for its path, when there is none.' })
  async run(@Ctx() ctx: Context, @Arg('id', () => ID, { description: 'BuildRun ID.' }) id: string) {
    const { providerId, data } = await loadRun(ctx, id);
    return BuildRun.from(providerId, data);
  }

  @Authorized('operator')
  @Mutation(() => RunBuildPayload, { description: 'Starts a run of a build: optional tag, description and a callback URL called when it ends.' })
  runBuild(@Ctx() ctx: Context, @Arg('input', () => RunBuildInput, { description: 'Build and run options.' }) input: RunBuildInput) {
    return payload(RunBuildPayload, input, async () => {
      const { tagName, description, callbackUrl } = input;
      const gid = fromGlobalId(input.buildId, 'Build', 'buildId');
      if (tagName != null && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tagName)) throw badInput('tagName must be a valid image tag', 'tagName');
      if (callbackUrl != null && !/^https?:\/\/[^\s]+$/i.test(callbackUrl)) throw badInput('callbackUrl must be an http(s) URL', 'callbackUrl');
      if ((description?.length ?? 0) > TEXT_MAX.description) throw badInput(`description is longer than ${TEXT_MAX.description} characters`, 'description');
      const start = ctx.services.registry.method(gid.providerId, 'runBuild', 'RUN_START');
      const data = await start(gid.key, { tagName, description, callbackUrl, triggeredBy: 'api' });
      return { run: BuildRun.from(gid.providerId, data) };
    });
  }

  @Authorized('operator')
  @Mutation(() => CancelRunPayload, { description: 'Cancels a queued or running run. Canceling a finished run is refused with ACTION_NOT_ALLOWED; canceling twice returns the run as it is.' })
  cancelRun(@Ctx() ctx: Context, @Arg('input', () => CancelRunInput, { description: 'The run.' }) input: CancelRunInput) {
    return payload(CancelRunPayload, input, async () => {
      const { providerId, data } = await loadRun(ctx, input.runId, 'runId');
      const run = BuildRun.from(providerId, data);
      if (run.state === 'CANCELED') return { run };
      requireAction(ctx, run, 'CANCEL');
      const cancel = ctx.services.registry.method(providerId, 'cancelRun', 'RUN_CANCEL');
      return { run: BuildRun.from(providerId, await cancel(data.key)) };
    });
  }

  @Authorized('operator')
  @Mutation(() => RemoveRunPayload, { description: 'Removes a finished run: its record, logs and workspace, and its image tag when asked. Returns the removed ID.' })
  removeRun(@Ctx() ctx: Context, @Arg('input', () => RemoveRunInput, { description: 'The run and what to remove with it.' }) input: RemoveRunInput) {
    return payload(RemoveRunPayload, input, async () => {
      const id = input.runId;
      const { providerId, data } = await loadRun(ctx, id, 'runId');
      requireAction(ctx, BuildRun.from(providerId, data), 'REMOVE');
      const remove = ctx.services.registry.method(providerId, 'removeRun', 'RUN_REMOVE');
      const removed = await remove(data.key, { removeImageTag: input.removeImageTag });
      if (!removed) throw notFound('BuildRun', id, 'runId');
      const keptImageTags = removed.imageTagsKept.map((k) => Object.assign(new KeptImageTag(), {
        image: k.image, keptBecause: k.reason, ownerRunId: k.ownerRunKey ? toGlobalId(providerId, 'BuildRun', k.ownerRunKey) : null, detail: k.detail,
      }));
      return { removedRunId: id, keptImageTags };
    });
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
    @Arg('afterSeq', () => GraphQLSafeInt, { nullable: true, description: 'Return lines with seq greater than this.' }) afterSeq?: number | null,
    @Arg('first', () => Int, { defaultValue: 500, description: 'Most lines to return (max 5000).' }) first: number = 500,
    @Arg('tail', { defaultValue: false, description: 'Return the last `first` lines (before afterSeq is ignored).' }) tail: boolean = false,
  ) {
    if (first < 1 || first > 5000) throw badInput('first must be between 1 and 5000', 'first');
    if (afterSeq != null && (!Number.isInteger(afterSeq) || afterSeq < 0)) throw badInput('afterSeq must be a non-negative integer', 'afterSeq');
    let stepRunKey: string | null = null;
    if (stepRunId) {
      // A step of another run (or provider) is not a filter that happens to match nothing: it is wrong input.
      const s = fromGlobalId(stepRunId, 'StepRun');
      const p = ctx.services.registry.get(r.providerId);
      const step = s.providerId === r.providerId && p.getStepRun ? await p.getStepRun(s.key) : null;
      if (!step || step.runKey !== r.key) throw new BuildgateError(ErrorCode.NOT_FOUND, `StepRun ${JSON.stringify(stepRunId)} is not a step of run ${JSON.stringify(r.id)}`, { id: stepRunId });
      stepRunKey = s.key;
    }
    const get = ctx.services.registry.method(r.providerId, 'getLogs', 'LOGS');
    const page = await get(r.key, { stepRunKey, afterSeq: afterSeq ?? 0, limit: first, tail });
    return Object.assign(new LogPage(), { lines: page.lines.map((l) => LogLine.from(r.providerId, l)), lastSeq: page.lastSeq, hasMore: page.hasMore });
  }
}
