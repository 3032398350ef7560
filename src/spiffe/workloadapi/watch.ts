import { status, type ClientReadableStream } from '@grpc/grpc-js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { fromGrpcError, WorkloadApiError } from './errors.js';

export interface WatchOptions extends BackoffOptions {
  /** Stops the watch: the iterator ends cleanly, the stream is cancelled. */
  signal?: AbortSignal;
  /**
   * Told of every failure that the watch survives (stream ended, agent unreachable, a malformed
   * update); the watch keeps going, with backoff. Only InvalidArgument ends it (by throwing).
   */
  onError?: (e: WorkloadApiError) => void;
}

/**
 * Streams the parsed messages of a server-streaming RPC forever: when the stream ends or fails (an
 * agent restart), it is reopened after an exponential backoff that resets once a message arrives.
 */
export async function* watchStream<M, T>(
  rpc: string,
  address: string,
  open: () => ClientReadableStream<M>,
  parse: (m: M) => T,
  o: WatchOptions,
): AsyncGenerator<T, void, undefined> {
  const backoff = new Backoff(o);
  const report = (e: WorkloadApiError): void => o.onError?.(e);
  while (!o.signal?.aborted) {
    const stream = open();
    // The iterator below sees every error; this keeps a late one (after cancel) from being "unhandled".
    stream.on('error', () => undefined);
    const cancel = (): void => stream.cancel();
    o.signal?.addEventListener('abort', cancel, { once: true });
    try {
      for await (const msg of stream as AsyncIterable<M>) {
        backoff.reset();
        let value: T;
        try {
          value = parse(msg);
        } catch (e) {
          report(e instanceof WorkloadApiError ? e : fromGrpcError(e, rpc, address));
          continue;
        }
        yield value;
      }
      report(new WorkloadApiError('UNAVAILABLE', `${rpc} stream closed by the Workload API at ${address}`));
    } catch (e) {
      if (o.signal?.aborted) return;
      const err = fromGrpcError(e, rpc, address);
      if (err.grpcCode === status.INVALID_ARGUMENT) throw err;
      report(err);
    } finally {
      o.signal?.removeEventListener('abort', cancel);
      stream.cancel(); // no-op when finished; frees the call when the consumer stopped early
    }
    if (!(await backoff.wait(o.signal))) return;
  }
}
