import { EvidentError } from '../../../errors.js';

export type WorkloadAttestationErrorReason = 'PROCESS_GONE' | 'PROCESS_CHANGED' | 'ATTESTOR_FAILED';

/**
 * Attestation could not vouch for the caller: it exited, its PID now names another process, or an
 * attestor failed. The Workload API answers PermissionDenied (no identity; a retry may succeed).
 */
export class WorkloadAttestationError extends EvidentError {
  constructor(
    readonly reason: WorkloadAttestationErrorReason,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super('ENVIRONMENT', `workloadattest: ${message}`, options);
  }
}
