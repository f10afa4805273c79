import { BuildRunsPollers } from './build-runs-poller.js';
import { LiveChannels, type LiveHubOptions } from './channels.js';
import { Feeds } from './feeds.js';

export { DEFAULT_LIVE_SETTINGS, redisNamespace, scoped, type BuildChangePayload, type LiveHubOptions, type LiveSettings, type LogEvent, type PushEvent, type RunEvent, type StepEvent, type Topics } from './channels.js';

/**
 * The live hub: the live channels (channels.ts) plus what subscriptions share on this
 * gateway, per-run feeds and pollers of upstream run lists. Those depend on the channels
 * only, so nothing here is imported back by them.
 */
export class LiveHub extends LiveChannels {
  /** Shared per-run listeners (and pollers for upstream runs). */
  readonly feeds: Feeds;
  /** Shared pollers of upstream builds' run lists. */
  readonly buildPollers: BuildRunsPollers;
  private readonly pushListeners: Array<() => void> = [];

  constructor(opts: LiveHubOptions = {}) {
    super(opts);
    this.feeds = new Feeds(this, this.onError);
    this.buildPollers = new BuildRunsPollers(this);
  }

  /**
   * Wakes this gateway's pollers when any replica receives a webhook of one of these
   * providers: the poller of the named run, or those of the build's watched runs, and the
   * build's and provider's run-list pollers read the upstream at once.
   */
  async followPush(providerIds: readonly string[]): Promise<void> {
    const ls = providerIds.map((id) => this.listen('PUSH', id, (e) => {
      this.feeds.wake(e.providerId, e.buildKey, e.runKey);
      this.buildPollers.wake(e.providerId, e.buildKey);
    }));
    this.pushListeners.push(...ls.map((l) => l.off));
    await Promise.all(ls.map((l) => l.ready));
  }

  /** Stops pollers and the transport. */
  override async close(): Promise<void> {
    for (const off of this.pushListeners.splice(0)) off();
    this.feeds.closeAll();
    this.buildPollers.closeAll();
    await super.close();
  }
}
