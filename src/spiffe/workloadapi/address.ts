import { WorkloadApiError } from './errors.js';

/** The environment variable naming the Workload API endpoint (SPIFFE Workload Endpoint §4). */
export const SOCKET_ENV = 'SPIFFE_ENDPOINT_SOCKET';

/** A parsed Workload API address: a Unix socket path and the gRPC target for it. */
export interface WorkloadApiAddress {
  socketPath: string;
  /** `unix:///abs/path`, what @grpc/grpc-js dials. */
  target: string;
  /** As the user wrote it, for messages. */
  original: string;
}

function bad(message: string): WorkloadApiError {
  return new WorkloadApiError('BAD_ADDRESS', message, { code: 'BAD_INPUT' });
}

/**
 * Parses `unix:///path` or `unix:/path` (SPIFFE Workload Endpoint: a URI with the `unix` scheme, no
 * authority, query or fragment, an absolute path). Other schemes are rejected.
 *
 * @example
 * parseAddress('unix:///run/spire/agent.sock').socketPath; // '/run/spire/agent.sock'
 */
export function parseAddress(uri: string): WorkloadApiAddress {
  if (uri === '') throw bad('workload endpoint socket address is empty');
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/.exec(uri);
  if (m === null) throw bad(`workload endpoint socket "${uri}" is not a URI; use unix://${uri.startsWith('/') ? uri : '/PATH'}`);
  const scheme = (m[1] ?? '').toLowerCase();
  let rest = m[2] ?? '';
  if (scheme !== 'unix') throw bad(`workload endpoint socket URI must have a "unix" scheme, not "${scheme}"`);
  if (rest.includes('?')) throw bad('workload endpoint unix socket URI must not include query values');
  if (rest.includes('#')) throw bad('workload endpoint unix socket URI must not include a fragment');
  if (rest.startsWith('//')) {
    rest = rest.slice(2);
    if (!rest.startsWith('/')) throw bad('workload endpoint unix socket URI must not include an authority component');
  }
  if (!rest.startsWith('/') || rest.length < 2) throw bad('workload endpoint unix socket path must be absolute');
  let socketPath: string;
  try {
    socketPath = decodeURIComponent(rest);
  } catch {
    throw bad(`workload endpoint socket URI "${uri}" has bad percent-encoding`);
  }
  return { socketPath, target: `unix://${socketPath}`, original: uri };
}

/** The address given, else `SPIFFE_ENDPOINT_SOCKET` from `env`; an error naming both when neither is set. */
export function resolveAddress(address: string | undefined, env: NodeJS.ProcessEnv = process.env): WorkloadApiAddress {
  const value = address ?? env[SOCKET_ENV];
  if (value === undefined || value === '') {
    throw new WorkloadApiError('BAD_ADDRESS', `workload endpoint socket address is not configured (set ${SOCKET_ENV} or pass the socket)`, {
      code: 'ENVIRONMENT',
    });
  }
  return parseAddress(value);
}
