import { createPubSub, type PubSub } from '@graphql-yoga/subscription';
import type { LogLineData, RunData, StepRunData } from '../providers/types.js';

/** Events published inside the gateway; subscriptions read them. */
export interface BuildChangePayload { kind: 'CREATED' | 'UPDATED' | 'DELETED'; providerId: string; buildKey: string }
export interface RunEvent { providerId: string; run: RunData }
export interface StepEvent { providerId: string; runKey: string; step: StepRunData }
export interface LogEvent { providerId: string; runKey: string; lines: LogLineData[] }

/** Per-object topics take the object's scoped key (`<providerId>:<key>`) as their id. */
export type Topics = {
  BUILDS_CHANGED: [BuildChangePayload];
  RUN_UPDATED: [string, RunEvent];
  STEP_UPDATED: [string, StepEvent];
  RUN_LOG: [string, LogEvent];
  /** Any run of a build or of a provider changed (list pages); id `<providerId>:<buildKey>` or `<providerId>`. */
  BUILD_RUNS: [string, RunEvent];
};

export const scoped = (providerId: string, key: string) => `${providerId}:${key}`;

/**
 * The live hub: in-process pub/sub by default. Redis-backed fan-out between replicas
 * plugs in here (an EventTarget for createPubSub) without touching resolvers or the engine.
 */
export class LiveHub {
  readonly pubSub: PubSub<Topics>;
  constructor(config?: Parameters<typeof createPubSub<Topics>>[0]) {
    this.pubSub = createPubSub<Topics>(config);
  }
  buildChanged(p: BuildChangePayload): void {
    this.pubSub.publish('BUILDS_CHANGED', p);
  }
  runUpdated(providerId: string, run: RunData): void {
    const e = { providerId, run };
    this.pubSub.publish('RUN_UPDATED', scoped(providerId, run.key), e);
    this.pubSub.publish('BUILD_RUNS', scoped(providerId, run.buildKey), e);
    this.pubSub.publish('BUILD_RUNS', providerId, e);
  }
  stepUpdated(providerId: string, runKey: string, step: StepRunData): void {
    this.pubSub.publish('STEP_UPDATED', scoped(providerId, runKey), { providerId, runKey, step });
  }
  logLines(providerId: string, runKey: string, lines: LogLineData[]): void {
    if (lines.length) this.pubSub.publish('RUN_LOG', scoped(providerId, runKey), { providerId, runKey, lines });
  }
}
