import { Field, ID, Int, ObjectType } from 'type-graphql';
import { GraphQLDateTime, GraphQLJSONObject, GraphQLSafeInt } from 'graphql-scalars';
import { STEP_TYPES, type BuildAction, type LogLineData, type RunData, type RunState, type StepRunData, type StepConfig, type StepType } from '../../providers/types.js';
import { toGlobalId } from '../../ids.js';
import { LogSourceEnum, RunStateEnum, RunTypeEnum, StepStateEnum, StepTypeEnum } from '../common/enums.js';
import { Node } from '../common/node.js';
import { StepConfigUnion, stepConfigView } from '../build/step-config.type.js';
import { actionsFor } from '../../providers/run-actions.js';
import { maskUrl } from '../../secrets/mask.js';

/** Path of the whole-log download of a run (served by src/server/log-download.ts). */
export const LOG_DOWNLOAD_PATH = '/logs';
export const logUrlFor = (runId: string) => `${LOG_DOWNLOAD_PATH}/${runId}.txt`;

const millis = (a: Date | null, b: Date | null) => (a && b ? Math.max(0, b.getTime() - a.getTime()) : null);

@ObjectType({ implements: Node, description: 'One execution of a build.' })
export class BuildRun extends Node {
  providerId!: string;
  buildKey!: string;
  @Field({ description: 'Provider-native run key (native/Cocktail buildRunSeq, Quay build uuid, Zadig task id, CodeArts build_no).' }) key!: string;
  @Field(() => Int, { nullable: true, description: 'Run number within the build (buildNo).' }) buildNo!: number | null;
  @Field(() => RunTypeEnum, { description: 'BUILD, or a CANCEL / REMOVE record (Cocktail).' }) runType!: string;
  @Field(() => RunStateEnum, { description: 'Unified state.' }) state!: RunState;
  @Field({ description: "The provider's own state value (e.g. Quay phase, CodeArts status)." }) rawState!: string;
  @Field(() => String, { nullable: true, description: 'Run description (runDesc).' }) description!: string | null;
  @Field(() => String, { nullable: true, description: 'Image tag of this run.' }) tagName!: string | null;
  @Field(() => String, { nullable: true, description: 'URL called when the run ends (a password and token-named query values show as ***).' }) callbackUrl!: string | null;
  @Field(() => String, { nullable: true, description: 'Pushed image URL.' }) imageUrl!: string | null;
  @Field(() => GraphQLSafeInt, { nullable: true, description: 'Pushed image size, bytes.' }) imageSize!: number | null;
  @Field(() => String, { nullable: true, description: 'Pushed image digest.' }) imageDigest!: string | null;
  @Field(() => String, { nullable: true, description: 'What started the run: MANUAL, API, TIMED_EXECUTION, CODEHUB_TRIGGER, PIPELINE_TRIGGER…' }) trigger!: string | null;
  @Field(() => String, { nullable: true, description: 'Who or what started it.' }) triggeredBy!: string | null;
  @Field(() => String, { nullable: true, description: 'Source revision built (commit).' }) sourceRevision!: string | null;
  @Field(() => String, { nullable: true, description: 'Why the run failed.' }) errorMessage!: string | null;
  @Field(() => GraphQLDateTime, { nullable: true, description: 'When it started executing.' }) startedAt!: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true, description: 'When it finished (null while queued or running).' }) finishedAt!: Date | null;
  @Field(() => GraphQLSafeInt, { nullable: true, description: 'Milliseconds from startedAt to finishedAt.' }) durationMs!: number | null;
  /** The provider's list or the state rule; the field (RunResolver) limits it to the provider's capabilities. */
  possibleActions!: BuildAction[];
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Provider-specific fields, secrets removed.' }) details!: Record<string, unknown> | null;

  static from(providerId: string, r: RunData): BuildRun {
    return Object.assign(new BuildRun(), {
      id: toGlobalId(providerId, 'BuildRun', r.key), providerId, buildKey: r.buildKey, key: r.key, buildNo: r.buildNo,
      runType: r.runType, state: r.state, rawState: r.rawState, description: r.description, tagName: r.tagName,
      callbackUrl: r.callbackUrl ? maskUrl(r.callbackUrl) : null, imageUrl: r.imageUrl ?? null, imageSize: r.imageSize ?? null, imageDigest: r.imageDigest ?? null,
      trigger: r.trigger ?? null, triggeredBy: r.triggeredBy ?? null, sourceRevision: r.sourceRevision ?? null,
      errorMessage: r.errorMessage ?? null, startedAt: r.beginTime, finishedAt: r.endTime, durationMs: millis(r.beginTime, r.endTime),
      possibleActions: r.possibleActions ?? actionsFor(r.state), details: r.details ?? null,
    });
  }
}

@ObjectType({ implements: Node, description: 'One step of a run.' })
export class StepRun extends Node {
  providerId!: string;
  runKey!: string;
  @Field({ description: 'Provider-native key (buildStepRunSeq, Quay phase, Zadig job name, CodeArts step).' }) key!: string;
  @Field(() => StepTypeEnum, { nullable: true, description: "Step type, when the step is one of the unified kinds (native and Cocktail steps); null for another provider's own step kinds (see rawStepType)." }) stepType!: StepType | null;
  @Field({ description: "The provider's own name of the step kind (e.g. a Quay phase, a Zadig job type)." }) rawStepType!: string;
  @Field(() => Int, { description: 'Position in the run (1-based).' }) stepOrder!: number;
  @Field(() => String, { nullable: true, description: 'Step title.' }) title!: string | null;
  @Field(() => StepStateEnum, { description: 'Unified state.' }) state!: string;
  @Field({ description: "The provider's own state value." }) rawState!: string;
  @Field(() => GraphQLDateTime, { nullable: true, description: 'When it started executing.' }) startedAt!: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true, description: 'When it finished.' }) finishedAt!: Date | null;
  @Field(() => GraphQLSafeInt, { nullable: true, description: 'Milliseconds from startedAt to finishedAt.' }) durationMs!: number | null;
  @Field(() => String, { nullable: true, description: 'Why the step failed.' }) errorMessage!: string | null;
  @Field({ description: 'The step was enabled (useFlag).' }) useFlag!: boolean;
  /** The stored config; its view is built only when `config` is selected. */
  private configData!: StepConfig | null;
  @Field(() => StepConfigUnion, { nullable: true, description: 'The step configuration this run used; secrets as has… flags.' })
  get config(): typeof StepConfigUnion | null {
    return this.configData ? stepConfigView(this.configData) : null;
  }

  static from(providerId: string, s: StepRunData): StepRun {
    return Object.assign(new StepRun(), {
      id: toGlobalId(providerId, 'StepRun', s.key), providerId, runKey: s.runKey, key: s.key,
      stepType: (STEP_TYPES as readonly string[]).includes(s.stepType) ? s.stepType as StepType : null, rawStepType: s.stepType,
      stepOrder: s.stepOrder, title: s.title ?? null, state: s.state, rawState: s.rawState, startedAt: s.beginTime,
      finishedAt: s.endTime, durationMs: millis(s.beginTime, s.endTime), errorMessage: s.errorMessage ?? null,
      useFlag: s.useFlag ?? true, configData: s.config ?? null,
    });
  }
}

@ObjectType({ description: 'One line of a run log.' })
export class LogLine {
  @Field(() => GraphQLSafeInt, { description: 'Sequence number, increasing by one per line within the run, never reused.' }) seq!: number;
  @Field(() => ID, { nullable: true, description: 'Global ID of the StepRun that wrote it (null for run-level lines).' }) stepRunId!: string | null;
  @Field(() => LogSourceEnum, { description: 'STDOUT, STDERR or SYSTEM.' }) source!: string;
  @Field(() => GraphQLDateTime, { nullable: true, description: 'When it was written (null when the provider gives no time).' }) loggedAt!: Date | null;
  @Field({ description: 'Text without the line ending (a line ends at \\n, \\r\\n or a lone \\r); secrets masked; NUL shown as U+2400, invalid UTF-8 as U+FFFD.' }) text!: string;
  @Field({ description: 'True on a piece of a long line that continues the previous line: the native engine stores lines longer than engine.maxLogLineBytes in pieces cut between characters. Join such pieces without a newline.' }) continued!: boolean;

  static from(providerId: string, l: LogLineData): LogLine {
    return Object.assign(new LogLine(), {
      seq: l.seq, stepRunId: l.stepRunKey ? toGlobalId(providerId, 'StepRun', l.stepRunKey) : null, source: l.source, loggedAt: l.time, text: l.text,
      continued: l.continued ?? false,
    });
  }
}

@ObjectType({ description: 'A page of log lines, addressed by sequence number.' })
export class LogPage {
  @Field(() => [LogLine], { description: 'Lines in sequence order.' }) lines!: LogLine[];
  @Field(() => GraphQLSafeInt, { description: 'Highest sequence number stored for the run so far (0 when empty).' }) lastSeq!: number;
  @Field({ description: 'More lines follow the last one returned.' }) hasMore!: boolean;
}
