/**
 * Defines `obj[key]` as computed on first read, then kept as a plain property. Reads of a
 * list fetch columns every screen does not show (a step's JSON config, sealed secrets): a
 * screen that does not ask for them does not pay for parsing or opening them.
 */
export function lazy<O extends object, K extends PropertyKey, V>(obj: O, key: K, compute: () => V): O & Record<K, V> {
  Object.defineProperty(obj, key, {
    enumerable: true,
    configurable: true,
    get() {
      const value = compute();
      Object.defineProperty(obj, key, { value, enumerable: true, configurable: true, writable: true });
      return value;
    },
    set(value: V) {
      Object.defineProperty(obj, key, { value, enumerable: true, configurable: true, writable: true });
    },
  });
  return obj as O & Record<K, V>;
}
