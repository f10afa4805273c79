import { Field, ObjectType } from 'type-graphql';
import { GraphQLSafeInt } from 'graphql-scalars';
import type { LogLineData } from '../../providers/types.js';
import { LogLine } from '../run/run.type.js';

@ObjectType({ description: 'Log lines of a runLog subscription, in sequence order.' })
export class LogBatch {
  @Field(() => [LogLine], { description: 'Lines after the previous event (empty on the final event of a subscriber that fell behind).' }) lines!: LogLine[];
  @Field(() => GraphQLSafeInt, { description: 'Sequence number of the last line delivered on this subscription so far: resubscribe with afterSeq = lastSeq to resume.' }) lastSeq!: number;
  @Field({ description: 'True on the last event of a subscriber that could not keep up (its buffer filled): the subscription completes and no line was skipped; resubscribe with afterSeq = lastSeq.' }) fellBehind!: boolean;
}

/**
 * Subscribers of one run share the same line objects, so each line becomes a GraphQL
 * LogLine (global step ID encoded) once, not once per subscriber.
 */
const views = new WeakMap<LogLineData, LogLine>();
export function logLineView(providerId: string, l: LogLineData): LogLine {
  let v = views.get(l);
  if (!v) {
    v = LogLine.from(providerId, l);
    views.set(l, v);
  }
  return v;
}
