import { SpiffeIdError } from './errors.js';
import { TrustDomain } from './trust-domain.js';
import { MAX_ID_LENGTH, rejectUriExtras, validatePath, validateSegment, validateTrustDomainName } from './validate.js';

const SCHEME_PREFIX = 'spiffe://';

/**
 * A SPIFFE ID, valid by construction to the letter of the SPIFFE-ID standard: scheme `spiffe`,
 * a lowercase trust domain of [a-z0-9._-] without userinfo or port, a path of [a-zA-Z0-9._-] segments
 * with no empty or dot segments and no trailing slash, no query, fragment or percent-encoding, at most
 * 2048 bytes. Like go-spiffe, the scheme must be written in lowercase (the normal form).
 *
 * @example
 * const id = SpiffeId.parse('spiffe://example.org/ci/builder');
 * id.trustDomain.name; // 'example.org'
 * id.path;             // '/ci/builder'
 */
export class SpiffeId {
  private constructor(
    readonly trustDomain: TrustDomain,
    readonly path: string,
  ) {}

  /** Parses and validates; throws SpiffeIdError whose `reason` names the rule broken. */
  static parse(s: string): SpiffeId {
    if (s === '') throw new SpiffeIdError('EMPTY', 'cannot be empty');
    if (Buffer.byteLength(s, 'utf8') > MAX_ID_LENGTH) {
      throw new SpiffeIdError('TOO_LONG', `SPIFFE ID is longer than ${MAX_ID_LENGTH} bytes`);
    }
    if (!s.startsWith(SCHEME_PREFIX)) throw new SpiffeIdError('WRONG_SCHEME', 'scheme is missing or invalid');
    rejectUriExtras(s);
    const rest = s.slice(SCHEME_PREFIX.length);
    const slash = rest.indexOf('/');
    const name = slash === -1 ? rest : rest.slice(0, slash);
    const path = slash === -1 ? '' : rest.slice(slash);
    validateTrustDomainName(name);
    validatePath(path);
    return new SpiffeId(TrustDomain.fromValidatedName(name), path);
  }

  /** `spiffe://td/seg1/seg2…`; each segment is validated on its own (it cannot contain `/`). */
  static fromSegments(td: TrustDomain, ...segments: string[]): SpiffeId {
    for (const segment of segments) {
      if (segment.includes('/')) {
        throw new SpiffeIdError('BAD_PATH_CHAR', 'path segment characters are limited to letters, numbers, dots, dashes, and underscores');
      }
      validateSegment(segment);
    }
    return SpiffeId.fromPath(td, segments.map((s) => `/${s}`).join(''));
  }

  /** `spiffe://td` + path, where path is empty or starts with `/`. */
  static fromPath(td: TrustDomain, path: string): SpiffeId {
    validatePath(path);
    const id = new SpiffeId(td, path);
    if (Buffer.byteLength(id.toString(), 'utf8') > MAX_ID_LENGTH) {
      throw new SpiffeIdError('TOO_LONG', `SPIFFE ID is longer than ${MAX_ID_LENGTH} bytes`);
    }
    return id;
  }

  memberOf(td: TrustDomain): boolean {
    return this.trustDomain.equals(td);
  }

  equals(other: SpiffeId): boolean {
    return this.trustDomain.equals(other.trustDomain) && this.path === other.path;
  }

  toString(): string {
    return `${SCHEME_PREFIX}${this.trustDomain.name}${this.path}`;
  }

  toJSON(): string {
    return this.toString();
  }
}
