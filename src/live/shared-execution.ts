import { createSourceEventStream, execute, GraphQLError, print, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { DIRECT, isDirectCapable } from './direct.js';

/**
 * graphql-ws `subscribe` that executes each event once per distinct operation instead of
 * once per subscriber. When several subscribers receive the *same* event object (a live
 * log batch is one object shared by everyone following the run), and ask the same
 * operation with the same variables under the same principal, they get one shared result,
 * which `sharedSerialization` below also turns into JSON only once. Events that are not
 * shared objects simply miss the cache and execute as usual.
 */
const docKeys = new WeakMap<DocumentNode, string>();
const results = new WeakMap<object, Map<string, Promise<ExecutionResult> | ExecutionResult>>();
/** Shared results (no errors): serialised once for all sockets. */
const sharedResults = new WeakSet<object>();

function operationKey(args: ExecutionArgs, principalKey: (ctx: unknown) => string): string {
  let doc = docKeys.get(args.document);
  if (doc === undefined) {
    doc = print(args.document);
    docKeys.set(args.document, doc);
  }
  return `${doc}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}\u0000${principalKey(args.contextValue)}`;
}

/** Writes one result to one subscriber's socket, synchronously (the transport's part of direct delivery). */
export type ResultWriter = (result: ExecutionResult) => void;
/** A subscription stream from sharedSubscribe: its live events can go to a writer directly. */
export interface SharedStream extends AsyncIterableIterator<ExecutionResult> {
  /** Sets (null: removes) the writer of events delivered directly; ignored by streams without direct delivery. */
  [DIRECT](write: ResultWriter | null): void;
}

/** One event's direct delivery under one operation key: the writers of its subscribers, run once it is executed. */
interface DirectWrite { writers: ResultWriter[]; written: Promise<void> }
const directWrites = new WeakMap<object, Map<string, DirectWrite>>();
/** Per operation key, the last event's writes: the next event's follow them, so each socket gets events in order. */
const lastWrites = new Map<string, Promise<void>>();

function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return typeof (v as AsyncIterable<unknown>)?.[Symbol.asyncIterator] === 'function';
}

export function sharedSubscribe(principalKey: (ctx: unknown) => string) {
  return async (args: ExecutionArgs): Promise<SharedStream | ExecutionResult> => {
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source as ExecutionResult;
    const key = operationKey(args, principalKey);
    const iterator = source[Symbol.asyncIterator]();
    const run = (payload: unknown) => {
      if (payload === null || typeof payload !== 'object') return execute({ ...args, rootValue: payload });
      let perEvent = results.get(payload);
      if (!perEvent) {
        perEvent = new Map();
        results.set(payload, perEvent);
      }
      let r = perEvent.get(key);
      if (!r) {
        r = Promise.resolve(execute({ ...args, rootValue: payload })).then((res) => {
          if (!res.errors) sharedResults.add(res);
          return res;
        });
        perEvent.set(key, r);
      }
      return r;
    };
    // Not an async generator: graphql-ws calls return() at unsubscribe while a next() waits
    // for the next event, and a generator would queue that return() behind it — the source
    // (and its upstream poller) would live on until an event that may never come.
    /**
     * A directly delivered event: executed once per key (shared with subscribers reading
     * through next()), then written to every subscriber that took it, in one loop.
     */
    const deliver = (payload: unknown, write: ResultWriter): Promise<void> | null => {
      if (payload === null || typeof payload !== 'object') return null;
      let perEvent = directWrites.get(payload);
      if (!perEvent) {
        perEvent = new Map();
        directWrites.set(payload, perEvent);
      }
      let d = perEvent.get(key);
      if (!d) {
        const writers: ResultWriter[] = [];
        // Executed after the previous event's writes and one turn of the event loop: a burst of
        // events (or of subscribers with distinct operations) would otherwise execute and write
        // in one unbroken chain of microtasks (a 60,000-line burst to 4 subscribers resuming at
        // different seqs held the loop for 8 s: keep-alive pongs went unread, sockets closed).
        const before = lastWrites.get(key) ?? Promise.resolve();
        const written: Promise<void> = before.then(() => nextTurn()).then(() => run(payload)).catch((e: unknown) => ({ errors: [e instanceof GraphQLError ? e : new GraphQLError('Internal server error')] }) as ExecutionResult).then((res) => {
          for (const w of writers) {
            try { w(res); } catch { /* a socket that failed: its close ends its subscription */ }
          }
          if (lastWrites.get(key) === written) lastWrites.delete(key);
        });
        lastWrites.set(key, written);
        d = { writers, written };
        perEvent.set(key, d);
      }
      d.writers.push(write);
      return d.written;
    };
    const mapped: SharedStream = {
      async next() {
        const n = await iterator.next();
        return n.done ? { done: true, value: undefined } : { done: false, value: await run(n.value) };
      },
      async return() {
        await iterator.return?.();
        return { done: true, value: undefined };
      },
      async throw(e?: unknown) {
        await iterator.return?.();
        throw e;
      },
      [Symbol.asyncIterator]() { return mapped; },
      [DIRECT](write: ResultWriter | null) {
        if (isDirectCapable(iterator)) iterator[DIRECT](write && ((payload: unknown) => deliver(payload, write)));
      },
    };
    return mapped;
  };
}

/**
 * Serialise a shared result once for every socket, and let the transport write its bytes to
 * every socket without copying them. graphql-ws stringifies each `next` message per
 * subscriber; `onNext` hands it the shared result itself as the payload, the replacer swaps
 * that payload for a marker (remembering the result's encoded JSON), and the transport's send
 * asks `splitShared` for the two parts of the message: the subscriber's own
 * `{"id":…,"type":"next"` and the shared bytes `,"payload":…}`, the same Buffer for every
 * socket (src/server/ws-transport.ts sends them as two fragments of one text message).
 * stringify and send run back to back synchronously, so the remembered bytes always belong
 * to the message being sent.
 */
const MARKER = '__buildgate_shared_payload__';
/** graphql-ws writes {id, type, payload} in this order: the marker can only be the message's end. */
const MARKED_END = `,"payload":${JSON.stringify(MARKER)}}`;
const sharedTails = new WeakMap<object, Buffer>();
let pendingTail: Buffer | null = null;

export const sharedSerialization = {
  onNext: (_ctx: unknown, _id: string, _payload: unknown, _args: unknown, result: ExecutionResult) =>
    (sharedResults.has(result) ? result : undefined),
  jsonMessageReplacer(this: unknown, key: string, value: unknown): unknown {
    if (key === 'payload' && value !== null && typeof value === 'object' && sharedResults.has(value)) {
      pendingTail = sharedSerialization.tailOf(value as ExecutionResult);
      return MARKER;
    }
    if (key === 'payload') pendingTail = null; // a message with its own payload: nothing to swap
    return value;
  },
  /** The encoded `,"payload":…}` of a shared result (null for one that is not shared: send it as graphql-ws would). */
  tailOf(result: ExecutionResult): Buffer | null {
    if (!sharedResults.has(result)) return null;
    let tail = sharedTails.get(result);
    if (tail === undefined) {
      tail = Buffer.from(`,"payload":${JSON.stringify(result)}}`);
      sharedTails.set(result, tail);
    }
    return tail;
  },
  /**
   * For a message just stringified with the replacer above: its own head and the shared
   * tail to send after it, or null when it is an ordinary message to send as it is.
   */
  splitShared(data: string): { head: string; tail: Buffer } | null {
    if (pendingTail === null || !data.endsWith(MARKED_END)) return null;
    const tail = pendingTail;
    pendingTail = null;
    return { head: data.slice(0, data.length - MARKED_END.length), tail };
  },
};
