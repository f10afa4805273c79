import { traced } from '../tracing/index.js';
import type { Provider } from './types.js';

/** The contract's calls (types.ts), all async; anything else a provider has is passed through as it is. */
const CALLS = new Set<PropertyKey>([
  'listBuilds', 'getBuild', 'createBuild', 'updateBuild', 'deleteBuild', 'getBuildStats', 'listRuns', 'getRun', 'latestRun', 'runBuild',
  'cancelRun', 'removeRun', 'listStepRuns', 'getStepRun', 'getLogs', 'listImageTags', 'getImageTag', 'getBuildRecord', 'getBuilds', 'getRuns',
  'latestRuns', 'listRunsOfBuilds', 'listStepRunsOfRuns', 'getBuildStatsOfBuilds', 'listImageTagsOfBuilds',
] satisfies Array<keyof Provider>);

/**
 * The provider with a span around each of its calls (`provider <id>.<method>`), so the
 * upstream requests it makes nest under the call that made them. Used only while tracing is
 * on (ProviderRegistry); the calls, their `this` and their results are the provider's own.
 */
export function tracedProvider(p: Provider): Provider {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(p, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (typeof value !== 'function' || !CALLS.has(key)) return value;
      let w = wrapped.get(key);
      if (!w) {
        const name = `provider ${target.id}.${String(key)}`;
        const attributes = { 'buildgate.provider': target.id, 'buildgate.provider.kind': target.kind, 'buildgate.provider.method': String(key) };
        w = (...args: unknown[]) => traced(name, attributes, () => Promise.resolve(value.apply(target, args)));
        wrapped.set(key, w);
      }
      return w;
    },
  });
}
