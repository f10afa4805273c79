import type { Logger } from 'pino';
import { createCache } from '../cache/index.js';
import type { Config } from '../config/index.js';
import { startDemoUpstreams, type DemoUpstreams } from '../demo/upstreams.js';
import { AgentDispatch } from '../engine/agents.js';
import { Engine } from '../engine/engine.js';
import { stepExecutors } from '../engine/steps/index.js';
import { redisNamespace, type LiveHub } from '../live/hub.js';
import type { Instruments } from '../metrics/instruments.js';
import type { ProviderInstanceConfig } from '../providers/factory.js';
import { createUpstreamProvider } from '../providers/index.js';
import { NativeProvider } from '../providers/native/index.js';
import type { Provider } from '../providers/types.js';
import type { SecretBox } from '../store/crypto.js';
import type { Store } from '../store/db.js';

export interface CreatedProviders {
  providers: Provider[];
  native: NativeProvider;
  engine: Engine;
  /** Releases what the providers share (cache connection, demo upstream servers); call after the providers are closed. */
  close(): Promise<void>;
}

/** Creates the native provider with its engine, and every configured upstream provider instance. */
export async function createProviders(config: Config, store: Store, secrets: SecretBox, live: LiveHub, logger: Logger, pgSchema?: string, publicUrl: string | null = null, instruments?: Instruments): Promise<CreatedProviders> {
  const upstream = await createUpstreams(config, logger, publicUrl, instruments);
  const native = new NativeProvider(store, {
    maxSteps: config.limits.maxSteps,
    secrets,
    hosts: { allowPrivateHosts: config.engine.allowPrivateHosts, registryHost: config.engine.registry.host },
  });
  const engine = new Engine(store, native.builds, config.engine, live, logger.child({ part: 'engine' }), stepExecutors, instruments);
  // With build agents this gateway queues native runs; agents (`buildgate agent`) execute them.
  const agents = config.engine.runOn === 'agents' ? new AgentDispatch(config.redis.url!, redisNamespace(config.database.url, pgSchema), live, logger.child({ part: 'agents' }), config.engine.agentStallMs) : null;
  if (agents) engine.useAgents(agents);
  native.attachEngine(engine);
  // Callbacks first: those of the runs recovery ends are new, not left over.
  const callbacks = await engine.resumeCallbacks();
  if (callbacks) logger.info({ callbacks }, 'resumed run callbacks the previous process was still trying');
  const recovered = await engine.recover();
  if (recovered.failed || recovered.requeued) logger.warn(recovered, 'recovered runs left over by the previous process');
  return { providers: [native, ...upstream.providers], native, engine, close: async () => { await agents?.close(); await upstream.close(); } };
}

/**
 * Upstream instances share one cache (memory, or Redis when `redis.url` is set). With
 * `demo.upstreams` the fake servers are started first and one instance of each kind is
 * added after the configured ones. Any failure undoes what was started.
 */
async function createUpstreams(config: Config, logger: Logger, publicUrl: string | null, instruments?: Instruments): Promise<{ providers: Provider[]; close(): Promise<void> }> {
  const instances: ProviderInstanceConfig[] = [...config.providers];
  let demo: DemoUpstreams | null = null;
  if (config.demo.upstreams) {
    demo = await startDemoUpstreams();
    instances.push(...demo.instances);
    logger.info(demo.urls, 'demo upstreams started');
  }
  const cache = createCache({ redisUrl: config.redis.url, logger: logger.child({ part: 'cache' }) });
  const providers: Provider[] = [];
  const close = async () => {
    await cache.close();
    await demo?.stop();
  };
  try {
    instances.forEach((instance, i) => {
      providers.push(createUpstreamProvider(instance, {
        cache: cache.keyv, logger: logger.child({ part: 'provider', providerId: instance.id }), allowPrivateHosts: config.engine.allowPrivateHosts,
        publicUrl, callback: config.engine.callback, instruments,
      }, i));
      if (instance.webhook && instance.kind === 'COCKTAIL' && !publicUrl) {
        logger.warn({ providerId: instance.id }, 'webhook secret set but no address Cocktail can call back (set server.publicUrl): runs are polled only');
      }
    });
  } catch (e) {
    await Promise.allSettled(providers.map((p) => p.close?.()));
    await close();
    throw e;
  }
  if (providers.length) logger.info({ cache: cache.kind, providers: providers.map((p) => `${p.id} (${p.kind})`) }, 'upstream providers configured');
  return { providers, close };
}
