import { ExtendedKeyUsage, ExtendedKeyUsageExtension, type X509Certificate } from './x509.js';

/** anyExtendedKeyUsage (RFC 5280 §4.2.1.12): the certificate may be used for any purpose. */
const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';

/** The extended key usages known by name (serverAuth, codeSigning, …). */
export type ExtendedKeyUsageName = keyof typeof ExtendedKeyUsage;

/**
 * The first certificate of `path` (leaf first, root last) whose extended key usage does not allow `usage`,
 * or undefined when every one does — Go's `checkChainForKeyUsage` for one requested usage: a certificate
 * without the extension allows any usage, so does one listing anyExtendedKeyUsage; any other must list
 * `usage` itself. The root counts too, as Go's chains include it.
 *
 * @example chainUsageProblem(path, 'serverAuth') // { cert, usages: ['codeSigning'] } for a code-signing leaf
 */
export function chainUsageProblem(
  path: readonly X509Certificate[],
  usage: ExtendedKeyUsageName,
): { cert: X509Certificate; usages: string[] } | undefined {
  const wanted = String(ExtendedKeyUsage[usage]);
  for (const cert of path) {
    const usages = (cert.getExtension(ExtendedKeyUsageExtension)?.usages ?? []).map(String);
    if (usages.length === 0 || usages.includes(ANY_EXTENDED_KEY_USAGE) || usages.includes(wanted)) continue;
    return { cert, usages: usages.map(usageName) };
  }
  return undefined;
}

const NAMES: ReadonlyMap<string, string> = new Map(Object.entries(ExtendedKeyUsage).map(([name, oid]) => [String(oid), name]));

/** `serverAuth` for 1.3.6.1.5.5.7.3.1; an OID without a name as it is. */
function usageName(oid: string): string {
  return NAMES.get(oid) ?? oid;
}
