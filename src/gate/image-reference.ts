import { EvidentError } from '../errors.js';
import type { StoreDigest } from '../store/digest.js';

/**
 * A container image reference as a pod spec writes it: `[host[:port]/]path[:tag][@sha256:HEX]`.
 *
 * The grammar is the one container runtimes and registries share (distribution's reference grammar):
 *
 *   reference        := name [ ":" tag ] [ "@" digest ]
 *   name             := [domain "/"] path-component ["/" path-component]*     (at most 255 characters)
 *   domain           := host [":" port]     host := domain-name | IPv4 | "[" IPv6 "]"
 *   domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
 *   path-component   := [a-z0-9]+ (separator [a-z0-9]+)*      separator := [_.] | "__" | "-"+
 *   tag              := [\w][\w.-]{0,127}
 *   digest           := algorithm ":" hex    (for sha256: exactly 64 lowercase hex digits)
 *
 * `name` is kept as written (no default registry or `library/` prefix is added): the gate compares names
 * with the patterns a policy author writes, and the digest, not the name, is what identifies the bytes.
 */
export interface ImageReference {
  /** The reference exactly as written. */
  readonly text: string;
  /** Registry host (if any) and repository path, as written. */
  readonly name: string;
  readonly tag?: string;
  /** Present only for a sha256 digest: the one algorithm the evidence store names artifacts by. */
  readonly digest?: StoreDigest;
}

const MAX_NAME_LENGTH = 255;
const MAX_REFERENCE_LENGTH = 4096;

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[_.]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_NAME = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*$/;
const IPV6_HOST = /^\[[a-fA-F0-9:]+\]$/;
const PORT = /^[0-9]+$/;
const TAG = /^\w[\w.-]{0,127}$/;
const DIGEST_ALGORITHM = /^[A-Za-z][A-Za-z0-9]*(?:[+._-][A-Za-z][A-Za-z0-9]*)*$/;
const DIGEST_HEX = /^[0-9a-fA-F]{32,}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Parses an image reference by the shared grammar.
 *
 * @throws EvidentError BAD_INPUT with one line naming the reference and what is wrong with it
 */
export function parseImageReference(text: string): ImageReference {
  const fail = (problem: string): never => {
    throw new EvidentError('BAD_INPUT', `image reference '${printable(text)}': ${problem}`);
  };
  if (typeof text !== 'string' || text.length === 0) fail('is empty');
  if (text.length > MAX_REFERENCE_LENGTH) fail(`is longer than ${MAX_REFERENCE_LENGTH} characters`);

  const at = text.indexOf('@');
  const beforeDigest = at === -1 ? text : text.slice(0, at);
  const digest = at === -1 ? undefined : parseDigest(text.slice(at + 1), fail);

  // A tag's colon comes after the last slash; a colon before it belongs to the registry's port.
  const lastSlash = beforeDigest.lastIndexOf('/');
  const colon = beforeDigest.indexOf(':', lastSlash + 1);
  const name = colon === -1 ? beforeDigest : beforeDigest.slice(0, colon);
  const tag = colon === -1 ? undefined : beforeDigest.slice(colon + 1);

  if (tag !== undefined && !TAG.test(tag)) {
    fail(`tag '${printable(tag)}' is not 1 to 128 of letters, digits, '_', '.', '-' (not starting with '.' or '-')`);
  }
  checkName(name, fail);
  return { text, name, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

/** `name@sha256:HEX`: how a registry and a cluster name exactly these bytes. */
export function pinnedName(reference: ImageReference): string | undefined {
  return reference.digest === undefined ? undefined : `${reference.name}@${reference.digest}`;
}

function checkName(name: string, fail: (problem: string) => never): void {
  if (name.length === 0) fail('has no repository name');
  if (name.length > MAX_NAME_LENGTH) fail(`repository name is longer than ${MAX_NAME_LENGTH} characters`);
  const components = name.split('/');
  // The first of several components may be a registry host (with a port); a single component never is.
  const first = components.length > 1 && isDomain(components[0]!) ? 1 : 0;
  for (const component of components.slice(first)) {
    if (component.length === 0) fail('has an empty path component (a doubled or trailing "/")');
    if (!PATH_COMPONENT.test(component)) {
      fail(`path component '${printable(component)}' must be lowercase letters and digits, separated by '.', '_', '__' or dashes`);
    }
  }
}

function isDomain(component: string): boolean {
  const portColon = component.startsWith('[') ? component.indexOf(':', component.indexOf(']')) : component.indexOf(':');
  const host = portColon === -1 ? component : component.slice(0, portColon);
  const port = portColon === -1 ? undefined : component.slice(portColon + 1);
  if (port !== undefined && !PORT.test(port)) return false;
  return DOMAIN_NAME.test(host) || IPV6_HOST.test(host);
}

function parseDigest(digest: string, fail: (problem: string) => never): StoreDigest {
  const colon = digest.indexOf(':');
  const algorithm = colon === -1 ? '' : digest.slice(0, colon);
  const hex = colon === -1 ? '' : digest.slice(colon + 1);
  if (!DIGEST_ALGORITHM.test(algorithm) || !DIGEST_HEX.test(hex)) {
    fail(`digest '${printable(digest)}' is not ALGORITHM:HEX (at least 32 hex digits)`);
  }
  if (algorithm !== 'sha256') {
    fail(
      `digest algorithm '${printable(algorithm)}' does not pin an image for evident: only sha256 digests name artifacts in the evidence store`,
    );
  }
  if (!SHA256_HEX.test(hex)) fail('a sha256 digest is exactly 64 lowercase hex digits');
  return `sha256:${hex}`;
}

/** The text cut short and with control characters escaped, so an error stays one readable line. */
function printable(text: string): string {
  const short = text.length > 120 ? `${text.slice(0, 120)}…` : text;
  return JSON.stringify(short).slice(1, -1);
}
