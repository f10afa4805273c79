import { readFresh } from '../cache/index.js';
import type { Provider, RunData } from '../providers/types.js';
import type { LiveChannels } from './channels.js';

/** Runs read per tick: the newest ones, where new runs and state changes show up. */
const WINDOW = 20;

const signature = (r: RunData) => `${r.state}|${r.rawState}|${r.beginTime?.getTime() ?? ''}|${r.endTime?.getTime() ?? ''}`;

/** Builds of a provider watched per tick by `buildRunsUpdated(providerId)`: the first page. */
const PROVIDER_BUILDS = 100;

/**
 * Watches runs for list pages, once for all subscribers: each tick reads a window of runs and
 * publishes the new ones and those whose state or times changed, exactly as the native
 * engine's pushes. The first tick (at once) only learns the current state; reads bypass and refresh the upstream cache. For one upstream build
 * (`buildRunsUpdated(buildId)`) the window is its newest runs; for a whole upstream provider
 * (`buildRunsUpdated(providerId)`) it is the latest run of each of its first 100 builds, what
 * a builds list shows (one list call plus what `lastRun` costs that provider per build).
 */
class BuildRunsPoller {
  refs = 0;
  ticks = 0;
  private timer: NodeJS.Timeout | null = null;
  private known: Map<string, string> | null = null;
  private stopped = false;
  private ticking = false;
  private again = false;

  constructor(private readonly provider: Provider, private readonly read: () => Promise<RunData[]>, private readonly hub: LiveChannels) {
    this.schedule(0);
  }

  private schedule(ms: number) {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref?.();
  }

  /** Read now (a webhook said a run changed) instead of at the next interval. */
  wake(): void {
    if (this.stopped) return;
    if (this.ticking) { this.again = true; return; }
    if (this.timer) clearTimeout(this.timer);
    this.schedule(0);
  }

  private async tick() {
    this.ticks++;
    this.ticking = true;
    this.again = false;
    try {
      const runs = await readFresh(this.read); // the upstream now, not the cache; refreshes it for queries
      if (this.stopped) return;
      const now = new Map(runs.map((r) => [r.key, signature(r)]));
      if (this.known) {
        // Readers give runs oldest first, so a list page sees them appear in the order they were made.
        for (const r of runs) if (this.known.get(r.key) !== now.get(r.key)) this.hub.runUpdated(this.provider.id, r);
      }
      this.known = now;
    } catch (e) {
      this.hub.reportError(e as Error);
    } finally {
      this.ticking = false;
    }
    this.schedule(this.again ? 0 : this.hub.settings.listPollMs);
  }

  stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

function buildReader(provider: Provider, buildKey: string): (() => Promise<RunData[]>) | null {
  if (!provider.listRuns || !provider.capabilities.has('RUN_LIST')) return null;
  return async () => [...(await provider.listRuns!(buildKey, { offset: 0, limit: WINDOW })).items].reverse();
}

function providerReader(provider: Provider): (() => Promise<RunData[]>) | null {
  if (!provider.listBuilds || !provider.latestRun) return null;
  return async () => {
    const builds = await provider.listBuilds!({ offset: 0, limit: PROVIDER_BUILDS });
    const latest = await Promise.all(builds.items.map((b) => provider.latestRun!(b.key)));
    // Not started yet (no begin time) counts as newest.
    const at = (r: RunData) => r.beginTime?.getTime() ?? Number.MAX_SAFE_INTEGER;
    return latest.filter((r): r is RunData => r !== null).sort((a, b) => at(a) - at(b));
  };
}

/** One poller per watched upstream build or provider, reference-counted across subscribers. */
export class BuildRunsPollers {
  private readonly map = new Map<string, BuildRunsPoller>();
  constructor(private readonly hub: LiveChannels) {}

  /**
   * Starts (or joins) the poller of a build, or with `buildKey` null of a whole provider;
   * returns the release function. Native runs are pushed and need none.
   */
  acquire(provider: Provider, buildKey: string | null): () => void {
    const read = provider.kind === 'NATIVE' ? null : buildKey !== null ? buildReader(provider, buildKey) : providerReader(provider);
    if (!read) return () => undefined;
    const id = buildKey === null ? provider.id : `${provider.id}:${buildKey}`;
    let p = this.map.get(id);
    if (!p) {
      p = new BuildRunsPoller(provider, read, this.hub);
      this.map.set(id, p);
    }
    const poller = p;
    poller.refs++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--poller.refs === 0) {
        poller.stop();
        if (this.map.get(id) === poller) this.map.delete(id);
      }
    };
  }

  /** A webhook said a run of the build changed: the build's and the provider's pollers read now. */
  wake(providerId: string, buildKey: string): void {
    this.map.get(`${providerId}:${buildKey}`)?.wake();
    this.map.get(providerId)?.wake();
  }

  /** Running pollers and their ticks (tests and metrics). */
  stats(): { pollers: number; ticks: number } {
    let ticks = 0;
    for (const p of this.map.values()) ticks += p.ticks;
    return { pollers: this.map.size, ticks };
  }

  closeAll(): void {
    for (const p of this.map.values()) p.stop();
    this.map.clear();
  }
}
