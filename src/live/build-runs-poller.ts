import type { Provider, RunData } from '../providers/types.js';
import type { LiveHub } from './hub.js';

/** Runs read per tick: the newest ones, where new runs and state changes show up. */
const WINDOW = 20;

const signature = (r: RunData) => `${r.state}|${r.rawState}|${r.beginTime?.getTime() ?? ''}|${r.endTime?.getTime() ?? ''}`;

/**
 * Watches the newest runs of one upstream build for list pages (`buildRunsUpdated(buildId)`),
 * once for all its subscribers: each tick lists the build's latest runs and publishes the
 * new ones and those whose state or times changed, exactly as the native engine's pushes.
 * The first tick only learns the current state.
 */
class BuildRunsPoller {
  refs = 0;
  ticks = 0;
  private timer: NodeJS.Timeout | null = null;
  private known: Map<string, string> | null = null;
  private stopped = false;

  constructor(private readonly provider: Provider, private readonly buildKey: string, private readonly hub: LiveHub) {
    this.schedule(0);
  }

  private schedule(ms: number) {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref?.();
  }

  private async tick() {
    this.ticks++;
    try {
      const page = await this.provider.listRuns!(this.buildKey, { offset: 0, limit: WINDOW });
      if (this.stopped) return;
      const now = new Map(page.items.map((r) => [r.key, signature(r)]));
      if (this.known) {
        // Oldest first, so a list page sees runs appear in the order they were made.
        for (const r of [...page.items].reverse()) if (this.known.get(r.key) !== now.get(r.key)) this.hub.runUpdated(this.provider.id, r);
      }
      this.known = now;
    } catch (e) {
      this.hub.reportError(e as Error);
    }
    this.schedule(this.hub.settings.listPollMs);
  }

  stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

/** One poller per watched upstream build, reference-counted across subscribers. */
export class BuildRunsPollers {
  private readonly map = new Map<string, BuildRunsPoller>();
  constructor(private readonly hub: LiveHub) {}

  /** Starts (or joins) the poller of a build; returns the release function. Native builds need none. */
  acquire(provider: Provider, buildKey: string): () => void {
    if (provider.kind === 'NATIVE' || !provider.listRuns || !provider.capabilities.has('RUN_LIST')) return () => undefined;
    const id = `${provider.id}:${buildKey}`;
    let p = this.map.get(id);
    if (!p) {
      p = new BuildRunsPoller(provider, buildKey, this.hub);
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
