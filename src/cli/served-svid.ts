/**
 * A server's own X509-SVID from the Workload API, renewed on rotation (store/workload-tls.ts): what
 * `store serve` and `gate serve` present with --spiffe-socket instead of --tls-cert/--tls-key files.
 */
import { EvidentError } from '../errors.js';
import type { CliContext } from './context.js';

export interface ServedSvidFlags {
  spiffeSocket?: string | boolean;
  spiffeId?: string;
  spiffeTimeout: string;
}

/** Undefined without --spiffe-socket; otherwise the source, which gives up (exit 3) when no SVID came within --spiffe-timeout. */
export async function servedSvidSource(command: string, f: ServedSvidFlags, ctx: CliContext, log: (line: string) => void) {
  if (f.spiffeSocket === undefined) return undefined;
  const seconds = Number(f.spiffeTimeout);
  if (!(seconds > 0 && seconds <= 3600)) {
    throw new EvidentError('BAD_USAGE', `${command}: --spiffe-timeout takes a number of seconds up to 3600, not '${f.spiffeTimeout}'`);
  }
  const { workloadTls } = await import('../store/workload-tls.js');
  return workloadTls({
    ...(typeof f.spiffeSocket === 'string' ? { address: f.spiffeSocket } : {}),
    env: ctx.io.env,
    cwd: ctx.io.cwd,
    ...(f.spiffeId !== undefined ? { spiffeId: f.spiffeId } : {}),
    firstWithinMs: seconds * 1000,
    log,
  });
}
