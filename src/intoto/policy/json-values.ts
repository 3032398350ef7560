import type { CelInput, CelValue } from '@bufbuild/cel';

/**
 * @bufbuild/cel marks its maps and lists with these registered symbols (isCelMap, isCelList test for
 * them): a value of ours carrying one is used as one of its own. Registered symbols are shared by name.
 */
const CEL_MAP: unique symbol = Symbol.for('@bufbuild/cel/map');
const CEL_LIST: unique symbol = Symbol.for('@bufbuild/cel/list');

/** Each JSON object or array is wrapped once: every rule over one attestation reuses the wrappers. */
const wrappers = new WeakMap<object, CelValue>();

/**
 * A parsed JSON value (an attestation's predicate, its subjects) as a CEL value, converted as it is read
 * and remembered: @bufbuild/cel converts a plain object anew (a Map of its entries) at every access, which
 * was most of the time of a rule over a 10 000-finding predicate, evaluated again for each rule. Numbers
 * stay JSON's (CEL doubles, as google.protobuf.Struct has them); a key whose value is null is present
 * (`has(x.k)` is true), which @bufbuild/cel's own maps get wrong.
 */
export function celJson(value: unknown): CelInput {
  if (typeof value !== 'object' || value === null) return value as CelInput;
  let wrapper = wrappers.get(value);
  if (wrapper === undefined) {
    wrapper = (Array.isArray(value) ? new JsonList(value) : new JsonMap(value as Record<string, unknown>)) as unknown as CelValue;
    wrappers.set(value, wrapper);
  }
  return wrapper;
}

class JsonMap {
  readonly [CEL_MAP] = {};
  private keyList?: string[];

  constructor(private readonly object: Record<string, unknown>) {}

  private ownKeys(): string[] {
    this.keyList ??= Object.keys(this.object);
    return this.keyList;
  }

  get size(): number {
    return this.ownKeys().length;
  }

  get(key: unknown): CelValue | undefined {
    return typeof key === 'string' && Object.hasOwn(this.object, key) ? (celJson(this.object[key]) as CelValue) : undefined;
  }

  has(key: unknown): boolean {
    return typeof key === 'string' && Object.hasOwn(this.object, key);
  }

  keys(): IterableIterator<string> {
    return this.ownKeys().values();
  }

  *values(): IterableIterator<CelValue> {
    for (const key of this.ownKeys()) yield celJson(this.object[key]) as CelValue;
  }

  *entries(): IterableIterator<[string, CelValue]> {
    for (const key of this.ownKeys()) yield [key, celJson(this.object[key]) as CelValue];
  }

  forEach(callback: (value: CelValue, key: string, map: unknown) => void, thisArg?: unknown): void {
    for (const key of this.ownKeys()) callback.call(thisArg, celJson(this.object[key]) as CelValue, key, this);
  }

  [Symbol.iterator](): IterableIterator<[string, CelValue]> {
    return this.entries();
  }
}

class JsonList {
  readonly [CEL_LIST] = {};

  constructor(private readonly items: readonly unknown[]) {}

  get size(): number {
    return this.items.length;
  }

  get(index: number): CelValue | undefined {
    return index >= 0 && index < this.items.length ? (celJson(this.items[index]) as CelValue) : undefined;
  }

  *values(): IterableIterator<CelValue> {
    for (const item of this.items) yield celJson(item) as CelValue;
  }

  [Symbol.iterator](): IterableIterator<CelValue> {
    return this.values();
  }
}
