/**
 * @peculiar/x509 2.x resolves its parts through tsyringe, which refuses to load unless a Reflect
 * metadata polyfill is present (its README asks for `reflect-metadata` or similar). None is among our
 * dependencies, so this installs the three functions tsyringe calls (plus the `metadata` decorator
 * factory tslib uses), only when no polyfill is loaded. It must run before @peculiar/x509 is first
 * evaluated: import values from `./x509.js`, never from '@peculiar/x509' directly.
 */
type Key = string | symbol;
const store = new WeakMap<object, Map<string | symbol | undefined, Map<unknown, unknown>>>();

function table(target: object, property: Key | undefined, create: boolean): Map<unknown, unknown> | undefined {
  let byProperty = store.get(target);
  if (byProperty === undefined) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let t = byProperty.get(property);
  if (t === undefined && create) {
    t = new Map();
    byProperty.set(property, t);
  }
  return t;
}

interface ReflectMetadata {
  getMetadata?: (key: unknown, target: object, property?: Key) => unknown;
  getOwnMetadata?: (key: unknown, target: object, property?: Key) => unknown;
  defineMetadata?: (key: unknown, value: unknown, target: object, property?: Key) => void;
  metadata?: (key: unknown, value: unknown) => (target: object, property?: Key) => void;
}

const R = Reflect as unknown as ReflectMetadata;
if (typeof R.getMetadata !== 'function') {
  const getOwn = (key: unknown, target: object, property?: Key): unknown => table(target, property, false)?.get(key);
  const define = (key: unknown, value: unknown, target: object, property?: Key): void => {
    table(target, property, true)?.set(key, value);
  };
  R.getOwnMetadata = getOwn;
  R.defineMetadata = define;
  R.getMetadata = (key, target, property) => {
    for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null) {
      const v = table(t, property, false);
      if (v?.has(key)) return v.get(key);
    }
    return undefined;
  };
  R.metadata = (key, value) => (target, property) => define(key, value, target, property);
}

export {};
