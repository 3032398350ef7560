import { SpiffeIdError } from './errors.js';

/** SPIFFE-ID §2.3: implementations must accept up to 2048 bytes and should not produce more. */
export const MAX_ID_LENGTH = 2048;
/** SPIFFE-ID §2.3: the host part of a URI is at most 255 characters (RFC 3986). */
export const MAX_TRUST_DOMAIN_LENGTH = 255;

const TD_CHAR = /^[a-z0-9._-]$/;
const PATH_CHAR = /^[a-zA-Z0-9._-]$/;

/** Rejects URI parts a SPIFFE ID must not have (§2: query, fragment; §2.1/2.2: percent-encoding). */
export function rejectUriExtras(s: string): void {
  if (s.includes('?')) throw new SpiffeIdError('QUERY', 'query is not allowed');
  if (s.includes('#')) throw new SpiffeIdError('FRAGMENT', 'fragment is not allowed');
  if (s.includes('%')) throw new SpiffeIdError('PERCENT_ENCODED', 'percent-encoded characters are not allowed');
}

/** §2.1: non-empty, no userinfo or port, only [a-z0-9._-], at most 255 bytes. */
export function validateTrustDomainName(name: string): void {
  if (name === '') throw new SpiffeIdError('MISSING_TRUST_DOMAIN', 'trust domain is missing');
  rejectUriExtras(name);
  if (name.includes('@')) throw new SpiffeIdError('USERINFO', 'trust domain cannot contain userinfo');
  if (name.includes(':')) throw new SpiffeIdError('PORT', 'trust domain cannot contain a port');
  for (const c of name) {
    if (!TD_CHAR.test(c)) {
      throw new SpiffeIdError(
        'BAD_TRUST_DOMAIN_CHAR',
        'trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores',
      );
    }
  }
  if (name.length > MAX_TRUST_DOMAIN_LENGTH) {
    throw new SpiffeIdError('TRUST_DOMAIN_TOO_LONG', `trust domain is longer than ${MAX_TRUST_DOMAIN_LENGTH} bytes`);
  }
}

/** §2.2 for one segment: not empty, not `.`/`..`, only [a-zA-Z0-9._-]. */
export function validateSegment(segment: string): void {
  if (segment === '') throw new SpiffeIdError('EMPTY_SEGMENT', 'path cannot contain empty segments');
  if (segment === '.' || segment === '..') throw new SpiffeIdError('DOT_SEGMENT', 'path cannot contain dot segments');
  rejectUriExtras(segment);
  for (const c of segment) {
    if (!PATH_CHAR.test(c)) {
      throw new SpiffeIdError('BAD_PATH_CHAR', 'path segment characters are limited to letters, numbers, dots, dashes, and underscores');
    }
  }
}

/** §2.2 for a whole path: empty (the trust domain's own ID) or `/seg(/seg)*` with no trailing slash. */
export function validatePath(path: string): void {
  if (path === '') return;
  if (!path.startsWith('/')) throw new SpiffeIdError('NO_LEADING_SLASH', 'path must have a leading slash');
  const segments = path.slice(1).split('/');
  segments.forEach((segment, i) => {
    if (segment === '' && i === segments.length - 1) {
      throw new SpiffeIdError('TRAILING_SLASH', 'path cannot have a trailing slash');
    }
    validateSegment(segment);
  });
}
