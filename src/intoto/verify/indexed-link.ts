import type { Link } from '../models/types.js';
import { indexArtifacts } from '../rules/apply.js';
import type { LinkArtifacts } from '../rules/types.js';

/**
 * A link as verification holds it: the fields of its `signed`, and its artifact lists as the rules look
 * them up (`artifacts`) instead of `materials` and `products` dictionaries. A link file read canonical as
 * written keeps its lists packed in the bytes it was signed as (PackedArtifacts: 10^5 artifacts are never
 * 10^5 objects); any other link has its dictionaries indexed where they are (indexedLink). It is its own
 * type, not a `Link` (which stays plain data): spreading or serializing one copies `artifacts`, a
 * reference, and parses nothing.
 */
export interface IndexedLink extends Readonly<Omit<Link, 'materials' | 'products'>> {
  readonly artifacts: LinkArtifacts;
}

/** `link` with its dictionaries indexed, not copied; or with `artifacts` already indexed (kept packed). */
export function indexedLink(link: Link, artifacts?: LinkArtifacts): IndexedLink {
  const { _type, name, command, byproducts, environment } = link;
  return {
    _type,
    name,
    command,
    byproducts,
    environment,
    artifacts: artifacts ?? { materials: indexArtifacts(link.materials), products: indexArtifacts(link.products) },
  };
}
