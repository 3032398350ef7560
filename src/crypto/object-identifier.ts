import * as asn1js from 'asn1js';

/**
 * An OBJECT IDENTIFIER in DER, encoded by the ASN.1 library: once, for the constants hand-written DER
 * (der.ts) puts again and again into tokens and certificates. Apart from der.ts so that what only writes
 * tags and lengths (OpenPGP's DSA keys, crypto/gpg/) does not load the library.
 */
export function objectIdentifier(dotted: string): Buffer {
  return Buffer.from(new asn1js.ObjectIdentifier({ value: dotted }).toBER(false));
}
