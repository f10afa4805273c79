import { BuildgateError, ErrorCode } from '../../errors.js';
import type { BuildData, BuildFilter, BuildSort, Page, PageArgs, SortOrder } from '../../providers/types.js';
import type { Context } from '../context.js';

export interface ProviderBuild { providerId: string; data: BuildData; sortTime: number }

/**
 * One page over the builds of several providers, merged by the sort key with one
 * offset cursor. Each provider is asked for its first offset+limit items in the same
 * order, so the merge is exact. A provider that fails contributes no rows and one error
 * (named by provider) to the response; the others still answer.
 */
export async function mergedBuildPage(
  ctx: Context,
  providerIds: string[],
  page: PageArgs,
  opts: { filter?: BuildFilter; sort: BuildSort; order: SortOrder },
): Promise<Page<ProviderBuild>> {
  if (providerIds.length === 1) {
    const id = providerIds[0]!;
    const list = ctx.services.registry.method(id, 'listBuilds', 'BUILD_LIST');
    const res = await list({ ...page, ...opts });
    ctx.partialErrors.push(...(res.errors ?? []).map((e) => asProviderError(id, e)));
    return { ...res, items: res.items.map((data) => ({ providerId: id, data, sortTime: 0 })) };
  }
  const want = page.offset + page.limit;
  const results = await Promise.all(providerIds.map(async (id) => {
    try {
      const list = ctx.services.registry.method(id, 'listBuilds', 'BUILD_LIST');
      const res = await list({ offset: 0, limit: want, ...opts });
      const items: ProviderBuild[] = [];
      for (const data of res.items) {
        const last = opts.sort === 'LAST_RUN_TIME' ? await ctx.loaders.latestRun(id).load(data.key).catch(() => null) : null;
        items.push({ providerId: id, data, sortTime: last?.beginTime?.getTime() ?? last?.createdAt?.getTime() ?? 0 });
      }
      return { id, res: { ...res, items }, error: null as BuildgateError | null };
    } catch (e) {
      return { id, res: null, error: asProviderError(id, e) };
    }
  }));
  const dir = opts.order === 'DESC' ? -1 : 1;
  const cmp = (a: ProviderBuild, b: ProviderBuild) => {
    const k = opts.sort === 'LAST_RUN_TIME'
      ? a.sortTime - b.sortTime
      : a.data.name.toLowerCase().localeCompare(b.data.name.toLowerCase());
    return k !== 0 ? k * dir : (a.providerId + a.data.key).localeCompare(b.providerId + b.data.key) * dir;
  };
  const all: ProviderBuild[] = [];
  let total: number | null = 0;
  let more = false;
  for (const r of results) {
    if (r.error) { ctx.partialErrors.push(r.error); continue; }
    ctx.partialErrors.push(...(r.res!.errors ?? []).map((e) => asProviderError(r.id, e)));
    all.push(...r.res!.items);
    total = total === null || r.res!.totalCount === null ? null : total + r.res!.totalCount;
    more ||= r.res!.hasMore;
  }
  all.sort(cmp);
  const items = all.slice(page.offset, want);
  return { items, totalCount: total, hasMore: more || all.length > want };
}

function asProviderError(providerId: string, e: unknown): BuildgateError {
  return e instanceof BuildgateError ? e : new BuildgateError(ErrorCode.UPSTREAM_UNAVAILABLE, `[${providerId}] ${(e as Error).message}`, { providerId });
}
