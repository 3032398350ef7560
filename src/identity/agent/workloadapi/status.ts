import { status, type StatusObject } from '@grpc/grpc-js';

/** A gRPC status to end a call with; handlers throw it, the dispatcher sends it. */
export class RpcStatus extends Error {
  constructor(
    readonly code: status,
    readonly details: string,
  ) {
    super(details);
  }

  toStatus(): Partial<StatusObject> {
    return { code: this.code, details: this.details };
  }
}

export const invalidArgument = (details: string): RpcStatus => new RpcStatus(status.INVALID_ARGUMENT, details);
export const permissionDenied = (details: string): RpcStatus => new RpcStatus(status.PERMISSION_DENIED, details);
export const unavailable = (details: string): RpcStatus => new RpcStatus(status.UNAVAILABLE, details);
export const internal = (details: string): RpcStatus => new RpcStatus(status.INTERNAL, details);
