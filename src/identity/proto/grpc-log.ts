import { setLogger } from '@grpc/grpc-js';
import type { Logger } from 'pino';

/**
 * grpc-js prints its own errors on stderr (`E No address added out of total 1 resolved`), beside the
 * one-line message evident gives for the same failure. Its lines go to `log` at debug level instead
 * (`--log-level debug` shows them). Process-wide, as grpc-js's logger is; left alone when the operator
 * asked grpc-js for its own logs (GRPC_VERBOSITY, GRPC_NODE_VERBOSITY).
 */
export function routeGrpcLogs(log: Logger, env: NodeJS.ProcessEnv = process.env): void {
  if (env.GRPC_VERBOSITY || env.GRPC_NODE_VERBOSITY) return;
  const debug = (message?: unknown, ...rest: unknown[]): void => log.debug({ grpc: [message, ...rest].map(String).join(' ') }, 'grpc-js');
  setLogger({ error: debug, info: debug, debug });
}
