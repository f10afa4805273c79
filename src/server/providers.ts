import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { Engine } from '../engine/engine.js';
import { stepExecutors } from '../engine/steps/index.js';
import type { LiveHub } from '../live/hub.js';
import { NativeProvider } from '../providers/native/index.js';
import type { Provider } from '../providers/types.js';
import type { Store } from '../store/db.js';
import { seedDemoBuilds } from '../store/demo.js';

/** Creates the native provider with its engine, and every configured upstream provider instance. */
export async function createProviders(config: Config, store: Store, live: LiveHub, logger: Logger): Promise<{ providers: Provider[]; native: NativeProvider; engine: Engine }> {
  const native = new NativeProvider(store, { maxSteps: config.limits.maxSteps });
  const engine = new Engine(store, native.builds, config.engine, live, logger.child({ part: 'engine' }), stepExecutors);
  native.attachEngine(engine);
  const recovered = await engine.recover();
  if (recovered.failed || recovered.requeued) logger.warn(recovered, 'recovered runs left over by the previous process');
  if (config.demo.seed) {
    const n = await seedDemoBuilds(native);
    if (n) logger.info({ builds: n }, 'seeded demo builds into the empty store');
  }
  return { providers: [native], native, engine };
}
