import type { SignatureTimestamps } from './signature-time.js';

/**
 * Why a signature does not count in a step that requires timestamps (`require_timestamps`): it carries
 * none, or none that counts, then each token's problem (`timestamp 1 of signature by …: …`).
 */
export function missingTimestamp(stepName: string, who: string, tokens: SignatureTimestamps): string {
  if (tokens.problems.length === 0) return `${stepName} requires timestamps and the signature by ${who} has none`;
  return `${stepName} requires timestamps and the signature by ${who} has no valid one; ${tokens.problems.join('; ')}`;
}
