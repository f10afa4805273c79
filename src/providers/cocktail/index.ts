import type { ProviderFactory } from '../factory.js';
import { CocktailProvider } from './provider.js';

export { CocktailProvider, COCKTAIL_CAPABILITIES } from './provider.js';
export { cocktailOptionsSchema } from './options.js';

/** COCKTAIL provider instance: options validated by its own schema (errors name the key), its upstream client built from the instance settings. */
export const createCocktailProvider: ProviderFactory = (instance, deps) => new CocktailProvider(instance, deps);
