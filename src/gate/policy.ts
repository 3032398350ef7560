import type { Layout } from '../intoto/models/types.js';
import type { ProductPolicy } from '../store/verify-product.js';
import { imageGlob } from './image-glob.js';

/**
 * One policy of the gate: a signed layout and its owners' keys, and where it applies. The first policy
 * (in the order given) whose namespaces and image patterns match an image decides it.
 */
export interface GatePolicy extends ProductPolicy {
  /** Namespaces it applies to; empty: every namespace (and a request that names none). */
  readonly namespaces: readonly string[];
  /** Image-name patterns (image-glob.ts) it applies to; empty: every image, a bare digest too. */
  readonly images: readonly string[];
  /** The layout's inspections are reported as skipped rather than refusing the policy: a gate runs no commands. */
  readonly skipInspections: boolean;
}

/** A policy with its patterns compiled. */
export class PolicyMatcher {
  private readonly patterns: readonly RegExp[];

  constructor(readonly policy: GatePolicy) {
    this.patterns = policy.images.map(imageGlob);
  }

  /**
   * Whether it applies to an image named `name` (undefined: a bare digest, which only a policy without
   * image patterns covers) in `namespace` (undefined: none named, which only a policy without namespaces covers).
   */
  applies(name: string | undefined, namespace: string | undefined): boolean {
    const ns = this.policy.namespaces;
    if (ns.length > 0 && (namespace === undefined || !ns.includes(namespace))) return false;
    if (this.patterns.length === 0) return true;
    return name !== undefined && this.patterns.some((p) => p.test(name));
  }
}

/** The names of the layout's inspections: what a gate does not run. */
export function inspectionsOf(layout: Layout): string[] {
  return layout.inspect.map((i) => i.name);
}
