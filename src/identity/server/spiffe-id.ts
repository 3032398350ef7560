import { badInput } from '../../errors.js';
import { SpiffeId, SpiffeIdError, TrustDomain } from '../../spiffe/spiffeid/index.js';
import { serverIdFor } from '../proto/server-id.js';

/**
 * The server's SPIFFE IDs: parsed and validated as `SpiffeId` values (src/spiffe/spiffeid owns the
 * standard's rules), turned into strings only for the datastore's columns and the wire. The functions
 * taking and returning strings are the ones the admin API and `evident/identity/server` users call.
 */

function why(e: unknown): string {
  if (e instanceof SpiffeIdError) return e.message.replace(/^spiffeid: /, '');
  throw e;
}

/**
 * Parses a SPIFFE ID by the SPIFFE-ID standard's rules.
 *
 * @throws EvidentError BAD_INPUT, one line: `invalid SPIFFE ID '<value>': <why>`
 */
export function parseSpiffeId(value: string): SpiffeId {
  try {
    return SpiffeId.parse(value);
  } catch (e) {
    throw badInput(`invalid SPIFFE ID '${value}': ${why(e)}`);
  }
}

/** Validates a trust domain name (`example.org`, also accepted as `spiffe://example.org`). */
export function parseTrustDomain(value: string): string {
  try {
    return TrustDomain.parse(value).name;
  } catch (e) {
    throw badInput(`invalid trust domain '${value}': ${why(e)}`);
  }
}

/** `spiffe://td/seg/seg`, each segment validated; throws a one-line BAD_INPUT error. */
export function spiffeIdOf(trustDomain: TrustDomain | string, ...segments: string[]): SpiffeId {
  try {
    return SpiffeId.fromSegments(typeof trustDomain === 'string' ? TrustDomain.parse(trustDomain) : trustDomain, ...segments);
  } catch (e) {
    throw badInput(`cannot make a SPIFFE ID from ${trustDomain} and ${segments.join('/')}: ${why(e)}`);
  }
}

/** The ID of an agent attested by `attestorType`: `spiffe://td/evident/agent/<type>/<suffix>`. */
export function agentSpiffeId(trustDomain: TrustDomain | string, attestorType: string, suffix: string): SpiffeId {
  return spiffeIdOf(trustDomain, 'evident', 'agent', attestorType, suffix);
}

/** The SPIFFE ID of the server itself, as a string; node-selector entries are parented to it. */
export function serverSpiffeId(trustDomain: string): string {
  return serverIdFor(trustDomain).toString();
}

/** Whether `id` names an agent of `trustDomain` (`spiffe://td/evident/agent/...`). */
export function isAgentSpiffeId(trustDomain: TrustDomain, id: SpiffeId): boolean {
  return id.memberOf(trustDomain) && id.path.startsWith('/evident/agent/');
}

/** Whether the string is the SPIFFE ID of an agent of this trust domain (`spiffe://td/evident/agent/...`). */
export function isAgentId(trustDomain: string, id: string): boolean {
  try {
    return isAgentSpiffeId(TrustDomain.parse(trustDomain), SpiffeId.parse(id));
  } catch (e) {
    if (e instanceof SpiffeIdError) return false;
    throw e;
  }
}
