import { status, type ServiceError } from '@grpc/grpc-js';
import { SpiffeError } from '../errors.js';
import type { EvidentErrorCode } from '../../errors.js';

export type WorkloadApiErrorReason =
  'BAD_ADDRESS' | 'UNAVAILABLE' | 'PERMISSION_DENIED' | 'INVALID_ARGUMENT' | 'RPC_FAILED' | 'BAD_RESPONSE' | 'NO_SVID' | 'CANCELLED';

/**
 * Workload API failures. Codes follow the SPIFFE Workload API standard and docs/ARCHITECTURE.md: an unreachable agent (Unavailable, missing
 * socket, deadline) and a caller without identity (PermissionDenied) are ENVIRONMENT (exit 3);
 * InvalidArgument is the caller's input (exit 2); garbage from the agent is ENVIRONMENT too.
 */
export class WorkloadApiError extends SpiffeError<WorkloadApiErrorReason> {
  /** The gRPC status, when the error came from one. */
  readonly grpcCode: status | undefined;

  constructor(
    reason: WorkloadApiErrorReason,
    message: string,
    options: { code?: EvidentErrorCode; cause?: unknown; grpcCode?: status } = {},
  ) {
    super('workloadapi', reason, message, { code: options.code ?? 'ENVIRONMENT', cause: options.cause });
    this.grpcCode = options.grpcCode;
  }
}

export function isServiceError(e: unknown): e is ServiceError {
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'number' && 'details' in e;
}

/** Maps a gRPC failure of `rpc` against `address` to a one-line WorkloadApiError. */
export function fromGrpcError(e: unknown, rpc: string, address: string): WorkloadApiError {
  if (e instanceof WorkloadApiError) return e;
  if (!isServiceError(e)) {
    return new WorkloadApiError('RPC_FAILED', `${rpc} failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
  const details = tidy(e.details) || status[e.code];
  switch (e.code) {
    case status.UNAVAILABLE:
      return new WorkloadApiError('UNAVAILABLE', `cannot reach the Workload API at ${address}: ${details}`, { cause: e, grpcCode: e.code });
    case status.DEADLINE_EXCEEDED:
      return new WorkloadApiError('UNAVAILABLE', `no answer from the Workload API at ${address} in time (${rpc})`, {
        cause: e,
        grpcCode: e.code,
      });
    case status.PERMISSION_DENIED:
      // the agent's own words when it says why (evident's agent does), else the standard's meaning
      return new WorkloadApiError(
        'PERMISSION_DENIED',
        details.startsWith('no identity issued:') ? `${details} (${rpc})` : `no identity issued to this process (${rpc}: ${details})`,
        {
          cause: e,
          grpcCode: e.code,
        },
      );
    case status.INVALID_ARGUMENT:
      return new WorkloadApiError('INVALID_ARGUMENT', `${rpc}: ${details}`, { code: 'BAD_INPUT', cause: e, grpcCode: e.code });
    case status.CANCELLED:
      return new WorkloadApiError('CANCELLED', `${rpc} cancelled`, { cause: e, grpcCode: e.code });
    default:
      return new WorkloadApiError('RPC_FAILED', `${rpc} failed: ${status[e.code] ?? e.code}: ${details}`, { cause: e, grpcCode: e.code });
  }
}

/**
 * grpc-js details carry transport noise ("No connection established. Last error: Error: connect ENOENT
 * /x. Resolution note: "): keep the one fact a person can act on, on one line.
 */
function tidy(details: string | undefined): string {
  if (!details) return '';
  const last = /Last error: (?:Error: )?(.*?)(?:\. Resolution note:.*)?$/s.exec(details);
  return (last ? last[1]! : details.replace(/\s*Resolution note:\s*$/, '')).replace(/\s+/g, ' ').trim();
}

/** A response the agent should never have sent (bad DER, bad key, bad JWKS): clear error, no crash. */
export function badResponse(what: string, e: unknown): WorkloadApiError {
  return new WorkloadApiError('BAD_RESPONSE', `invalid ${what} from the Workload API: ${(e as Error)?.message ?? String(e)}`, { cause: e });
}
