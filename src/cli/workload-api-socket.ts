import { DEFAULT_WORKLOAD_API_SOCKET } from '../spiffe/workloadapi/default-socket.js';

/**
 * The help of every flag naming the Workload API (`svid … --socket`, `run`/`record`/`sign --spiffe-socket`):
 * what each takes and where it looks when not given, which spiffe/workloadapi/address.ts resolveAddress decides.
 */
export const WORKLOAD_API_SOCKET_HELP = `the Workload API socket, a path or unix:// URI (default: $SPIFFE_ENDPOINT_SOCKET, else the agent's ${DEFAULT_WORKLOAD_API_SOCKET})`;
