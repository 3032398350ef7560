import type { Link } from '../models/types.js';
import { indexArtifacts } from '../rules/apply.js';
import type { PackedArtifacts } from '../rules/packed-artifacts.js';
import type { LinkArtifacts } from '../rules/types.js';

// What the rules see of each link, made once per link.
const indexes = new WeakMap<Link, LinkArtifacts>();

/**
 * Makes the packed lists `link`'s materials and products. The link stays an ordinary Link: reading
 * `materials` or `products` parses the plain dictionary from the canonical bytes (once); verification
 * itself reads the packed lists through artifactsOf and never needs it.
 */
export function attachPackedArtifacts(link: Link, materials: PackedArtifacts, products: PackedArtifacts): void {
  Object.defineProperty(link, 'materials', { get: () => materials.toDict(), enumerable: true, configurable: true });
  Object.defineProperty(link, 'products', { get: () => products.toDict(), enumerable: true, configurable: true });
  indexes.set(link, { materials, products });
}

/** The artifacts of `link` as the rules look them up: its packed lists, else an index over its dictionaries. */
export function artifactsOf(link: Link): LinkArtifacts {
  let found = indexes.get(link);
  if (found === undefined) {
    found = { materials: indexArtifacts(link.materials), products: indexArtifacts(link.products) };
    indexes.set(link, found);
  }
  return found;
}

/**
 * A link of the given fields whose materials are those of `materialsOf` and products those of
 * `productsOf`, taken over as they are (a packed list is not parsed to be handed on).
 */
export function linkWithArtifacts(fields: Omit<Link, 'materials' | 'products'>, materialsOf: Link, productsOf: Link): Link {
  const link = { ...fields } as Link;
  Object.defineProperty(link, 'materials', Object.getOwnPropertyDescriptor(materialsOf, 'materials')!);
  Object.defineProperty(link, 'products', Object.getOwnPropertyDescriptor(productsOf, 'products')!);
  indexes.set(link, { materials: artifactsOf(materialsOf).materials, products: artifactsOf(productsOf).products });
  return link;
}
