import { credentials, Metadata, status, type Client, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { workloadApiClientConstructor } from '../../spiffe/workloadapi/proto.js';
import { socketProblem } from '../proto/grpc-errors.js';
import { SECURITY_HEADER_MISSING } from './workloadapi/handlers.js';

export interface HealthResult {
  healthy: boolean;
  /** What the agent answered (a status name), or why it could not be reached. */
  detail: string;
}

/**
 * Whether an agent answers on its Workload API socket. The probe leaves out the security header on
 * purpose: a serving agent refuses it at once with InvalidArgument, before attesting anyone, so the
 * answer proves the agent is up without depending on the caller's identity or on attestation time.
 */
export function checkAgentHealth(socketPath: string, timeoutMs = 3000): Promise<HealthResult> {
  const Ctor = workloadApiClientConstructor();
  const client = new Ctor(`unix://${socketPath}`, credentials.createInsecure()) as unknown as Client & {
    FetchX509Bundles(req: object, md: Metadata, o: { deadline: number }): ClientReadableStream<unknown>;
  };
  return new Promise<HealthResult>((resolve) => {
    const stream = client.FetchX509Bundles({}, new Metadata(), { deadline: Date.now() + timeoutMs });
    let settled = false;
    const settle = (r: HealthResult): void => {
      if (settled) return;
      settled = true;
      stream.cancel();
      client.close();
      resolve(r);
    };
    stream.on('data', () => settle({ healthy: false, detail: 'answered a request without the security header' }));
    stream.on('error', (e: ServiceError) => {
      if (e.code === status.INVALID_ARGUMENT && e.details.includes(SECURITY_HEADER_MISSING)) settle({ healthy: true, detail: 'serving' });
      else if (e.code === status.UNAVAILABLE) settle({ healthy: false, detail: socketProblem(e.details) });
      else settle({ healthy: false, detail: `${status[e.code] ?? e.code}: ${e.details.replace(/\s+/g, ' ').trim()}` });
    });
    stream.on('end', () => settle({ healthy: false, detail: 'stream ended without an answer' }));
  });
}
