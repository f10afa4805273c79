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
    @Field(() => Int, { nullable: true, description: 'Number of items in the whole list, when the source knows it.' })
    totalCount!: number | null;
  }
  return ConnectionType;
}

const CURSOR_PREFIX = 'o:';
export const encodeCursor = (offset: number) => Buffer.from(`${CURSOR_PREFIX}${offset}`).toString('base64url');
export function decodeCursor(cursor: string, field: string): number {
  const raw = /^[A-Za-z0-9_-]{1,64}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : '';
  const n = raw.startsWith(CURSOR_PREFIX) ? Number(raw.slice(CURSOR_PREFIX.length)) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw badInput(`${field} is not a valid cursor`, field);
  return n;
}

export const DEFAULT_PAGE_SIZE = 20;

/**
 * Turns Relay arguments into an offset window. `last` without `before` needs the total,
 * so it is resolved in two steps by `pageWindow` + `fetchPage`.
 */
export function pageWindow(args: PagingArgs, maxPageSize: number): { offset: number; limit: number; fromEnd: boolean; before: number | null } {
  const check = (v: number | null | undefined, name: string) => {
    if (v != null && (v < 0 || v > maxPageSize)) throw badInput(`${name} must be between 0 and ${maxPageSize}`, name);
  };
  check(args.first, 'first');
  check(args.last, 'last');
  if (args.first != null && args.last != null) throw badInput('use either first or last, not both', 'last');
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

/** Fetches one Relay page through an offset-based loader. */
export async function connectionFrom<T, N>(
  args: PagingArgs,
  maxPageSize: number,
  load: (page: PageArgs) => Promise<Page<T>>,
  toNode: (item: T) => N,
): Promise<ConnectionShape<N>> {
  let w = pageWindow(args, maxPageSize);
  if (w.fromEnd) {
    // `last` with no `before`: learn the total first (a one-item page), then fetch the tail.
    const probe = await load({ offset: 0, limit: 1 });
    if (probe.totalCount === null) throw badInput('`last` without `before` needs a total count, which this source does not give; page forward with `first`', 'last');
    const offset = Math.max(0, probe.totalCount - w.limit);
    w = { ...w, offset, limit: probe.totalCount - offset };
  }
  // A zero-size window (first: 0) still asks for one item, to answer totalCount and hasNextPage.
  const fetched = await load({ offset: w.offset, limit: Math.max(w.limit, 1) });
  const page: Page<T> = w.limit === 0 ? { items: [], totalCount: fetched.totalCount, hasMore: fetched.items.length > 0 } : fetched;
  const edges = page.items.slice(0, w.limit).map((item, i) => ({ cursor: encodeCursor(w.offset + i), node: toNode(item) }));
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
