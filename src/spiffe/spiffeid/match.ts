import { NOT_TRUSTED } from '../errors.js';
import { SpiffeIdError } from './errors.js';
import type { SpiffeId } from './spiffe-id.js';
import type { TrustDomain } from './trust-domain.js';

/**
 * Authorizes a peer's SPIFFE ID: returns when it is acceptable, throws SpiffeIdError
 * (reason `NOT_MATCHED`, exit 1) when not. As go-spiffe's `spiffeid.Matcher`.
 *
 * @example
 * const authorize = matchMemberOf(TrustDomain.parse('example.org'));
 * authorize(peerId); // throws unless peerId is in example.org
 */
export type Matcher = (id: SpiffeId) => void;

export function matchAny(): Matcher {
  return () => undefined;
}

export function matchId(expected: SpiffeId): Matcher {
  return (id) => {
    if (!id.equals(expected)) throw new SpiffeIdError('NOT_MATCHED', `unexpected ID "${id}"`, NOT_TRUSTED);
  };
}

export function matchOneOf(...expected: SpiffeId[]): Matcher {
  return (id) => {
    if (!expected.some((e) => e.equals(id))) throw new SpiffeIdError('NOT_MATCHED', `unexpected ID "${id}"`, NOT_TRUSTED);
  };
}

export function matchMemberOf(td: TrustDomain): Matcher {
  return (id) => {
    if (!id.memberOf(td)) {
      throw new SpiffeIdError('NOT_MATCHED', `unexpected trust domain "${id.trustDomain}"`, NOT_TRUSTED);
    }
  };
}

/** The boolean form, for filters. */
export function matches(matcher: Matcher, id: SpiffeId): boolean {
  try {
    matcher(id);
    return true;
  } catch (e) {
    if (e instanceof SpiffeIdError) return false;
    throw e;
  }
}
