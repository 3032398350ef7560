import { EvidentError } from '../../errors.js';
import { unknownName } from '../../util/settings.js';

/**
 * Named things of one kind (node attestors, workload attestors, the factories of a catalog), the one
 * registry both sides use. A name given twice is a mistake in the code that wires them, never a choice
 * between the two: it is refused rather than letting the later one silently win.
 */
export class Registry<T> {
  private readonly byName = new Map<string, T>();

  /** `what` names the kind in messages: `node attestor`. */
  constructor(readonly what: string) {}

  register(name: string, item: T): this {
    if (this.byName.has(name)) throw new EvidentError('BAD_USAGE', `${this.what} '${name}' registered twice`);
    this.byName.set(name, item);
    return this;
  }

  get(name: string): T | undefined {
    return this.byName.get(name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The item of a name that must be known; an unknown name is a usage error listing the known ones. */
  require(name: string): T {
    const item = this.byName.get(name);
    if (item === undefined) throw unknownName(this.what, name, this.names());
    return item;
  }

  /** The names, in registration order. */
  names(): string[] {
    return [...this.byName.keys()];
  }

  values(): T[] {
    return [...this.byName.values()];
  }
}
