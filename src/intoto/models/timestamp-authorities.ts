import type { X509Certificate } from 'node:crypto';

/** id-kp-timeStamping (RFC 5280 §4.2.1.12) and anyExtendedKeyUsage. */
const TIME_STAMPING = '1.3.6.1.5.5.7.3.8';
const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';

/**
 * Why `cert` cannot be a layout's time-stamping anchor (`timestampauthorities`), or undefined when it
 * can: it must be a CA (a TSA's own certificate is a leaf: the layout trusts whoever issues it, so a
 * renewed TSA certificate keeps working), and an extended key usage on it, when it has one, must allow
 * timeStamping (or any usage), since a CA restricted to other purposes issues no TSA certificate a
 * verifier would accept. Checked with node:crypto, as the layout's other certificates are when parsed.
 */
export function timestampAuthorityProblem(cert: X509Certificate): string | undefined {
  const usages = cert.keyUsage;
  if (!cert.ca) {
    return usages?.includes(TIME_STAMPING)
      ? "is a TSA's own certificate, not a CA certificate: give the CA that issues it (the root of the TSA's chain)"
      : 'is not a CA certificate';
  }
  if (usages !== undefined && !usages.includes(TIME_STAMPING) && !usages.includes(ANY_EXTENDED_KEY_USAGE)) {
    return `is a CA restricted to other extended key usages (${usages.join(', ')}), which cannot issue a TSA's certificate`;
  }
  return undefined;
}
