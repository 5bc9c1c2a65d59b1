/**
 * Jest setup file: make `structuredClone` return plain objects and arrays of the test file's realm.
 *
 * Jest runs each test file in its own `vm` context but hands it the outer realm's
 * `structuredClone`, so `structuredClone({}).constructor !== Object` inside a test. oidc-provider
 * clones static client metadata and then rejects an inline client `jwks` as invalid. Plain objects
 * and arrays are rebuilt here with this realm's `Object` and `Array`; anything else (typed arrays,
 * `Map`, `Date`, …) still goes to the original.
 *
 * @module
 */
const original = globalThis.structuredClone;

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null; // `Object.prototype` of any realm
}

function cloneInRealm(value: unknown, seen: WeakMap<object, unknown>): unknown {
  if (value === null || typeof value !== 'object') return original(value);
  if (seen.has(value)) return seen.get(value);
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    seen.set(value, copy);
    for (const item of value) copy.push(cloneInRealm(item, seen));
    return copy;
  }
  if (!isPlainObject(value)) return original(value);
  const copy: Record<string, unknown> = {};
  seen.set(value, copy);
  for (const [key, item] of Object.entries(value)) copy[key] = cloneInRealm(item, seen);
  return copy;
}

globalThis.structuredClone = function structuredClone<T>(
  value: T,
  options?: Parameters<typeof original>[1],
): T {
  return (options?.transfer?.length ? original(value, options) : cloneInRealm(value, new WeakMap())) as T;
};
