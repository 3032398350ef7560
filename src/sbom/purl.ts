/** Package URLs (purl-spec): just what evident needs to write OCI purls and to match packages. */
export interface PackageUrl {
  type: string;
  namespace?: string;
  name: string;
  version?: string;
}

/**
 * The purl of an OCI image (purl-spec type `oci`): the last path segment of the repository as the name,
 * the manifest digest as the version (its `:` percent-encoded, as the spec requires), the repository and
 * the tag as qualifiers.
 */
export function ociPurl(imageName: string, manifestDigest: string, tag?: string): string {
  const segments = imageName.split('/');
  const name = (segments[segments.length - 1] as string).toLowerCase();
  const qualifiers: string[] = [];
  if (segments.length > 1) qualifiers.push(`repository_url=${encodeURIComponent(imageName).replaceAll('%2F', '/')}`);
  if (tag !== undefined) qualifiers.push(`tag=${encodeURIComponent(tag)}`);
  return `pkg:oci/${encodeURIComponent(name)}@${encodeURIComponent(manifestDigest)}${qualifiers.length > 0 ? `?${qualifiers.sort().join('&')}` : ''}`;
}

/** Parses `pkg:type/namespace/name@version?qualifiers#subpath`; undefined when it is not a purl. */
export function parsePurl(purl: string): PackageUrl | undefined {
  const m = /^pkg:\/*([a-zA-Z][a-zA-Z0-9.+-]*)\/([^?#]+?)(?:@([^?#@]+))?(?:\?[^#]*)?(?:#.*)?$/.exec(purl);
  if (!m) return undefined;
  const path = (m[2] as string)
    .split('/')
    .filter((s) => s !== '')
    .map((s) => safeDecode(s));
  if (path.length === 0) return undefined;
  const name = path.pop() as string;
  const type = (m[1] as string).toLowerCase();
  return {
    type,
    ...(path.length > 0 ? { namespace: path.join('/') } : {}),
    name,
    ...(m[3] !== undefined ? { version: safeDecode(m[3]) } : {}),
  };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
