import * as grpc from '@grpc/grpc-js';
import { isEvidentError } from '../../../errors.js';

/** A gRPC error with a status code, as handlers pass to their callback. */
export function rpcError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

/** Maps anything a handler threw to a status: our typed errors keep their meaning, the rest is INTERNAL. */
export function toRpcError(e: unknown): grpc.ServiceError {
  const err = e as Partial<grpc.ServiceError>;
  if (typeof err?.code === 'number' && typeof err.details === 'string') return e as grpc.ServiceError;
  if (isEvidentError(e)) {
    const code =
      e.code === 'BAD_SIGNATURE'
        ? grpc.status.PERMISSION_DENIED
        : e.code === 'NOT_FOUND'
          ? grpc.status.NOT_FOUND
          : e.code === 'ENVIRONMENT'
            ? grpc.status.UNAVAILABLE
            : e.code === 'INTERNAL'
              ? grpc.status.INTERNAL
              : grpc.status.INVALID_ARGUMENT;
    return rpcError(code, e.message);
  }
  return rpcError(grpc.status.INTERNAL, 'internal error');
}
