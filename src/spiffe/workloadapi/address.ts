import { unixSocketPath } from '../../util/unix-socket.js';
import { DEFAULT_WORKLOAD_API_SOCKET } from './default-socket.js';
import { WorkloadApiError } from './errors.js';

export { DEFAULT_WORKLOAD_API_SOCKET };

/** The environment variable naming the Workload API endpoint (SPIFFE Workload Endpoint §4). */
export const SOCKET_ENV = 'SPIFFE_ENDPOINT_SOCKET';

/** A parsed Workload API address: a Unix socket path and the gRPC target for it. */
export interface WorkloadApiAddress {
  socketPath: string;
  /** `unix:///abs/path`, what @grpc/grpc-js dials. */
  target: string;
  /** How messages name it: as the user wrote it, or where it came from. */
  original: string;
}

function bad(message: string): WorkloadApiError {
  return new WorkloadApiError('BAD_ADDRESS', message, { code: 'BAD_INPUT' });
}

/**
 * Parses a Workload API address: a `unix:` URI as the SPIFFE Workload Endpoint spells it (`unix:///path`,
 * `unix:/path`), or a path, relative to `cwd` (util/unix-socket.ts, the one reading of every socket
 * flag). Other schemes are rejected.
 *
 * @example
 * parseAddress('unix:///run/spire/agent.sock').socketPath; // '/run/spire/agent.sock'
 * parseAddress('/run/spire/agent.sock').target;            // 'unix:///run/spire/agent.sock'
 */
export function parseAddress(uri: string, cwd: string = process.cwd()): WorkloadApiAddress {
  let socketPath: string;
  try {
    socketPath = unixSocketPath(uri, cwd);
  } catch (e) {
    throw bad(`workload endpoint ${(e as Error).message}`);
  }
  return { socketPath, target: `unix://${socketPath}`, original: uri };
}

/**
 * The one place a Workload API client learns where to connect: the address given (a flag), else
 * `SPIFFE_ENDPOINT_SOCKET` from `env`, else the agent's default socket. An empty address given is a usage error.
 */
export function resolveAddress(
  address: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): WorkloadApiAddress {
  if (address !== undefined) return parseAddress(address, cwd);
  const fromEnv = env[SOCKET_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return parseAddress(fromEnv, cwd);
  return {
    socketPath: DEFAULT_WORKLOAD_API_SOCKET,
    target: `unix://${DEFAULT_WORKLOAD_API_SOCKET}`,
    original: `${DEFAULT_WORKLOAD_API_SOCKET} (the agent's default socket; ${SOCKET_ENV} is not set)`,
  };
}
