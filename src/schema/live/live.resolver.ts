import { GraphQLSafeInt } from 'graphql-scalars';
import { Arg, Authorized, ID, Resolver, Root, Subscription } from 'type-graphql';
import { badInput, BuildgateError, ErrorCode, notFound } from '../../errors.js';
import { fromGlobalId } from '../../ids.js';
import { DIRECT, isDirectCapable, type DirectSink } from '../../live/direct.js';
import { LogFollower, type SocketLike } from '../../live/log-follower.js';
import { BuildRunsStream, RunStateStream, StepStateStream } from '../../live/state-stream.js';
import type { Provider } from '../../providers/types.js';
import type { Context } from '../context.js';
import { BuildRun, StepRun } from '../run/run.type.js';
import { LogBatch, logLineView } from './live.type.js';

/**
 * Maps each event of a source stream; ending this one ends the source (graphql-ws calls
 * return on unsubscribe). Events the source delivers directly (live/direct.ts) are mapped too.
 */
function mapStream<T, U>(src: AsyncIterableIterator<T>, fn: (v: T) => U): AsyncIterableIterator<U> {
  const direct = isDirectCapable<T>(src) ? src : null;
  const it: AsyncIterableIterator<U> & Partial<{ [DIRECT](sink: DirectSink<U> | null): void }> = {
    async next() {
      const r = await src.next();
      return r.done ? { done: true, value: undefined } : { done: false, value: fn(r.value) };
    },
    async return() {
      await src.return?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]: () => it,
  };
  if (direct) it[DIRECT] = (sink) => direct[DIRECT](sink && ((v: T) => sink(fn(v))));
  return it;
}

/** The run's provider, refusing one that cannot read runs or `need`. */
function runProvider(ctx: Context, runId: string, need: 'LOGS' | 'STEP_RUNS' | null): { provider: Provider; runKey: string } {
  const gid = fromGlobalId(runId, 'BuildRun');
  const { registry } = ctx.services;
  registry.method(gid.providerId, 'getRun', 'RUN_GET');
  if (need === 'LOGS') registry.method(gid.providerId, 'getLogs', 'LOGS');
  if (need === 'STEP_RUNS') registry.method(gid.providerId, 'listStepRuns', 'STEP_RUNS');
  return { provider: registry.get(gid.providerId), runKey: gid.key };
}

/** The server's websocket, when the gateway puts it in the context (graphql-ws `extra.socket`). */
const socketOf = (ctx: Context) => (ctx as Context & { socket?: SocketLike }).socket ?? null;

/** Live batches are shared arrays (see LogFollower.drain); their views are shared too. */
const sharedBatches = new WeakMap<readonly unknown[], LogBatch>();

interface RunLogArgs { runId: string; stepRunId?: string | null; afterSeq?: number | null }

async function openRunLog(ctx: Context, args: RunLogArgs) {
  const { provider, runKey } = runProvider(ctx, args.runId, 'LOGS');
  const afterSeq = args.afterSeq ?? 0;
  if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) throw badInput('afterSeq must be a non-negative integer', 'afterSeq');
  let stepRunKey: string | null = null;
  if (args.stepRunId) {
    const s = fromGlobalId(args.stepRunId, 'StepRun');
    const step = s.providerId === provider.id && provider.getStepRun ? await provider.getStepRun(s.key) : null;
    if (!step || step.runKey !== runKey) throw new BuildgateError(ErrorCode.NOT_FOUND, `StepRun ${JSON.stringify(args.stepRunId)} is not a step of run ${JSON.stringify(args.runId)}`, { id: args.stepRunId });
    stepRunKey = s.key;
  }
  const stream = await LogFollower.open(ctx.services.live, { provider, runKey, stepRunKey, afterSeq, socket: socketOf(ctx) }).catch((e) => { throw asRunError(e, args.runId); });
  return mapStream(stream, (b) => {
    // One LogBatch per shared live batch: subscribers of the same run get the same event object.
    const cached = b.fellBehind ? undefined : sharedBatches.get(b.lines);
    if (cached) return cached;
    const view = Object.assign(new LogBatch(), { lines: b.lines.map((l) => logLineView(provider.id, l)), lastSeq: b.lastSeq, fellBehind: b.fellBehind });
    if (!b.fellBehind) sharedBatches.set(b.lines, view);
    return view;
  });
}

/** A stream's NOT_FOUND names the run by its provider key; the client sent the global ID. */
function asRunError(e: unknown, runId: string): unknown {
  return e instanceof BuildgateError && e.code === ErrorCode.NOT_FOUND && e.extensions.id === fromGlobalId(runId).key ? notFound('BuildRun', runId) : e;
}

@Resolver()
export class LiveResolver {
  @Authorized('viewer')
  @Subscription(() => LogBatch, {
    description: 'Log lines of a run (optionally one step): the stored lines after `afterSeq`, then live lines, each exactly once, in order. Completes after the last line of a finished run. A subscriber too slow to keep up gets a final event with fellBehind = true and lastSeq to resume after.',
    subscribe: ({ args, context }) => openRunLog(context as Context, args as RunLogArgs),
  })
  runLog(
    @Root() batch: LogBatch,
    @Arg('runId', () => ID, { description: 'BuildRun ID.' }) _runId: string,
    @Arg('stepRunId', () => ID, { nullable: true, description: 'Only lines of this StepRun of the run.' }) _stepRunId?: string | null,
    @Arg('afterSeq', () => GraphQLSafeInt, { nullable: true, description: 'Sequence number of the last line already seen (0 or omitted: from the start; past the end: live lines only).' }) _afterSeq?: number | null,
  ): LogBatch {
    return batch;
  }

  @Authorized('viewer')
  @Subscription(() => BuildRun, {
    description: "A run's state, times and error: first the current state, then each change; completes after the run's final state.",
    subscribe: async ({ args, context }) => {
      const ctx = context as Context;
      const { provider, runKey } = runProvider(ctx, (args as { runId: string }).runId, null);
      const s = await RunStateStream.open(ctx.services.live, provider, runKey).catch((e) => { throw asRunError(e, (args as { runId: string }).runId); });
      return mapStream(s, (r) => BuildRun.from(provider.id, r));
    },
  })
  runUpdated(@Root() run: BuildRun, @Arg('runId', () => ID, { description: 'BuildRun ID.' }) _runId: string): BuildRun {
    return run;
  }

  @Authorized('viewer')
  @Subscription(() => StepRun, {
    description: "States of a run's steps: first every step as it is, then each change; completes when the run has ended.",
    subscribe: async ({ args, context }) => {
      const ctx = context as Context;
      const { provider, runKey } = runProvider(ctx, (args as { runId: string }).runId, 'STEP_RUNS');
      const s = await StepStateStream.open(ctx.services.live, provider, runKey).catch((e) => { throw asRunError(e, (args as { runId: string }).runId); });
      return mapStream(s, (step) => StepRun.from(provider.id, step));
    },
  })
  stepUpdated(@Root() step: StepRun, @Arg('runId', () => ID, { description: 'BuildRun ID.' }) _runId: string): StepRun {
    return step;
  }

  @Authorized('viewer')
  @Subscription(() => BuildRun, {
    description: 'Runs created or changed, of one build or of one provider, for list pages. Native runs are pushed; upstream ones are polled while watched, every `live.listPollMs`: for `buildId` its newest runs, for `providerId` the latest run of each of its first 100 builds.',
    subscribe: async ({ args, context }) => {
      const ctx = context as Context;
      const a = args as { buildId?: string | null; providerId?: string | null };
      let providerId = a.providerId ?? null;
      let buildKey: string | null = null;
      if (a.buildId) {
        const gid = fromGlobalId(a.buildId, 'Build');
        if (providerId && providerId !== gid.providerId) throw badInput(`buildId is a build of provider "${gid.providerId}", not "${providerId}"`, 'providerId');
        providerId = gid.providerId;
        buildKey = gid.key;
        const getBuild = ctx.services.registry.method(providerId, 'getBuild', 'BUILD_GET');
        if (!(await getBuild(buildKey))) throw notFound('Build', a.buildId);
      }
      if (!providerId) throw badInput('give buildId or providerId', 'buildId');
      ctx.services.registry.get(providerId); // unknown provider: NOT_FOUND
      const s = await BuildRunsStream.open(ctx.services.live, ctx.services.registry.get(providerId), buildKey);
      const pid = providerId;
      return mapStream(s, (r) => BuildRun.from(pid, r));
    },
  })
  buildRunsUpdated(
    @Root() run: BuildRun,
    @Arg('buildId', () => ID, { nullable: true, description: 'Only runs of this Build.' }) _buildId?: string | null,
    @Arg('providerId', () => String, { nullable: true, description: 'Only runs of this provider instance.' }) _providerId?: string | null,
  ): BuildRun {
    return run;
  }
}
