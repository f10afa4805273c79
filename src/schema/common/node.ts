import { Field, ID, InterfaceType } from 'type-graphql';

@InterfaceType({ description: 'An object that can be fetched alone with `node(id)`. Its `id` is global and opaque: it encodes the provider instance, the type and the provider-native key.' })
export abstract class Node {
  @Field(() => ID, { description: 'Global, opaque ID.' })
  id!: string;
}

/**
 * Defines `key` on `obj` as computed on its first read: a field the query does not select
 * (a build's steps under a list, a step run's config) then costs nothing.
 */
export function lazyField<T extends object, K extends keyof T>(obj: T, key: K, compute: () => T[K]): T {
  Object.defineProperty(obj, key, {
    configurable: true,
    enumerable: true,
    get() {
      const value = compute();
      Object.defineProperty(obj, key, { value, configurable: true, enumerable: true, writable: true });
      return value;
    },
  });
  return obj;
}
