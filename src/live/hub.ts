import { BuildRunsPollers } from './build-runs-poller.js';
import { LiveChannels, type LiveHubOptions } from './channels.js';
import { Feeds } from './feeds.js';

export { DEFAULT_LIVE_SETTINGS, redisNamespace, scoped, type BuildChangePayload, type LiveHubOptions, type LiveSettings, type LogEvent, type RunEvent, type StepEvent, type Topics } from './channels.js';

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

  constructor(opts: LiveHubOptions = {}) {
    super(opts);
    this.feeds = new Feeds(this, this.onError);
    this.buildPollers = new BuildRunsPollers(this);
  }

  /** Stops pollers and the transport. */
  override async close(): Promise<void> {
    this.feeds.closeAll();
    this.buildPollers.closeAll();
    await super.close();
  }
}
