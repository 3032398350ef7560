import type { AttestedAgent, Datastore, RegistrationEntry, Selector } from '../datastore/index.js';
import { serverSpiffeId } from '../spiffe-id.js';
import { AGENT_ID_SELECTOR } from '../../common/selectors.js';

/** Whether every selector of `subset` is in `set`. */
export function selectorsSubset(subset: Selector[], set: Selector[]): boolean {
  const have = new Set(set.map((s) => `${s.type}\u0000${s.value}`));
  return subset.every((s) => have.has(`${s.type}\u0000${s.value}`));
}

/**
 * The node selectors of an agent: what its attestor found, plus `spiffe_id:<agent id>` so a node entry
 * can name one agent exactly (that is what `token generate --spiffe-id` creates).
 */
export function agentNodeSelectors(agent: AttestedAgent): Selector[] {
  return [...agent.selectors, { type: AGENT_ID_SELECTOR.prefix, value: agent.spiffeId }];
}

/**
 * The entries an agent may serve: those parented to the agent itself, and those parented to a node
 * entry (an entry whose parent is the server) whose selectors are a subset of the agent's node
 * selectors (the node entries are the agent's aliases; they are not served themselves).
 */
export async function entriesForAgent(ds: Datastore, trustDomain: string, agent: AttestedAgent): Promise<RegistrationEntry[]> {
  const nodeSelectors = agentNodeSelectors(agent);
  const nodeEntries = (await ds.entries.list({ parentId: serverSpiffeId(trustDomain) })).filter((e) =>
    selectorsSubset(e.selectors, nodeSelectors),
  );
  const parents = [agent.spiffeId, ...new Set(nodeEntries.map((e) => e.spiffeId))];
  const out = new Map<string, RegistrationEntry>();
  for (const p of parents) for (const e of await ds.entries.list({ parentId: p })) out.set(e.id, e);
  return [...out.values()];
}
