/**
 * The one place @peculiar/x509 (and the ASN.1 schema it is built on) is imported: every other module
 * takes certificate classes from here.
 *
 * Importing this module sets no crypto provider. @peculiar/x509 finds Node's WebCrypto on `globalThis`
 * by itself (Node ≥ 20), and the calls here that compute with a key (key identifiers, CSR signatures)
 * are handed `X509_CRYPTO` explicitly, so nothing depends on, or changes, the library's process-global
 * `cryptoProvider`. The only global touched is the reflect-metadata polyfill @peculiar/x509 requires.
 */
// The polyfill first: ESM evaluates imports in order, and @peculiar/x509 checks for it on load.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import type { cryptoProvider } from '@peculiar/x509';

export {
  AlgorithmProvider,
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  ExtensionFactory,
  KeyUsageFlags,
  KeyUsagesExtension,
  Name,
  Pkcs10CertificateRequest,
  Pkcs10CertificateRequestGenerator,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509Certificate,
} from '@peculiar/x509';
export type { Extension } from '@peculiar/x509';
export { AsnConvert, OctetString } from '@peculiar/asn1-schema';
/** The ASN.1 types of RFC 5280 (Certificate, TBSCertificate, Name, …), as @peculiar/x509 builds them. */
export * as asn1 from '@peculiar/asn1-x509';

/** Node's WebCrypto, in the type @peculiar/x509 takes it, for the calls given a crypto explicitly. */
export const X509_CRYPTO = webcrypto as unknown as Parameters<typeof cryptoProvider.set>[0];
