export { SpiffeId } from './spiffe-id.js';
export { TrustDomain } from './trust-domain.js';
export { SpiffeIdError, type SpiffeIdErrorReason } from './errors.js';
export { matchAny, matchId, matchOneOf, matchMemberOf, matches, type Matcher } from './match.js';
export { MAX_ID_LENGTH, MAX_TRUST_DOMAIN_LENGTH } from './validate.js';
