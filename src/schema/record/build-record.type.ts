import { Field, Int, ObjectType } from 'type-graphql';
import { GraphQLDateTime, GraphQLJSONObject, GraphQLSafeInt } from 'graphql-scalars';
import type { BuildRecordData } from '../../providers/types.js';
import { toGlobalId } from '../../ids.js';
import { RunStateEnum } from '../common/enums.js';
import { Node } from '../common/node.js';

@ObjectType({ implements: Node, description: 'History record of one run: trigger, source revision, timings (CodeArts record-info; derived for others).' })
export class BuildRecord extends Node {
  providerId!: string;
  runKey!: string;
  buildKey!: string;
  @Field({ description: 'Provider-native record key (CodeArts build_record_id).' }) key!: string;
  @Field(() => Int, { nullable: true, description: 'Run number.' }) buildNo!: number | null;
  @Field({ description: "The provider's own status value." }) rawState!: string;
  @Field(() => RunStateEnum, { description: 'Unified state.' }) state!: string;
  @Field(() => String, { nullable: true, description: 'What started the run: MANUAL, API, TIMED_EXECUTION, CODEHUB_TRIGGER, PIPELINE_TRIGGER…' }) trigger!: string | null;
  @Field(() => String, { nullable: true, description: 'User or system that triggered it.' }) triggeredBy!: string | null;
  @Field(() => String, { nullable: true, description: 'Source repository.' }) repository!: string | null;
  @Field(() => String, { nullable: true, description: 'Branch.' }) branch!: string | null;
  @Field(() => String, { nullable: true, description: 'Source tag.' }) tag!: string | null;
  @Field(() => String, { nullable: true, description: 'Commit id.' }) commit!: string | null;
  @Field(() => String, { nullable: true, description: 'Commit message.' }) commitMessage!: string | null;
  @Field(() => GraphQLDateTime, { nullable: true, description: 'When the record was created.' }) createdAt!: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true, description: 'When the run was queued.' }) queuedAt!: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true, description: 'When the run started executing.' }) startedAt!: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true, description: 'When the run finished.' }) finishedAt!: Date | null;
  @Field(() => GraphQLSafeInt, { nullable: true, description: 'Duration, milliseconds.' }) durationMs!: number | null;
  @Field(() => String, { nullable: true, description: 'Error message.' }) errorMessage!: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'All provider fields of the record, secrets removed.' }) details!: Record<string, unknown> | null;

  static from(providerId: string, r: BuildRecordData): BuildRecord {
    return Object.assign(new BuildRecord(), {
      id: toGlobalId(providerId, 'BuildRecord', r.key), providerId, runKey: r.runKey, buildKey: r.buildKey, key: r.key,
      buildNo: r.buildNo, rawState: r.status, state: r.state, trigger: r.triggerType, triggeredBy: r.triggeredBy ?? null,
      repository: r.repository ?? null, branch: r.branch ?? null, tag: r.tag ?? null, commit: r.commit ?? null,
      commitMessage: r.commitMessage ?? null, createdAt: r.createTime ?? null, queuedAt: r.queuedTime ?? null,
      startedAt: r.startTime ?? null, finishedAt: r.finishTime ?? null, durationMs: r.durationMs ?? null,
      errorMessage: r.errorMessage ?? null, details: r.details ?? null,
    });
  }
}
