/**
 * A value worked out once per object and kept on it under a non-enumerable symbol: left out of JSON
 * and of object spreads (so a copy with other fields works out its own), and cheap for the garbage
 * collector, unlike a WeakMap holding an entry per object of a large state. A frozen object is not
 * written to: its value is worked out each time.
 */
export function memoised<T extends object, V>(target: T, key: symbol, compute: (target: T) => V): V {
  const known = (target as { [key]?: V })[key];
  if (known !== undefined) return known;
  const value = compute(target);
  if (Object.isExtensible(target)) Object.defineProperty(target, key, { value, enumerable: false });
  return value;
}
