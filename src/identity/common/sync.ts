/**
 * How often an agent fetches its entries and bundle from the server unless told otherwise: the delay
 * between `entry create` and a workload getting its SVID. The server's messages and `entry create --wait`
 * reason with it, so both sides read it here.
 */
export const AGENT_SYNC_INTERVAL_MS = 5000;
