import { Field, Int, ObjectType } from 'type-graphql';
import { GraphQLDateTime, GraphQLJSONObject, GraphQLSafeInt } from 'graphql-scalars';
import type { BuildAction, BuildData, BuildStatsData, BuildStepData } from '../../providers/types.js';
import { toGlobalId } from '../../ids.js';
import { AutotagSeqTypeEnum, StepTypeEnum } from '../common/enums.js';
import { Node } from '../common/node.js';
import { StepConfigUnion, stepConfigView } from './step-config.type.js';

@ObjectType({ description: 'Automatic tagging of the images a build produces.' })
export class Autotag {
  @Field({ description: 'Tags are generated (Cocktail autotagUseYn = Y).' }) enabled!: boolean;
  @Field(() => String, { nullable: true, description: 'Prefix of generated tags.' }) prefix!: string | null;
  @Field(() => AutotagSeqTypeEnum, { nullable: true, description: 'DATETIME or SEQUENCE.' }) seqType!: string | null;
}

@ObjectType({ implements: Node, description: 'One step of a build definition.' })
export class BuildStep extends Node {
  @Field({ description: 'Provider-native step key (Cocktail buildStepSeq).' }) key!: string;
  @Field(() => StepTypeEnum, { description: 'Step type.' }) stepType!: string;
  @Field(() => Int, { description: 'Position in the build (1-based).' }) stepOrder!: number;
  @Field({ description: 'The step runs (Cocktail useFlag); disabled steps are SKIPPED.' }) useFlag!: boolean;
  @Field(() => StepConfigUnion, { description: 'Typed configuration; secrets show as has… flags.' }) config!: typeof StepConfigUnion;

  /** The global ID key is `<buildKey>#<buildStepKey>` so `node(id)` can find the build. */
  static from(providerId: string, buildKey: string, s: BuildStepData): BuildStep {
    return Object.assign(new BuildStep(), {
      id: toGlobalId(providerId, 'BuildStep', `${buildKey}#${s.key}`), key: s.key, stepType: s.stepType, stepOrder: s.stepOrder,
      useFlag: s.useFlag, config: stepConfigView(s.config),
    });
  }
}

@ObjectType({ description: 'Run statistics of a build, as the Cocktail build API gives them.' })
export class BuildStats {
  @Field(() => GraphQLSafeInt, { description: 'Number of runs.' }) runCount!: number;
  @Field(() => GraphQLSafeInt, { description: 'Runs running now.' }) runningCount!: number;
  @Field(() => GraphQLSafeInt, { description: 'Runs that ended DONE.' }) doneCount!: number;
  @Field(() => GraphQLSafeInt, { description: 'Runs that ended ERROR.' }) errorCount!: number;
  @Field(() => GraphQLSafeInt, { nullable: true, description: 'Pipelines using the build (Cocktail).' }) pipelineCount!: number | null;
  @Field(() => GraphQLSafeInt, { description: 'Image tags produced.' }) tagCount!: number;
  @Field(() => GraphQLSafeInt, { nullable: true, description: 'Average duration of successful runs, milliseconds (whole seconds where the provider counts seconds).' }) averageDurationMs!: number | null;
  @Field(() => GraphQLSafeInt, { nullable: true, description: 'Average image size of successful runs, bytes.' }) averageImageSize!: number | null;
  @Field(() => GraphQLSafeInt, { nullable: true, description: 'Duration of the latest run, milliseconds.' }) latestDurationMs!: number | null;
  @Field(() => GraphQLSafeInt, { nullable: true, description: 'Image size of the latest run, bytes.' }) latestImageSize!: number | null;
  @Field(() => GraphQLDateTime, { nullable: true, description: 'When the latest run started.' }) latestStartedAt!: Date | null;

  static from(s: BuildStatsData): BuildStats {
    // The model counts durations in seconds (as the Cocktail build API does); the schema in milliseconds, like every duration.
    const ms = (sec: number | null) => (sec == null ? null : Math.round(sec * 1000));
    const bytes = (n: number | null) => (n == null ? null : Math.round(n));
    return Object.assign(new BuildStats(), {
      runCount: s.buildCount, runningCount: s.runningCount, doneCount: s.doneCount, errorCount: s.errorCount,
      pipelineCount: s.pipelineCount ?? null, tagCount: s.tagCount, averageDurationMs: ms(s.buildTimeAvg),
      averageImageSize: bytes(s.imgSizeAvg), latestDurationMs: ms(s.latestBuildTime), latestImageSize: bytes(s.latestImgSize),
      latestStartedAt: s.latestExecTime,
    });
  }
}

@ObjectType({ implements: Node, description: 'A build definition, whichever provider holds it.' })
export class Build extends Node {
  /** Provider instance id (not a field: see `provider`). */
  providerId!: string;
  /** The provider's own list of actions for this build, when it has one (see BuildResolver.possibleActions). */
  actions!: BuildAction[] | null;
  @Field({ description: 'Provider-native key (native/Cocktail buildSeq, Quay namespace/name, Zadig project/name, CodeArts job_id).' }) key!: string;
  @Field({ description: 'Name.' }) name!: string;
  @Field(() => String, { nullable: true, description: 'Description.' }) description!: string | null;
  @Field(() => Int, { nullable: true, description: 'Cocktail account number.' }) accountSeq!: number | null;
  @Field(() => String, { nullable: true, description: 'Registry (project) the images go to.' }) registryName!: string | null;
  @Field(() => Int, { nullable: true, description: 'Registry project id.' }) registryProjectId!: number | null;
  @Field(() => Int, { nullable: true, description: 'External registry number.' }) externalRegistrySeq!: number | null;
  @Field(() => String, { nullable: true, description: 'Image name.' }) imageName!: string | null;
  @Field(() => String, { nullable: true, description: 'Default image tag.' }) tagName!: string | null;
  @Field(() => Autotag, { nullable: true, description: 'Automatic tagging settings.' }) autotag!: Autotag | null;
  @Field(() => String, { nullable: true, description: 'Build server (Cocktail buildServerHost; native: the queue it runs on).' }) buildServerHost!: string | null;
  @Field(() => Boolean, { nullable: true, description: 'TLS verification towards the build server.' }) buildServerTlsVerify!: boolean | null;
  @Field({ description: 'A build-server CA certificate is stored (never returned).' }) hasBuildServerCacrt!: boolean;
  @Field({ description: 'A build-server client certificate is stored (never returned).' }) hasBuildServerClientCert!: boolean;
  @Field({ description: 'A build-server client key is stored (never returned).' }) hasBuildServerClientKey!: boolean;
  @Field(() => String, { nullable: true, description: 'Registry host URL (Cocktail hostUrl).' }) hostUrl!: string | null;
  /** The provider's steps; their views are built only when `steps` is selected. */
  private stepData!: BuildStepData[] | null;
  @Field(() => [BuildStep], { nullable: true, description: 'Steps in order (null when the provider has no step model).' })
  get steps(): BuildStep[] | null {
    return this.stepData ? this.stepData.map((s) => BuildStep.from(this.providerId, this.key, s)) : null;
  }
  @Field(() => GraphQLDateTime, { nullable: true, description: 'Created.' }) createdAt!: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true, description: 'Last changed.' }) updatedAt!: Date | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Provider-specific fields, secrets removed.' }) details!: Record<string, unknown> | null;

  static from(providerId: string, b: BuildData): Build {
    return Object.assign(new Build(), {
      id: toGlobalId(providerId, 'Build', b.key), providerId, key: b.key, name: b.name, description: b.description ?? null,
      accountSeq: b.accountSeq ?? null, registryName: b.registryName ?? null, registryProjectId: b.registryProjectId ?? null,
      externalRegistrySeq: b.externalRegistrySeq ?? null, imageName: b.imageName ?? null, tagName: b.tagName ?? null,
      autotag: b.autotag ? Object.assign(new Autotag(), b.autotag) : null, buildServerHost: b.buildServerHost ?? null,
      buildServerTlsVerify: b.buildServerTlsVerify ?? null, hasBuildServerCacrt: !!b.hasBuildServerCacrt,
      hasBuildServerClientCert: !!b.hasBuildServerClientCert, hasBuildServerClientKey: !!b.hasBuildServerClientKey,
      hostUrl: b.hostUrl ?? null, createdAt: b.createdAt ?? null, updatedAt: b.updatedAt ?? null, details: b.details ?? null,
      stepData: b.steps ?? null,
      actions: b.possibleActions ?? null,
    });
  }
}
