/**
 * Direct delivery: a subscription stream whose live events are shared by many subscribers
 * (a run's log batches) may hand them to a sink synchronously, as they are published, instead
 * of resolving its next() for each subscriber. The transport then writes one batch to every
 * socket in one loop (one execution and one serialisation per batch, no promise per socket).
 *
 * The stream offers an event to the sink only while its consumer waits in next(): every
 * event handed out through next() has then been written already, so direct events follow it.
 * Before next() returns anything again, the stream awaits the sink's promise for the last
 * event it gave directly, so its own next event follows those.
 */
export const DIRECT = Symbol('buildgate.direct');

/**
 * Takes one event: a promise that settles once it is written (or dropped: the socket went
 * away), or null when it refuses it (the stream then delivers it through next() as usual).
 */
export type DirectSink<T> = (event: T) => Promise<void> | null;

export interface DirectCapable<T> {
  /** Sets (or with null, removes) the sink of this stream's live events. */
  [DIRECT](sink: DirectSink<T> | null): void;
}

export function isDirectCapable<T>(v: unknown): v is DirectCapable<T> {
  return typeof (v as Partial<DirectCapable<T>> | null)?.[DIRECT] === 'function';
}
