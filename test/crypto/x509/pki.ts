// Test PKI for generic X.509 tests: real ECDSA keys and certificates with any names, made with
// @peculiar/x509 (through the module that installs its metadata polyfill first).
import { KeyObject, webcrypto } from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { PrivateKey } from '../../../src/crypto/keys.js';
import { CertificateSigner } from '../../../src/crypto/signer.js';


interface KeyPair {
  publicKey: webcrypto.CryptoKey;
  privateKey: webcrypto.CryptoKey;
}

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

/** A frozen clock: certificates are issued relative to it. */
export const T0 = new Date('2026-03-01T12:00:00Z');
const HOUR = 3600_000;

export interface TestCert {
  readonly cert: x509.X509Certificate;
  readonly keys: KeyPair;
  /** The certificate, PEM. */
  readonly pem: string;
  /** The chain that signs as this certificate: itself, then `carried` (PEM). */
  readonly chainPem: string;
}

export interface CertOptions {
  subject?: string;
  issuer?: TestCert;
  ca?: boolean;
  pathLength?: number;
  uris?: string[];
  dnsNames?: string[];
  emails?: string[];
  notBefore?: Date;
  notAfter?: Date;
  /** Intermediates to carry after the leaf in `chainPem`. */
  carried?: TestCert[];
  /** The key pair to certify (default: a new one), for several certificates of one key. */
  keys?: KeyPair;
  /** Extensions added as given, e.g. one whose value is malformed. */
  extensions?: x509.Extension[];
}

export async function makeCert(o: CertOptions = {}): Promise<TestCert> {
  const keys = o.keys ?? ((await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as KeyPair);
  const subject = o.subject ?? 'CN=test';
  const extensions: x509.Extension[] = [];
  if (o.ca !== undefined) extensions.push(new x509.BasicConstraintsExtension(o.ca, o.pathLength, true));
  extensions.push(
    new x509.KeyUsagesExtension(o.ca ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature : x509.KeyUsageFlags.digitalSignature, true),
  );
  const names = [
    ...(o.uris ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(o.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(o.emails ?? []).map((value) => ({ type: 'email' as const, value })),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  extensions.push(await x509.SubjectKeyIdentifierExtension.create(keys.publicKey));
  if (o.issuer) extensions.push(await x509.AuthorityKeyIdentifierExtension.create(o.issuer.keys.publicKey));
  extensions.push(...(o.extensions ?? []));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex').replace(/^[89a-f]/, '1'),
    subject,
    issuer: o.issuer?.cert.subject ?? subject,
    notBefore: o.notBefore ?? new Date(T0.getTime() - HOUR),
    notAfter: o.notAfter ?? new Date(T0.getTime() + 24 * HOUR),
    publicKey: keys.publicKey,
    signingKey: (o.issuer?.keys ?? keys).privateKey,
    signingAlgorithm: ALG,
    extensions,
  });
  const pem = cert.toString('pem') + '\n';
  return { cert, keys, pem, chainPem: [pem, ...(o.carried ?? []).map((c) => c.pem)].join('') };
}

export const makeRoot = (name: string, o: CertOptions = {}) => makeCert({ subject: `O=${name}, CN=${name} root CA`, ca: true, notAfter: new Date(T0.getTime() + 365 * 24 * HOUR), ...o });
export const makeIntermediate = (issuer: TestCert, name: string, o: CertOptions = {}) =>
  makeCert({ subject: `O=${name}, CN=${name} intermediate CA`, ca: true, issuer, notAfter: new Date(T0.getTime() + 90 * 24 * HOUR), ...o });

/** A metadata signer holding the certificate's key and carrying its chain, as `evident run --spiffe-socket` does. */
export function certSigner(c: TestCert): CertificateSigner {
  return new CertificateSigner(new PrivateKey(KeyObject.from(c.keys.privateKey)), c.chainPem, c.cert.notAfter, () => new Date(c.cert.notBefore.getTime() + 1000));
}

/** The securesystemslib key dict of a CA certificate, with the certificate, as a layout's rootcas entry. */
export function caEntry(c: TestCert): { keyid: string; dict: Record<string, unknown> } {
  const key = new PrivateKey(KeyObject.from(c.keys.privateKey)).publicKey;
  const dict = key.toDict();
  return { keyid: key.keyid, dict: { ...dict, keyval: { ...dict.keyval, certificate: c.pem } } };
}
