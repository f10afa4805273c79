import { unsupported } from '../errors.js';
import type {
  Batch, BuildData, BuildStatsData, Capability, ImageTagData, ImageTagListArgs, Page, PageArgs, Provider, RunData, StepRunData,
} from './types.js';

/** Every batch read of the contract, present whatever the provider implements. */
export interface BatchReads {
  getBuilds(keys: readonly string[]): Promise<Batch<BuildData | null>>;
  getRuns(keys: readonly string[]): Promise<Batch<RunData | null>>;
  latestRuns(buildKeys: readonly string[]): Promise<Batch<RunData | null>>;
  listRunsOfBuilds(buildKeys: readonly string[], args: PageArgs): Promise<Batch<Page<RunData>>>;
  listStepRunsOfRuns(runKeys: readonly string[]): Promise<Batch<StepRunData[]>>;
  getBuildStatsOfBuilds(buildKeys: readonly string[]): Promise<Batch<BuildStatsData>>;
  listImageTagsOfBuilds(buildKeys: readonly string[], args: ImageTagListArgs): Promise<Batch<Page<ImageTagData>>>;
}

/** How many single reads of one batch run at once against a provider without a bulk endpoint. */
export const BATCH_PARALLELISM = 8;

/** Runs `fn` for every key, at most `limit` at a time; a failing key gives its Error, the others still answer. */
export async function eachBounded<T>(keys: readonly string[], limit: number, fn: (key: string) => Promise<T>): Promise<Batch<T>> {
  const out: Batch<T> = new Array(keys.length);
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const i = next++;
      try { out[i] = await fn(keys[i]!); } catch (e) { out[i] = e instanceof Error ? e : new Error(String(e)); }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, keys.length) }, worker));
  return out;
}

/**
 * The batch reads of a provider: its own where it has them, else the one generic fallback
 * (single reads, bounded parallelism). Keys come de-duplicated from the request's loaders,
 * so no key is read twice within a request. A capability the instance lacks fails every key
 * with UNSUPPORTED_BY_PROVIDER, as a single call would.
 */
export function batchReads(p: Provider, parallelism = BATCH_PARALLELISM): BatchReads {
  const can = (c: Capability) => p.capabilities.has(c);
  const each = <T>(cap: Capability, op: string, single: ((key: string) => Promise<T>) | undefined) =>
    (keys: readonly string[]): Promise<Batch<T>> => {
      if (!can(cap) || !single) return Promise.resolve(keys.map(() => unsupported(p.id, op)));
      return eachBounded(keys, parallelism, single);
    };
  const own = <A extends unknown[], R>(cap: Capability, fn: ((...a: A) => Promise<R>) | undefined) => (can(cap) && fn ? fn.bind(p) : undefined);
  return {
    getBuilds: own('BUILD_GET', p.getBuilds) ?? each('BUILD_GET', 'getBuild', p.getBuild && ((k) => p.getBuild!(k))),
    getRuns: own('RUN_GET', p.getRuns) ?? each('RUN_GET', 'getRun', p.getRun && ((k) => p.getRun!(k))),
    latestRuns: own('RUN_LIST', p.latestRuns) ?? (p.latestRun
      ? each('RUN_LIST', 'latestRun', (k) => p.latestRun!(k))
      : each('RUN_LIST', 'latestRun', p.listRuns && (async (k) => (await p.listRuns!(k, { offset: 0, limit: 1, withTotal: false })).items[0] ?? null))),
    listRunsOfBuilds: own('RUN_LIST', p.listRunsOfBuilds)
      ?? ((keys, args) => each('RUN_LIST', 'listRuns', p.listRuns && ((k) => p.listRuns!(k, args)))(keys)),
    listStepRunsOfRuns: own('STEP_RUNS', p.listStepRunsOfRuns) ?? each('STEP_RUNS', 'listStepRuns', p.listStepRuns && ((k) => p.listStepRuns!(k))),
    getBuildStatsOfBuilds: own('BUILD_STATS', p.getBuildStatsOfBuilds) ?? each('BUILD_STATS', 'getBuildStats', p.getBuildStats && ((k) => p.getBuildStats!(k))),
    listImageTagsOfBuilds: own('IMAGE_TAGS', p.listImageTagsOfBuilds)
      ?? ((keys, args) => each('IMAGE_TAGS', 'listImageTags', p.listImageTags && ((k) => p.listImageTags!(k, args)))(keys)),
  };
}
