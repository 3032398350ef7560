import { AGENT_ID_SELECTOR, WORKLOAD_SELECTORS, type SelectorKind } from '../../common/selectors.js';
import { nodeAttestorCatalog } from '../catalog.js';

/**
 * The selectors an entry may require. A workload entry (parented to an agent or to a node entry's ID)
 * is matched against what workload attestors find; a node entry (parented to the server) against what
 * the node attestors found when the agent attested, plus its agent ID.
 */
export interface SelectorKinds {
  readonly workload: readonly SelectorKind[];
  readonly node: readonly SelectorKind[];
}

/**
 * The kinds for a server accepting the node attestors `nodeAttestors` (by catalog name; all of them when
 * not given). Workload attestors run on agents, which the server cannot see: every one known counts.
 */
export function selectorKindsFor(nodeAttestors: readonly string[] = nodeAttestorCatalog.names()): SelectorKinds {
  return {
    workload: [...WORKLOAD_SELECTORS.values()].flat(),
    node: [...nodeAttestors.flatMap((name) => nodeAttestorCatalog.selectorsOf(name)), AGENT_ID_SELECTOR],
  };
}
