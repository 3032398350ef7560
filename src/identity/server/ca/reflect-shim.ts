/**
 * @peculiar/x509 uses tsyringe, which demands the Reflect metadata API at load time; the usual package
 * (`reflect-metadata`) is not a dependency here. tsyringe only uses define/get(Own)Metadata for its
 * constructor-injection bookkeeping, so a WeakMap-backed version of those three is enough.
 * Imported for its effect before @peculiar/x509; it does nothing when a real polyfill is present.
 */
type Meta = Map<unknown, unknown>;
const store = new WeakMap<object, Map<string | symbol | undefined, Meta>>();

function metaFor(target: object, prop: string | symbol | undefined, create: boolean): Meta | undefined {
  let byProp = store.get(target);
  if (!byProp && create) store.set(target, (byProp = new Map()));
  let m = byProp?.get(prop);
  if (!m && create && byProp) byProp.set(prop, (m = new Map()));
  return m;
}

const R = Reflect as unknown as Record<string, unknown>;
if (typeof R.getMetadata !== 'function') {
  R.defineMetadata = (key: unknown, value: unknown, target: object, prop?: string | symbol) => {
    metaFor(target, prop, true)!.set(key, value);
  };
  R.getOwnMetadata = (key: unknown, target: object, prop?: string | symbol) => metaFor(target, prop, false)?.get(key);
  R.getMetadata = (key: unknown, target: object, prop?: string | symbol): unknown => {
    for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null) {
      const m = metaFor(t, prop, false);
      if (m?.has(key)) return m.get(key);
    }
    return undefined;
  };
}

export {};
