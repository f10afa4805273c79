import { ConfigError } from '../config/index.js';
import { BuildgateError, ErrorCode } from '../errors.js';
import { createCocktailProvider } from './cocktail/index.js';
import { createCodeArtsProvider } from './codearts/index.js';
import type { ProviderDeps, ProviderFactory, ProviderInstanceConfig } from './factory.js';
import { createQuayProvider } from './quay/index.js';
import type { Provider } from './types.js';
import { createZadigProvider } from './zadig/index.js';

/** The factory of each upstream kind. */
export const upstreamFactories: Record<ProviderInstanceConfig['kind'], ProviderFactory> = {
  COCKTAIL: createCocktailProvider,
  QUAY: createQuayProvider,
  ZADIG: createZadigProvider,
  CODEARTS: createCodeArtsProvider,
};

/**
 * Creates one upstream provider instance. A bad option is a configuration error naming
 * the key as `providers[i].options.<key>` (i = the instance's place in `providers`), so
 * the start stops with the same kind of message as any other bad key.
 */
export function createUpstreamProvider(instance: ProviderInstanceConfig, deps: ProviderDeps, index = 0): Provider {
  const factory = upstreamFactories[instance.kind];
  if (!factory) throw new ConfigError(`invalid configuration: providers[${index}].kind: unknown provider kind "${String(instance.kind)}"`, `providers[${index}].kind`);
  try {
    return factory(instance, deps);
  } catch (e) {
    if (e instanceof BuildgateError && e.code === ErrorCode.BAD_USER_INPUT) {
      const raw = typeof e.extensions.field === 'string' && e.extensions.field.startsWith('options.') ? e.extensions.field : 'options';
      const field = raw.replace(/\.\(options\)$/, ''); // an unknown key is reported on the options object itself
      // Provider messages read `provider "id" (KIND): options.key: why`; keep only the why.
      const why = e.message.replace(/^provider "[^"]*" \([A-Z]+\): options(\.[^:]*)?: /, '');
      throw new ConfigError(`invalid configuration: providers[${index}].${field}: ${why} (provider "${instance.id}", ${instance.kind})`, `providers[${index}].${field}`);
    }
    throw e;
  }
}
