import type { AttestedAgent, Datastore, RegistrationEntry } from '../datastore/index.js';
import { serverSpiffeId } from '../spiffe-id.js';
import { agentNodeSelectors, selectorsSubset } from './authorize.js';

/**
 * When each agent last began fetching its entries from this server. Kept in memory, one server's view:
 * enough to tell an operator when a new entry has reached the agents (`entry create --wait`), bounded by
 * the number of agents, and never a reason to refuse anything.
 */
export class AgentSyncs {
  private readonly last = new Map<string, number>();

  /** Called as a FetchEntries call begins, before the entries are read: an entry stored earlier is in its answer. */
  fetching(agentId: string, at: number): void {
    this.last.set(agentId, at);
  }

  lastFetch(agentId: string): number | undefined {
    return this.last.get(agentId);
  }
}

/** An agent that may serve an entry, and whether it has fetched its entries since a moment. */
export interface AgentReach {
  spiffeId: string;
  /** When it last began fetching entries from this server (ms), if it has since this server started. */
  lastFetch?: number;
  /** It fetched at or after `since`: the entry is in its cache, and workloads it matches get an SVID. */
  reached: boolean;
  /** It fetched from this server within the last `activeMs`; one that has not is down or syncs with another server. */
  active: boolean;
}

/**
 * The attested agents (with an unexpired SVID) that may serve `entry`: the agent its parent names, and
 * every agent a node entry with that ID aliases (the node entry's selectors among the agent's node selectors).
 * The same rule as entriesForAgent, seen from the entry.
 */
export async function agentsForEntry(ds: Datastore, trustDomain: string, entry: RegistrationEntry, now: number): Promise<AttestedAgent[]> {
  const aliases = await ds.entries.list({ parentId: serverSpiffeId(trustDomain), spiffeId: entry.parentId });
  return (await ds.agents.list()).filter(
    (a) =>
      Math.max(a.certNotAfter, a.newCertNotAfter) > now &&
      (a.spiffeId === entry.parentId || aliases.some((n) => selectorsSubset(n.selectors, agentNodeSelectors(a)))),
  );
}

/** The attested agents (with an unexpired SVID) a node entry (parented to the server) gives its ID to as an alias. */
export async function agentsAliasedBy(ds: Datastore, nodeEntry: RegistrationEntry, now: number): Promise<AttestedAgent[]> {
  return (await ds.agents.list()).filter(
    (a) => Math.max(a.certNotAfter, a.newCertNotAfter) > now && selectorsSubset(nodeEntry.selectors, agentNodeSelectors(a)),
  );
}

/** How far `entry` has reached: each agent that may serve it, and whether it has fetched entries since `since`. */
export async function entryReach(
  ds: Datastore,
  trustDomain: string,
  entry: RegistrationEntry,
  syncs: AgentSyncs,
  o: { since: number; now: number; activeMs: number },
): Promise<AgentReach[]> {
  return (await agentsForEntry(ds, trustDomain, entry, o.now)).map((a) => {
    const lastFetch = syncs.lastFetch(a.spiffeId);
    return {
      spiffeId: a.spiffeId,
      ...(lastFetch !== undefined ? { lastFetch } : {}),
      reached: lastFetch !== undefined && lastFetch >= o.since,
      active: lastFetch !== undefined && o.now - lastFetch <= o.activeMs,
    };
  });
}

/** Whether waiting is over: some agent has the entry, and every agent that syncs with this server does. */
export function reachComplete(reach: readonly AgentReach[]): boolean {
  return reach.some((r) => r.reached) && reach.every((r) => r.reached || !r.active);
}
