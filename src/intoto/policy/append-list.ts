import { CelScalar, celFunc, listType, type CelFunc, type CelList, type CelValue } from '@bufbuild/cel';

/**
 * @bufbuild/cel marks its lists with this registered symbol (isCelList tests for it); a list of ours must
 * carry it to be one. Registered symbols are shared by name, which is what makes this possible.
 */
const CEL_LIST: unique symbol = Symbol.for('@bufbuild/cel/list');

/**
 * A list that is a prefix of a shared array: `a + [x]` appends to the array in place when `a` is its
 * whole, as Go's append does, so `xs.map(x, f(x))` (which the parser expands to `acc = acc + [f(x)]`
 * for each element) takes linear time. @bufbuild/cel's own concatenation nests a view per step: mapping
 * 10 000 elements and then iterating the result overflowed the stack, and cost quadratic time. A list
 * never changes once made: an append to a prefix that is no longer the whole copies.
 */
class AppendList {
  readonly [CEL_LIST] = {};

  constructor(
    private readonly items: CelValue[],
    readonly size: number,
  ) {}

  get(index: number): CelValue | undefined {
    return index >= 0 && index < this.size ? this.items[index] : undefined;
  }

  *values(): IterableIterator<CelValue> {
    for (let i = 0; i < this.size; i++) yield this.items[i]!;
  }

  [Symbol.iterator](): IterableIterator<CelValue> {
    return this.values();
  }

  /** This list followed by `more`: in place when this list is the whole of its array. */
  append(more: CelList): AppendList {
    const items = this.size === this.items.length ? this.items : this.items.slice(0, this.size);
    for (const v of more) items.push(v);
    return new AppendList(items, items.length);
  }

  static concat(a: CelList, b: CelList): CelList {
    if (a instanceof AppendList) return a.append(b) as unknown as CelList;
    const items = [...a, ...b];
    return new AppendList(items, items.length) as unknown as CelList;
  }
}

const LIST = listType(CelScalar.DYN);

/** `_+_` on two lists, replacing the standard one in the rules' environment. */
export const appendConcat: CelFunc = celFunc('_+_', [LIST, LIST], LIST, (a, b) => AppendList.concat(a, b));
