import { badInput, BuildgateError, ErrorCode } from '../../errors.js';
import type { BuildData, BuildFilter, BuildSort, Page, SortOrder } from '../../providers/types.js';
import { decodeAnyCursor, DEFAULT_PAGE_SIZE, encodeKeyset, type ConnectionShape, type PagingArgs } from '../common/connection.js';
import type { Context } from '../context.js';

export interface ProviderBuild { providerId: string; data: BuildData }

/** A row's place in the merged order: sort value, provider instance, key. */
interface Position { v: string | number; p: string; k: string }
/**
 * A merged-list cursor: the row's position, the sort it belongs to, and (`at`) the providers
 * whose own place differs from it: one that failed on the page still starts where it was
 * (its rows come on the next page instead of being lost), one whose late rows filled the page
 * does not start again below what it already gave. `null`: from the top.
 */
interface MergedCursor extends Position { s: BuildSort; at?: Record<string, Position | null> }

/** Most pages read from one provider while looking for rows after a position (providers without keyset read from the top). */
const MAX_SCAN_PAGES = 50;

const cmpValue = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);
/** Keys: numerically when both are numbers (the native store's ids), else by code unit. */
const cmpKey = (a: string, b: string) => {
  const na = Number(a); const nb = Number(b);
  return /^\d+$/.test(a) && /^\d+$/.test(b) && Number.isSafeInteger(na) && Number.isSafeInteger(nb) ? na - nb : cmpValue(a, b);
};
/** The merged order ascending; DESC flips it as a whole. */
const cmpPosition = (a: Position, b: Position) => cmpValue(a.v, b.v) || cmpValue(a.p, b.p) || cmpKey(a.k, b.k);

function parseCursor(raw: string, sort: BuildSort, field: string): MergedCursor {
  const c = decodeAnyCursor(raw, field);
  let v: MergedCursor | null = null;
  try { v = c.position !== undefined ? JSON.parse(c.position) as MergedCursor : null; } catch { v = null; }
  const valid = (p: Position | null | undefined): boolean => p === null || (!!p && typeof p.p === 'string' && typeof p.k === 'string'
    && (sort === 'NAME' ? typeof p.v === 'string' : typeof p.v === 'number'));
  if (!v || typeof v !== 'object' || !valid(v) || (v.at !== undefined && (typeof v.at !== 'object' || !Object.values(v.at ?? {}).every(valid)))) {
    throw badInput(`${field} is not a valid cursor for this list`, field);
  }
  if (v.s !== sort) throw badInput(`${field} belongs to a list with another sort`, field);
  return v;
}

/** Provider ids and keys of rows as the providers' own `after` (see BuildListArgs) for a start position. */
function providerAfter(start: Position | null, providerId: string, asc: boolean): string | null {
  if (!start) return null;
  // Ties on the sort value: all of them, none, or after the key, by where this provider sorts against the position's.
  const key = start.p === providerId ? start.k : ((providerId > start.p) === asc ? (asc ? '0' : String(Number.MAX_SAFE_INTEGER)) : (asc ? String(Number.MAX_SAFE_INTEGER) : '0'));
  return JSON.stringify([start.v, key]);
}

/**
 * Rows of one provider strictly after `start` in the merged order, at most `want`. Providers
 * that honour `after` answer from there; for the others pages are read from the top and the
 * rows at or before `start` are dropped.
 */
async function rowsAfter(
  ctx: Context, providerId: string, start: Position | null, want: number,
  opts: { filter?: BuildFilter; sort: BuildSort; order: SortOrder }, withTotal: boolean,
): Promise<{ rows: Array<{ pos: Position; data: BuildData }>; totalCount: number | null; errors: readonly Error[] }> {
  const list = ctx.services.registry.method(providerId, 'listBuilds', 'BUILD_LIST');
  const asc = opts.order === 'ASC';
  const after = providerAfter(start, providerId, asc);
  const rows: Array<{ pos: Position; data: BuildData }> = [];
  let totalCount: number | null = null;
  let errors: readonly Error[] = [];
  let offset = 0;
  for (let i = 0; i < MAX_SCAN_PAGES; i++) {
    const page: Page<BuildData> = await list({ offset, limit: want, after, withTotal: withTotal && i === 0, ...opts });
    // Items the provider could not read (Page.errors) are named once, from the first page.
    if (i === 0) { totalCount = page.totalCount; errors = page.errors ?? []; }
    ctx.loaders.primeBuilds(providerId, page.items);
    const values = await sortValues(ctx, providerId, page, opts.sort);
    page.items.forEach((data, j) => {
      const pos = { v: values[j]!, p: providerId, k: data.key };
      if (!start || (asc ? cmpPosition(pos, start) > 0 : cmpPosition(pos, start) < 0)) rows.push({ pos, data });
    });
    if (rows.length >= want || !page.hasMore || page.items.length === 0) break;
    offset += page.items.length;
  }
  return { rows: rows.slice(0, want), totalCount, errors };
}

/** Sort values of a page: the provider's own (keyset positions) or computed here the same way. */
async function sortValues(ctx: Context, providerId: string, page: Page<BuildData>, sort: BuildSort): Promise<Array<string | number>> {
  if (page.cursors?.length === page.items.length) {
    return page.cursors.map((c) => (JSON.parse(c) as [string | number, string])[0]);
  }
  if (sort === 'NAME') return page.items.map((b) => b.name.toLowerCase());
  const latest = await Promise.all(page.items.map((b) => ctx.loaders.latestRun(providerId).load(b.key).catch(() => null)));
  return latest.map((r) => r?.beginTime?.getTime() ?? r?.createdAt?.getTime() ?? 0);
}

/**
 * One page over the builds of several providers, merged by (sort value, provider, key) with
 * keyset cursors: a build added or removed between pages, or a provider failing for a while,
 * never makes a row disappear or come twice. A provider that fails contributes no rows and
 * one error (named by provider) to the response; the others still answer.
 */
export async function mergedBuilds(
  ctx: Context,
  providerIds: string[],
  args: PagingArgs,
  opts: { filter?: BuildFilter; sort: BuildSort; order: SortOrder },
  maxPageSize: number,
  withTotal: boolean,
): Promise<ConnectionShape<ProviderBuild>> {
  for (const [v, name] of [[args.first, 'first'], [args.last, 'last']] as const) {
    if (v != null && (v < 0 || v > maxPageSize)) throw badInput(`${name} must be between 0 and ${maxPageSize}`, name);
  }
  if (args.first != null && args.last != null) throw badInput('use either first or last, not both', 'last');
  if (args.after && args.before) throw badInput('use either after or before, not both', 'before');
  const backward = args.last != null || !!args.before;
  if (backward && args.after) throw badInput('after pages forward: use it with first', 'after');
  const limit = (backward ? args.last : args.first) ?? DEFAULT_PAGE_SIZE;
  const cursor = args.after ? parseCursor(args.after, opts.sort, 'after') : args.before ? parseCursor(args.before, opts.sort, 'before') : null;
  // Backward: the same walk in the opposite order, then reversed.
  const order: SortOrder = backward ? (opts.order === 'ASC' ? 'DESC' : 'ASC') : opts.order;
  const asc = order === 'ASC';
  const startOf = (id: string): Position | null => (!cursor ? null : cursor.at && id in cursor.at ? cursor.at[id]! : { v: cursor.v, p: cursor.p, k: cursor.k });

  const results = await Promise.all(providerIds.map(async (id) => {
    try {
      return { id, ...(await rowsAfter(ctx, id, startOf(id), limit + 1, { ...opts, order }, withTotal)), error: null };
    } catch (e) {
      return { id, rows: [], totalCount: null, errors: [], error: asProviderError(id, e) };
    }
  }));
  let total: number | null = 0;
  const all: Array<{ pos: Position; data: BuildData }> = [];
  for (const r of results) {
    if (r.error) { ctx.partialErrors.push(r.error); continue; }
    ctx.partialErrors.push(...r.errors.map((e) => asProviderError(r.id, e)));
    all.push(...r.rows);
    total = total === null || r.totalCount === null ? null : total + r.totalCount;
  }
  all.sort((a, b) => (asc ? 1 : -1) * cmpPosition(a.pos, b.pos));
  const page = all.slice(0, limit);
  const failed = results.filter((r) => r.error).map((r) => r.id);
  const cursorOf = (pos: Position): string => {
    const at: Record<string, Position | null> = {};
    if (!backward) {
      for (const id of failed) at[id] = startOf(id);
      for (const id of providerIds) {
        const s = startOf(id);
        if (!failed.includes(id) && s && (asc ? cmpPosition(s, pos) > 0 : cmpPosition(s, pos) < 0)) at[id] = s;
      }
    }
    const c: MergedCursor = { s: opts.sort, ...pos, ...(Object.keys(at).length ? { at } : {}) };
    return encodeKeyset(JSON.stringify(c));
  };
  let edges = page.map((r) => ({ cursor: cursorOf(r.pos), node: { providerId: r.pos.p, data: r.data } }));
  // A provider that failed may still hold rows after the cursor: say so while pages make progress
  // (a page with no row and only failures ends the walk, with the errors saying why).
  const more = all.length > limit || (failed.length > 0 && page.length > 0);
  if (backward) edges = edges.reverse();
  return {
    edges,
    totalCount: withTotal ? total : null,
    pageInfo: {
      hasNextPage: backward ? !!cursor : more,
      hasPreviousPage: backward ? more : !!cursor,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}

function asProviderError(providerId: string, e: unknown): BuildgateError {
  return e instanceof BuildgateError ? e : new BuildgateError(ErrorCode.UPSTREAM_UNAVAILABLE, `[${providerId}] ${(e as Error).message}`, { providerId });
}
