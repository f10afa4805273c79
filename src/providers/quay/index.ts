import type { ProviderFactory } from '../factory.js';
import { QuayProvider } from './provider.js';

export { QuayProvider, QUAY_CAPABILITIES, type QuayBuildRequest } from './provider.js';
export { quayOptionsSchema } from './options.js';

/** QUAY provider instance: options validated by its own schema (errors name the key), its upstream client built from the instance settings. */
export const createQuayProvider: ProviderFactory = (instance, deps) => new QuayProvider(instance, deps);
