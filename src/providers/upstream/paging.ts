import type { Page } from '../types.js';

/**
 * Offset/limit over an upstream that pages by number. Fetches the fewest pages of
 * `pageSize` (at most `maxPageSize`) that cover [offset, offset+limit) and slices.
 * `fetchPage` gets a 0-based page index; adapters add 1 where the upstream counts from 1.
 */
export async function pageWindow<T>(
  offset: number,
  limit: number,
  maxPageSize: number,
  fetchPage: (pageIndex: number, pageSize: number) => Promise<{ items: T[]; total: number }>,
): Promise<Page<T>> {
  const size = Math.max(1, Math.min(limit, maxPageSize));
  let page = Math.floor(offset / size);
  const skip = offset - page * size;
  const items: T[] = [];
  let total = 0;
  for (;;) {
    const res = await fetchPage(page, size);
    total = res.total;
    items.push(...res.items);
    if (items.length >= skip + limit || res.items.length < size || (page + 1) * size >= total) break;
    page++;
  }
  const slice = limit > 0 ? items.slice(skip, skip + limit) : [];
  return { items: slice, totalCount: total, hasMore: offset + slice.length < total };
}

/** Every item of a numbered-page list (for filters and sorts the upstream cannot do). */
export async function allPages<T>(
  maxPageSize: number,
  fetchPage: (pageIndex: number, pageSize: number) => Promise<{ items: T[]; total: number }>,
  cap = 10_000,
): Promise<T[]> {
  const out: T[] = [];
  for (let page = 0; out.length < cap; page++) {
    const res = await fetchPage(page, maxPageSize);
    out.push(...res.items);
    if (res.items.length < maxPageSize || out.length >= res.total) break;
  }
  return out;
}
