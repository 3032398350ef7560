import { badInput } from '../../errors.js';
import { SpiffeId, SpiffeIdError, TrustDomain } from '../../spiffe/spiffeid/index.js';

/**
 * The one place the server handles SPIFFE IDs: thin string-in, string-out wrappers over
 * src/spiffe/spiffeid (the standard's rules live there), in the shapes the datastore and APIs use.
 */
export interface ParsedSpiffeId {
  /** The whole ID, e.g. `spiffe://example.org/ci/builder`. */
  readonly id: string;
  readonly trustDomain: string;
  /** The path, `''` or `/seg/seg`. */
  readonly path: string;
}

function why(e: unknown): string {
  if (e instanceof SpiffeIdError) return e.message.replace(/^spiffeid: /, '');
  throw e;
}

/** Parses a SPIFFE ID by the SPIFFE-ID standard's rules; throws a one-line BAD_INPUT error. */
export function parseSpiffeId(value: string): ParsedSpiffeId {
  try {
    const id = SpiffeId.parse(value);
    return { id: id.toString(), trustDomain: id.trustDomain.name, path: id.path };
  } catch (e) {
    throw badInput(`invalid SPIFFE ID '${value}': ${why(e)}`);
  }
}

/** Why a string is not a SPIFFE ID, or undefined when it is one. */
export function spiffeIdProblem(value: string): string | undefined {
  try {
    SpiffeId.parse(value);
    return undefined;
  } catch (e) {
    return why(e);
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

/** Builds `spiffe://td/seg/seg`, each segment validated. */
export function makeSpiffeId(trustDomain: string, ...segments: string[]): string {
  try {
    return SpiffeId.fromSegments(TrustDomain.parse(trustDomain), ...segments).toString();
  } catch (e) {
    throw badInput(`cannot make a SPIFFE ID from ${trustDomain} and ${segments.join('/')}: ${why(e)}`);
  }
}

/** The SPIFFE ID of the server itself; node-selector entries are parented to it. */
export function serverSpiffeId(trustDomain: string): string {
  return `spiffe://${trustDomain}/evident/server`;
}

/** Whether the ID names an agent of this trust domain (`spiffe://td/evident/agent/...`). */
export function isAgentId(trustDomain: string, id: string): boolean {
  return id.startsWith(`spiffe://${trustDomain}/evident/agent/`);
}
