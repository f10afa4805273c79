import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import { GraphQLSafeInt } from 'graphql-scalars';
import { ArgsType, Field, Int, ObjectType, type ClassType } from 'type-graphql';
import { badInput } from '../../errors.js';
import type { Page, PageArgs } from '../../providers/types.js';

@ObjectType({ description: 'Relay page information.' })
export class PageInfo {
  @Field({ description: 'More items follow the last edge.' })
  hasNextPage!: boolean;
  @Field({ description: 'Items precede the first edge.' })
  hasPreviousPage!: boolean;
  @Field(() => String, { nullable: true, description: 'Cursor of the first edge.' })
  startCursor!: string | null;
  @Field(() => String, { nullable: true, description: 'Cursor of the last edge.' })
  endCursor!: string | null;
}

@ArgsType()
export class PagingArgs {
  @Field(() => Int, { nullable: true, description: 'Return the first N items after `after` (default 20, capped by the server).' })
  first?: number | null;
  @Field(() => String, { nullable: true, description: 'Cursor to start after.' })
  after?: string | null;
  @Field(() => Int, { nullable: true, description: 'Return the last N items before `before`.' })
  last?: number | null;
  @Field(() => String, { nullable: true, description: 'Cursor to end before.' })
  before?: string | null;
}

export interface Edge<T> { cursor: string; node: T }
export interface ConnectionShape<T> { edges: Edge<T>[]; pageInfo: PageInfo; totalCount: number | null }

/** Builds a `XConnection` / `XEdge` pair of object types for one node type. */
export function Connection<T extends object>(NodeType: ClassType<T>, name: string) {
  @ObjectType(`${name}Edge`, { description: `An edge in a ${name} connection.` })
  class EdgeType {
    @Field({ description: 'Opaque cursor of this edge.' })
    cursor!: string;
    @Field(() => NodeType, { description: 'The item.' })
    node!: T;
  }
  @ObjectType(`${name}Connection`, { description: `A page of ${name} items (Relay connection).` })
  class ConnectionType {
    @Field(() => [EdgeType], { description: 'Items of this page with their cursors.' })
    edges!: EdgeType[];
    @Field(() => PageInfo, { description: 'Paging information.' })
    pageInfo!: PageInfo;
    @Field(() => GraphQLSafeInt, { nullable: true, description: 'Number of items in the whole list, when the source knows it.' })
    totalCount!: number | null;
  }
  return ConnectionType;
}

/*
 * Cursors are opaque to clients. `o:<n>` is an offset (sources that can only page by offset);
 * `k:<position>` is a keyset position the source gave (`Page.cursors`): paging after it is
 * right however many rows were added or removed before it meanwhile.
 */
const OFFSET = 'o:';
const KEYSET = 'k:';
const MAX_CURSOR = 4096;
export const encodeCursor = (offset: number) => Buffer.from(`${OFFSET}${offset}`).toString('base64url');
export const encodeKeyset = (position: string) => Buffer.from(`${KEYSET}${position}`).toString('base64url');

export type Cursor = { offset: number; position?: undefined } | { position: string; offset?: undefined };
export function decodeAnyCursor(cursor: string, field: string): Cursor {
  const raw = cursor.length <= MAX_CURSOR && /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : '';
  if (raw.startsWith(KEYSET) && raw.length > KEYSET.length) return { position: raw.slice(KEYSET.length) };
  const n = raw.startsWith(OFFSET) ? Number(raw.slice(OFFSET.length)) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw badInput(`${field} is not a valid cursor`, field);
  return { offset: n };
}
export function decodeCursor(cursor: string, field: string): number {
  const c = decodeAnyCursor(cursor, field);
  if (c.offset === undefined) throw badInput(`${field} is not a valid cursor here`, field);
  return c.offset;
}

export const DEFAULT_PAGE_SIZE = 20;

/** Whether the connection field being resolved selects `totalCount` (counting costs a statement or an upstream call). */
export function selectsTotalCount(info: GraphQLResolveInfo): boolean {
  const seen = new Set<string>();
  const walk = (set: SelectionSetNode | undefined): boolean => !!set && set.selections.some((sel) => {
    if (sel.kind === Kind.FIELD) return sel.name.value === 'totalCount';
    if (sel.kind === Kind.INLINE_FRAGMENT) return walk(sel.selectionSet);
    if (seen.has(sel.name.value)) return false;
    seen.add(sel.name.value);
    return walk(info.fragments[sel.name.value]?.selectionSet);
  });
  return info.fieldNodes.some((n) => walk(n.selectionSet));
}

function checkSizes(args: PagingArgs, maxPageSize: number) {
  const check = (v: number | null | undefined, name: string) => {
    if (v != null && (v < 0 || v > maxPageSize)) throw badInput(`${name} must be between 0 and ${maxPageSize}`, name);
  };
  check(args.first, 'first');
  check(args.last, 'last');
  if (args.first != null && args.last != null) throw badInput('use either first or last, not both', 'last');
}

/**
 * Turns Relay arguments into an offset window. `last` without `before` needs the total,
 * so it is resolved in two steps by `pageWindow` + `fetchPage`.
 */
export function pageWindow(args: PagingArgs, maxPageSize: number): { offset: number; limit: number; fromEnd: boolean; before: number | null } {
  checkSizes(args, maxPageSize);
  const after = args.after ? decodeCursor(args.after, 'after') + 1 : 0;
  const before = args.before ? decodeCursor(args.before, 'before') : null;
  if (args.last != null) {
    const end = before ?? Number.NaN;
    if (Number.isNaN(end)) return { offset: 0, limit: args.last, fromEnd: true, before: null };
    const offset = Math.max(after, end - args.last);
    return { offset, limit: Math.max(0, end - offset), fromEnd: false, before };
  }
  const limit = args.first ?? DEFAULT_PAGE_SIZE;
  const end = before ?? Number.POSITIVE_INFINITY;
  return { offset: after, limit: Math.max(0, Math.min(limit, end - after)), fromEnd: false, before };
}

/** A page read forward after a keyset position, or backward before one (`last`). */
async function keysetPage<T, N>(
  args: PagingArgs, position: string | null, backward: boolean, withTotal: boolean,
  load: (page: PageArgs) => Promise<Page<T>>, toNode: (item: T) => N,
): Promise<ConnectionShape<N>> {
  const limit = backward ? args.last! : args.first ?? DEFAULT_PAGE_SIZE;
  const page = await load({ offset: 0, limit: Math.max(limit, 1), after: position, backward, withTotal });
  const cursors = page.cursors ?? [];
  let edges = page.items.slice(0, limit).map((item, i) => ({ cursor: encodeKeyset(cursors[i] ?? ''), node: toNode(item) }));
  const more = limit === 0 ? page.items.length > 0 : page.hasMore;
  if (backward) edges = edges.reverse();
  return {
    edges,
    totalCount: page.totalCount,
    pageInfo: {
      hasNextPage: backward ? position !== null : more,
      hasPreviousPage: backward ? more : position !== null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}

/**
 * Fetches one Relay page. Sources that give keyset positions (`Page.cursors`) get keyset
 * cursors; the others offset cursors. `withTotal` false lets the source skip counting.
 */
export async function connectionFrom<T, N>(
  args: PagingArgs,
  maxPageSize: number,
  load: (page: PageArgs) => Promise<Page<T>>,
  toNode: (item: T) => N,
  opts: { withTotal?: boolean } = {},
): Promise<ConnectionShape<N>> {
  checkSizes(args, maxPageSize);
  const withTotal = opts.withTotal ?? true;
  const after = args.after ? decodeAnyCursor(args.after, 'after') : null;
  const before = args.before ? decodeAnyCursor(args.before, 'before') : null;
  if (after?.position !== undefined || before?.position !== undefined) {
    if (after && before) throw badInput('use either after or before with keyset cursors, not both', 'before');
    if (after && args.last != null) throw badInput('after pages forward: use it with first', 'after');
    if (before && args.first != null) throw badInput('before pages backward: use it with last', 'before');
    if (before) return keysetPage({ ...args, last: args.last ?? DEFAULT_PAGE_SIZE }, before.position!, true, withTotal, load, toNode);
    return keysetPage(args, after!.position!, false, withTotal, load, toNode);
  }
  let w = pageWindow(args, maxPageSize);
  if (w.fromEnd) {
    // `last` with no `before`: a keyset source reads backward; others need the total first (a one-item page).
    const probe = await load({ offset: 0, limit: 1, withTotal: true });
    if (probe.cursors) return keysetPage(args, null, true, withTotal, load, toNode);
    if (probe.totalCount === null) throw badInput('`last` without `before` needs a total count, which this source does not give; page forward with `first`', 'last');
    const offset = Math.max(0, probe.totalCount - w.limit);
    w = { ...w, offset, limit: probe.totalCount - offset };
  }
  // A zero-size window (first: 0) still asks for one item, to answer totalCount and hasNextPage.
  const fetched = await load({ offset: w.offset, limit: Math.max(w.limit, 1), withTotal });
  const page: Page<T> = w.limit === 0 ? { items: [], totalCount: fetched.totalCount, hasMore: fetched.items.length > 0 } : fetched;
  const keyset = page.cursors;
  const edges = page.items.slice(0, w.limit).map((item, i) => ({
    cursor: keyset?.[i] !== undefined ? encodeKeyset(keyset[i]!) : encodeCursor(w.offset + i), node: toNode(item),
  }));
  return {
    edges,
    totalCount: page.totalCount,
    pageInfo: {
      hasNextPage: page.hasMore,
      hasPreviousPage: w.offset > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}
