import { createHash } from 'node:crypto';
import { createPubSub, type PubSub } from '@graphql-yoga/subscription';
import type { Instruments } from '../metrics/instruments.js';
import type { LogLineData, RunData, StepRunData } from '../providers/types.js';
import { LocalBus, RedisBus, transportDown, type Bus, type Listener } from './bus.js';

/** Events published inside the gateway; subscriptions read them. */
export interface BuildChangePayload { kind: 'CREATED' | 'UPDATED' | 'DELETED'; providerId: string; buildKey: string }
export interface RunEvent { providerId: string; run: RunData }
export interface StepEvent { providerId: string; runKey: string; step: StepRunData }
export interface LogEvent { providerId: string; runKey: string; lines: LogLineData[] }
/** An upstream pushed news of a build's run (a webhook): its pollers on every replica read it now. */
export interface PushEvent { providerId: string; buildKey: string; runKey: string | null }

/** Per-object topics take the object's scoped key (`<providerId>:<key>`) as their id. */
export type Topics = {
  BUILDS_CHANGED: [BuildChangePayload];
  RUN_UPDATED: [string, RunEvent];
  STEP_UPDATED: [string, StepEvent];
  RUN_LOG: [string, LogEvent];
  /** Any run of a build or of a provider changed (list pages); id `<providerId>:<buildKey>` or `<providerId>`. */
  BUILD_RUNS: [string, RunEvent];
  /** A gateway asks the build agents to cancel a native run, or to delete its workspace (id: the provider id). */
  AGENT_REQUEST: [string, { action: 'cancel' | 'removeWorkspace'; runKey: string }];
  /** Webhook news for the pollers (id: the provider id). */
  PUSH: [string, PushEvent];
};
type KeyedTopic = Exclude<keyof Topics, 'BUILDS_CHANGED'>;

export const scoped = (providerId: string, key: string) => `${providerId}:${key}`;

/**
 * The Redis namespace of one deployment: gateways and agents sharing a store share it (live
 * channels, run queues); unrelated deployments on one Redis do not.
 */
export function redisNamespace(databaseUrl: string, pgSchema?: string): string {
  return `buildgate:${createHash('sha256').update(`${databaseUrl}|${pgSchema ?? ''}`).digest('hex').slice(0, 12)}`;
}

/** Limits of live delivery. */
export interface LiveSettings {
  /** Live log lines buffered per subscriber; past it the subscriber is told it fell behind. Default 20000. */
  maxBufferedLines: number;
  /** Bytes waiting on a subscriber's websocket past which it counts as behind. Default 8 MiB. */
  maxSocketBufferedBytes: number;
  /**
   * A log subscriber whose buffer overflows catches up from storage at its own pace; it gets
   * fellBehind only when it has not asked for its next event for this long (ms). Default 5000.
   */
  stalledClientMs: number;
  /** Lines per replay read and most lines per event. Default 1000. */
  pageLines: number;
  /** Poll interval of an upstream run while it runs (ms). Default 1000. */
  pollMs: number;
  /** Poll interval while an upstream run is queued, and the ceiling of the error backoff (ms). Default 5000. */
  pollIdleMs: number;
  /** Poll interval of an upstream build's run list while `buildRunsUpdated(buildId)` watches it (ms). Default 10000. */
  listPollMs: number;
}
export const DEFAULT_LIVE_SETTINGS: LiveSettings = {
  maxBufferedLines: 20_000, maxSocketBufferedBytes: 8 * 1024 * 1024, stalledClientMs: 5000, pageLines: 1000, pollMs: 1000, pollIdleMs: 5000, listPollMs: 10_000,
};

export interface LiveHubOptions {
  settings?: Partial<LiveSettings>;
  /** Failures of the fan-out transport (Redis down, a listener throwing). */
  onError?: (e: Error) => void;
  /** Where fan-out lag is measured (absent: not measured). */
  instruments?: Instruments;
}

/**
 * The live channels: in-process pub/sub by default; `useRedis` moves fan-out onto Redis
 * pub/sub so that every replica sees every event, without touching resolvers or the engine.
 * What publishes (the engine, pollers) needs only these; LiveHub (hub.ts) adds what
 * subscriptions share on a gateway.
 */
export class LiveChannels {
  readonly pubSub: PubSub<Topics>;
  readonly settings: LiveSettings;
  private bus: Bus = new LocalBus();
  private redisUrl: string | null = null;
  protected readonly onError: (e: Error) => void;
  readonly instruments: Instruments | undefined;
  private readonly downWatchers = new Set<(e: Error) => void>();


  constructor(opts: LiveHubOptions = {}) {
    this.settings = { ...DEFAULT_LIVE_SETTINGS, ...opts.settings };
    this.onError = opts.onError ?? (() => undefined);
    this.instruments = opts.instruments;
    // createPubSub keeps its target for life; this one forwards to whichever bus is current.
    const target = {
      addEventListener: (t: string, l: Listener | null) => this.bus.addEventListener(t, l as never),
      removeEventListener: (t: string, l: Listener | null) => this.bus.removeEventListener(t, l as never),
      dispatchEvent: (e: Event) => this.bus.dispatchEvent(e),
    } as EventTarget;
    this.pubSub = createPubSub<Topics>({ eventTarget: target as never });
  }

  /** Failures inside the live machinery (a poller's upstream call, the transport). */
  reportError(e: Error): void {
    this.onError(e);
  }

  /**
   * Fans out through Redis (channels `<channelPrefix><topic>`). Replicas that share a store
   * must share the prefix; unrelated deployments on one Redis must not. Call before serving.
   */
  async useRedis(url: string, channelPrefix = 'buildgate:'): Promise<void> {
    if (this.redisUrl === url) return;
    const bus = new RedisBus(url, channelPrefix, this.onError, () => {
      const e = transportDown();
      for (const w of [...this.downWatchers]) w(e);
    });
    const old = this.bus;
    this.bus = bus;
    this.redisUrl = url;
    await old.close();
  }

  /** False while live events cannot travel between replicas (Redis unreachable). */
  get transportUp(): boolean {
    return this.bus.up;
  }

  /** Throws UPSTREAM_UNAVAILABLE while live events cannot travel: a new subscriber would wait for nothing. */
  assertTransportUp(): void {
    if (this.bus.lost) throw transportDown();
  }

  /**
   * Calls `cb` when the transport is lost: events published meanwhile never arrive, so a
   * subscription must end with the error (the client resubscribes, resuming by afterSeq).
   */
  onTransportDown(cb: (e: Error) => void): () => void {
    this.downWatchers.add(cb);
    return () => { this.downWatchers.delete(cb); };
  }

  /** Listens to one object's topic; `ready` resolves once events published anywhere reach `cb`. */
  listen<K extends KeyedTopic>(name: K, id: string, cb: (payload: Topics[K][1]) => void): { ready: Promise<void>; off: () => void } {
    const topic = `${name}:${id}`;
    const listener = (e: Event) => cb((e as CustomEvent).detail as Topics[K][1]);
    this.bus.addEventListener(topic, listener);
    const bus = this.bus;
    return { ready: bus.ready(topic), off: () => bus.removeEventListener(topic, listener) };
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
  /** Wakes the pollers of the run (or of the build's watched runs) on every replica. */
  pushed(e: PushEvent): void {
    this.pubSub.publish('PUSH', e.providerId, e);
  }
  logLines(providerId: string, runKey: string, lines: LogLineData[]): void {
    if (lines.length) this.pubSub.publish('RUN_LOG', scoped(providerId, runKey), { providerId, runKey, lines });
  }

  /** Stops the transport. */
  async close(): Promise<void> {
    await this.bus.close();
  }
}
