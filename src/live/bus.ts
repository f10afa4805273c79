import { Redis } from 'ioredis';
import { closeRedis } from '../net/redis-close.js';
import { BuildgateError, ErrorCode } from '../errors.js';

/**
 * Where hub events travel: an EventTarget (what createPubSub takes) that can also say when
 * a listener is really live. `ready(topic)` matters for exact resume: a log subscriber
 * must be receiving live lines *before* it reads the stored ones, and on Redis that is
 * only true once the SUBSCRIBE is acknowledged.
 */
export interface Bus extends EventTarget {
  /** Resolves once events of `topic` published by any replica reach listeners here. */
  ready(topic: string): Promise<void>;
  /** False until events can travel, and while they cannot (Redis unreachable). */
  readonly up: boolean;
  /** True once the transport was lost (or never came up) until it is back: subscribers would wait for nothing. */
  readonly lost: boolean;
  close(): Promise<void>;
}

/** What a subscriber gets when live events cannot reach it. */
export const transportDown = () => new BuildgateError(ErrorCode.UPSTREAM_UNAVAILABLE, 'live updates are unavailable: Redis cannot be reached; subscribe again later');

/** Longest a subscription waits for Redis to acknowledge its channel. */
const SUBSCRIBE_TIMEOUT_MS = 5000;

/** The embedded default: one process, synchronous dispatch. */
export class LocalBus extends EventTarget implements Bus {
  readonly up = true;
  readonly lost = false;
  ready(): Promise<void> {
    return Promise.resolve();
  }
  async close(): Promise<void> {}
}

/** JSON that keeps Dates (the data shapes carry them) exact across replicas. */
export const wire = {
  stringify(v: unknown): string {
    return JSON.stringify(v, function (this: Record<string, unknown>, k, val) {
      const raw = this[k];
      return raw instanceof Date ? { $date: raw.getTime() } : val;
    });
  },
  parse(s: string): unknown {
    return JSON.parse(s, (_k, v) => (v && typeof v === 'object' && typeof v.$date === 'number' && Object.keys(v).length === 1 ? new Date(v.$date) : v));
  },
};

export type Listener = ((e: Event) => void) | { handleEvent(e: Event): void };

/**
 * Fan-out between gateway replicas over Redis pub/sub: one channel per topic, subscribed
 * once per process however many local listeners it has; each message is decoded once and
 * handed to every local listener. A written-out equivalent of
 * @graphql-yoga/redis-event-target, whose peer range (ioredis 5) excludes the ioredis 6 we use,
 * plus `ready()`, which that package cannot give.
 */
export class RedisBus implements Bus {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly subscribed = new Map<string, Promise<void>>();
  lost = false;

  /**
   * `onDown` is called when the subscriber connection is lost after it was up: events sent
   * meanwhile are gone for good (pub/sub keeps nothing), so subscribers must be told.
   * ioredis reconnects and subscribes its channels again by itself.
   */
  constructor(url: string, private readonly prefix: string, private readonly onError: (e: Error) => void = () => undefined, onDown: () => void = () => undefined) {
    // One retry: while Redis is down a publish fails instead of queueing every log line in memory.
    this.pub = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 });
    this.sub = new Redis(url, { lazyConnect: false });
    this.pub.on('error', onError);
    this.sub.on('error', onError);
    this.sub.on('ready', () => { this.lost = false; });
    this.sub.on('close', () => {
      if (this.lost || this.sub.status === 'end') return;
      this.lost = true;
      onDown();
    });
    this.sub.on('message', (channel: string, message: string) => {
      const topic = channel.slice(this.prefix.length);
      const set = this.listeners.get(topic);
      if (!set) return;
      const event = new CustomEvent(topic, { detail: message === '' ? null : wire.parse(message) });
      for (const l of set) {
        try {
          if (typeof l === 'function') l(event); else l.handleEvent(event);
        } catch (e) {
          this.onError(e as Error);
        }
      }
    });
  }

  addEventListener(type: string, listener: Listener | null): void {
    if (!listener) return;
    let set = this.listeners.get(type);
    if (!set) {
      set = new Set();
      this.listeners.set(type, set);
      const done = this.sub.subscribe(this.prefix + type).then(() => undefined);
      done.catch((e: Error) => this.onError(e));
      this.subscribed.set(type, done);
    }
    set.add(listener);
  }

  removeEventListener(type: string, listener: Listener | null): void {
    const set = this.listeners.get(type);
    if (!set || !listener) return;
    set.delete(listener);
    if (set.size === 0) {
      this.listeners.delete(type);
      this.subscribed.delete(type);
      this.sub.unsubscribe(this.prefix + type).catch((e: Error) => this.onError(e));
    }
  }

  dispatchEvent(event: Event): boolean {
    const detail = (event as CustomEvent).detail;
    this.pub.publish(this.prefix + event.type, detail === undefined || detail === null ? '' : wire.stringify(detail))
      .catch((e: Error) => this.onError(e));
    return true;
  }

  get up(): boolean {
    return this.sub.status === 'ready' && this.pub.status === 'ready';
  }

  ready(topic: string): Promise<void> {
    if (this.lost) return Promise.reject(transportDown());
    const subscribed = this.subscribed.get(topic);
    if (!subscribed) return Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_r, reject) => { timer = setTimeout(() => reject(transportDown()), SUBSCRIBE_TIMEOUT_MS); });
    return Promise.race([subscribed, late]).finally(() => clearTimeout(timer));
  }

  private closing: Promise<void> | null = null;

  /** Once only: the server's shutdown and its owner may both call it (see closeRedis for why a second disconnect is not harmless). */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      this.listeners.clear();
      this.subscribed.clear();
      // QUIT on a connection that is down would wait for Redis to come back.
      await Promise.allSettled([this.pub, this.sub].map(closeRedis));
    })());
  }
}
