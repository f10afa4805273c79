import type Keyv from 'keyv';
import type { Logger } from 'pino';
import type { Instruments } from '../metrics/instruments.js';
import type { Provider } from './types.js';
import type { BreakerOptions } from './upstream/client.js';
import type { CallbackSettings } from '../engine/callback.js';

/** What the config file says about one upstream provider instance (validated generically). */
export interface ProviderInstanceConfig {
  /** Unique instance id, e.g. "quay-prod"; appears in global IDs and errors. */
  id: string;
  kind: 'COCKTAIL' | 'QUAY' | 'ZADIG' | 'CODEARTS';
  baseUrl: string;
  /** Kind-specific settings (credentials, project keys...), validated by the provider's own zod schema. */
  options: Record<string, unknown>;
  /** Upstream GET cache TTL, ms (0 disables). */
  cacheTtlMs: number;
  /** Per-attempt timeout, ms. */
  timeoutMs: number;
  /** Longest one read may take, retries included, ms (default DEFAULT_DEADLINE_MS in upstream/client.ts). */
  deadlineMs?: number;
  /** Retries for idempotent calls. */
  retries: number;
  /** Circuit breaker of this instance (defaults in UpstreamClient). */
  breaker?: BreakerOptions;
  /** Push: the secret webhooks of this instance must carry (absent: polling only). */
  webhook?: { secret: string; perMinute?: number };
}

/** Shared services handed to every provider. */
export interface ProviderDeps {
  /** keyv store for upstream GET answers (in memory by default, Redis when configured). */
  cache: Keyv;
  logger: Logger;
  /** Private hosts that URLs found in upstream answers (e.g. Quay logs_url) may point to (SSRF guard). */
  allowPrivateHosts?: readonly string[];
  /** Where upstreams reach this gateway (no trailing slash); null: nowhere known, so no callback is registered. */
  publicUrl?: string | null;
  /** How users' callbacks forwarded by buildgate are tried (`engine.callback`). */
  callback?: CallbackSettings;
  /** The gateway's metrics (upstream requests, cache lookups); absent: not counted. */
  instruments?: Instruments;
}

export type ProviderFactory = (instance: ProviderInstanceConfig, deps: ProviderDeps) => Provider;
