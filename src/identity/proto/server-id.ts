import { SpiffeId, TrustDomain } from '../../spiffe/spiffeid/index.js';

/**
 * The SPIFFE ID of the server, which its TLS certificate carries: the agent checks it instead of a host
 * name. A module of its own, without gRPC: the server's settings use it, and `--help` loads those.
 */
export function serverIdFor(trustDomain: TrustDomain | string): SpiffeId {
  return SpiffeId.fromSegments(typeof trustDomain === 'string' ? TrustDomain.parse(trustDomain) : trustDomain, 'evident', 'server');
}
