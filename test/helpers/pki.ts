/**
 * The one test PKI: real keys (node:crypto KeyObjects) and real certificates made with the library's own
 * issuer (src/spiffe/x509svid/issue.ts), relative to a frozen clock unless a test says `now`.
 *
 * - `makeCert`, `makeRoot`, `makeIntermediate`: any X.509 certificate, with any names, for generic chain and
 *   in-toto certificate tests; `extensions` and `emails` add what the issuer does not make (a malformed
 *   extension, an rfc822Name), written into the signed certificate with the ASN.1 types of src/crypto/x509/x509.ts.
 * - `makeTsaCert`: a time-stamping authority's certificate (critical extKeyUsage timeStamping), for src/time/.
 * - `makeCa`, `makeSvid`: a SPIFFE trust domain's CA (with its bundle) and X509-SVIDs it issues.
 * - `certSigner`, `caEntry`: a certificate as an in-toto metadata signer and as a layout's rootcas entry.
 */
import { execFileSync } from './child-process.js';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CertificateConstraint } from '../../src/intoto/models/types.js';
import { PrivateKey } from '../../src/crypto/keys.js';
import { CertificateSigner } from '../../src/crypto/signer.js';
import { toPem } from '../../src/crypto/x509/pem.js';
import { asn1, AsnConvert, OctetString, X509Certificate } from '../../src/crypto/x509/x509.js';
import { X509Bundle } from '../../src/spiffe/bundle/index.js';
import { SpiffeId, TrustDomain } from '../../src/spiffe/spiffeid/index.js';
import {
  createCaCertificate,
  createCertificate,
  createX509Svid,
  ExtendedKeyUsage,
  KeyUsageFlags,
  X509Svid,
} from '../../src/spiffe/x509svid/index.js';

/** The frozen clock of certificate tests: every certificate is issued relative to it unless `now` is given. */
export const T0 = new Date('2026-03-01T12:00:00Z');
export const HOUR = 3600_000;
const DAY = 24 * HOUR;

export interface KeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

/** A key pair and its public key as DER SubjectPublicKeyInfo (what the agent API and CAs take). */
export interface TestKey extends KeyPair {
  spki: Buffer;
}

export function ecKey(curve: 'P-256' | 'P-384' = 'P-256'): TestKey {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: curve });
  return { publicKey, privateKey, spki: publicKey.export({ format: 'der', type: 'spki' }) };
}

export interface TestCert extends Issuer {
  readonly cert: X509Certificate;
  readonly key: TestKey;
  readonly der: Buffer;
  /** The certificate, PEM. */
  readonly pem: string;
  /** The chain that signs as this certificate: itself, then `carried` (PEM). */
  readonly chainPem: string;
}

/** Who signs a certificate: a TestCert, or any certificate and its key. */
export interface Issuer {
  cert: X509Certificate;
  key: { privateKey: KeyObject };
  /**
   * `cert` without the `extensions` written into it, for issuing: the issuer reads the subject, key
   * identifier and validity of the certificate it signs with, and a malformed extension would stop it.
   */
  plain?: X509Certificate;
}

/** An extension written as given, e.g. one whose value is malformed on purpose. */
export interface RawExtension {
  oid: string;
  critical?: boolean;
  value: Buffer;
}

export interface CertOptions {
  subject?: string;
  /** The signer; absent means self-signed. */
  issuer?: Issuer;
  /** Basic constraints; absent means none (a leaf). */
  ca?: boolean;
  pathLength?: number;
  /** Default: keyCertSign + cRLSign + digitalSignature for a CA, digitalSignature otherwise. */
  keyUsages?: number;
  extKeyUsages?: string[];
  /** Whether the extended key usage extension is critical; default false. */
  extKeyUsageCritical?: boolean;
  uris?: string[];
  dnsNames?: string[];
  emails?: string[];
  /** The base of the default validity (an hour before it to a day after it); default T0. */
  now?: Date;
  notBefore?: Date;
  notAfter?: Date;
  /** Intermediates to carry after the certificate in `chainPem`. */
  carried?: TestCert[];
  /** The key to certify (default: a new P-256 one), for several certificates of one key. */
  key?: TestKey;
  extensions?: RawExtension[];
}

export async function makeCert(o: CertOptions = {}): Promise<TestCert> {
  const key = o.key ?? ecKey();
  const now = o.now ?? T0;
  const signingKey = o.issuer?.key.privateKey ?? key.privateKey;
  // the issuer writes one subjectAltName of URIs and DNS names; with emails the whole one is written here
  const ownSan = (o.emails?.length ?? 0) > 0;
  const plain = await createCertificate({
    subject: o.subject ?? 'CN=test',
    publicKey: key.publicKey,
    ...(o.issuer ? { issuer: { certificate: o.issuer.plain ?? o.issuer.cert, privateKey: signingKey } } : { selfSignKey: signingKey }),
    notBefore: o.notBefore ?? new Date(now.getTime() - HOUR),
    notAfter: o.notAfter ?? new Date(now.getTime() + DAY),
    ...(ownSan ? {} : { uris: o.uris, dnsNames: o.dnsNames }),
    ca: o.ca,
    pathLength: o.pathLength,
    keyUsages:
      o.keyUsages ??
      (o.ca ? KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign | KeyUsageFlags.digitalSignature : KeyUsageFlags.digitalSignature),
    extKeyUsages: o.extKeyUsages,
    extKeyUsageCritical: o.extKeyUsageCritical,
  });
  const extra = [
    ...(ownSan ? [subjectAltName(o.uris ?? [], o.dnsNames ?? [], o.emails ?? [])] : []),
    ...(o.extensions ?? []).map(asnExtension),
  ];
  const cert = extra.length > 0 ? resign(plain, extra, signingKey) : plain;
  const der = Buffer.from(cert.rawData);
  const pem = toPem('CERTIFICATE', der);
  return { cert, plain, key, der, pem, chainPem: [pem, ...(o.carried ?? []).map((c) => c.pem)].join('') };
}

export const makeRoot = (name: string, o: CertOptions = {}): Promise<TestCert> =>
  makeCert({ subject: `O=${name}, CN=${name} root CA`, ca: true, notAfter: new Date((o.now ?? T0).getTime() + 365 * DAY), ...o });

export const makeIntermediate = (issuer: Issuer, name: string, o: CertOptions = {}): Promise<TestCert> =>
  makeCert({
    subject: `O=${name}, CN=${name} intermediate CA`,
    ca: true,
    issuer,
    notAfter: new Date((o.now ?? T0).getTime() + 90 * DAY),
    ...o,
  });

/** A time-stamping authority's certificate (RFC 3161 §2.3): extKeyUsage timeStamping alone, critical; keyUsage digitalSignature. */
export const makeTsaCert = (issuer: Issuer, o: CertOptions = {}): Promise<TestCert> =>
  makeCert({ subject: 'O=evident, CN=test TSA', issuer, extKeyUsages: [ExtendedKeyUsage.timeStamping], extKeyUsageCritical: true, ...o });

function asnExtension(e: RawExtension): asn1.Extension {
  return new asn1.Extension({ extnID: e.oid, critical: e.critical ?? false, extnValue: new OctetString(e.value) });
}

function subjectAltName(uris: string[], dnsNames: string[], emails: string[]): asn1.Extension {
  const names = [
    ...uris.map((uri) => new asn1.GeneralName({ uniformResourceIdentifier: uri })),
    ...dnsNames.map((dns) => new asn1.GeneralName({ dNSName: dns })),
    ...emails.map((email) => new asn1.GeneralName({ rfc822Name: email })),
  ];
  return asnExtension({ oid: asn1.id_ce_subjectAltName, value: Buffer.from(AsnConvert.serialize(new asn1.SubjectAlternativeName(names))) });
}

/** ECDSA signs with the hash of its curve's strength, as the issuer does. */
const CURVE_DIGESTS: Readonly<Record<string, string>> = { prime256v1: 'sha256', secp384r1: 'sha384', secp521r1: 'sha512' };

/** `cert` with `extensions` added to what it says, signed again by the key that signed it. */
function resign(cert: X509Certificate, extensions: asn1.Extension[], signingKey: KeyObject): X509Certificate {
  const c = AsnConvert.parse(cert.rawData, asn1.Certificate);
  c.tbsCertificate.extensions = new asn1.Extensions([...(c.tbsCertificate.extensions ?? []), ...extensions]);
  const digest = CURVE_DIGESTS[signingKey.asymmetricKeyDetails?.namedCurve ?? ''] ?? 'sha256';
  c.signatureValue = new Uint8Array(sign(digest, new Uint8Array(AsnConvert.serialize(c.tbsCertificate)), signingKey)).buffer;
  return new X509Certificate(AsnConvert.serialize(c));
}

/** A SPIFFE trust domain's CA (X509-SVID §4.1): its certificate, key and X.509 bundle. */
export interface TestCa extends TestCert {
  td: TrustDomain;
  bundle: X509Bundle;
}

/** A root CA of trust domain `name`, valid from `now` (minus the issuer's backdating) for 30 days. */
export async function makeCa(name: string, now = T0): Promise<TestCa> {
  const td = TrustDomain.parse(name);
  const key = ecKey();
  const cert = await createCaCertificate({
    trustDomain: td,
    publicKey: key.publicKey,
    privateKey: key.privateKey,
    now,
    ttlSeconds: 30 * 24 * 3600,
  });
  const der = Buffer.from(cert.rawData);
  const pem = toPem('CERTIFICATE', der);
  return { td, cert, key, der, pem, chainPem: pem, bundle: X509Bundle.fromAuthorities(td, [cert]) };
}

/** An X509-SVID of `ca` for `id`: a path in its trust domain (`/ci/builder`) or a whole SPIFFE ID. */
export async function makeSvid(ca: TestCa, id: string, opts: { now?: Date; ttlSeconds?: number; hint?: string } = {}): Promise<X509Svid> {
  const key = ecKey();
  const leaf = await createX509Svid({
    id: SpiffeId.parse(id.startsWith('spiffe://') ? id : `spiffe://${ca.td.name}${id}`),
    publicKey: key.publicKey,
    issuer: { certificate: ca.cert, privateKey: ca.key.privateKey },
    now: opts.now ?? T0,
    ttlSeconds: opts.ttlSeconds ?? 3600,
  });
  return X509Svid.fromParts([leaf], key.privateKey, { hint: opts.hint });
}

/** A metadata signer holding the certificate's key and carrying its chain, as `evident run --spiffe-socket` does. */
export function certSigner(c: TestCert): CertificateSigner {
  return new CertificateSigner(
    new PrivateKey(c.key.privateKey),
    c.chainPem,
    c.cert.notAfter,
    () => new Date(c.cert.notBefore.getTime() + 1000),
  );
}

/** The securesystemslib key dict of a CA certificate, with the certificate, as a layout's rootcas entry. */
export function caEntry(c: TestCert): { keyid: string; dict: Record<string, unknown> } {
  const key = new PrivateKey(c.key.privateKey).publicKey;
  const dict = key.toDict();
  return { keyid: key.keyid, dict: { ...dict, keyval: { ...dict.keyval, certificate: c.pem } } };
}

/** A step's certificate constraint accepting any certificate of `roots` (default: any root) whose URI SAN is `uri`. */
export function uriConstraint(uri: string, roots: string[] = ['*']): CertificateConstraint {
  return { common_name: '*', dns_names: ['*'], emails: ['*'], organizations: ['*'], roots, uris: [uri] };
}

/**
 * A CA certificate made by a tool no one here wrote (`openssl req -x509`, P-256, UTF8String names):
 * `DIR/NAME-ca.pem` and its key `DIR/NAME-ca.key`.
 */
export function openSslCa(
  dir: string,
  options: { name?: string; subject?: string; extensions?: string[] } = {},
): { pem: string; keyPath: string } {
  const name = options.name ?? 'corp';
  const keyPath = join(dir, `${name}-ca.key`);
  const pemPath = join(dir, `${name}-ca.pem`);
  const extensions = options.extensions ?? ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign'];
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2'];
  args.push(
    '-subj',
    options.subject ?? `/CN=${name} root`,
    '-keyout',
    keyPath,
    '-out',
    pemPath,
    ...extensions.flatMap((e) => ['-addext', e]),
  );
  execFileSync('openssl', args, { stdio: 'ignore' });
  return { pem: readFileSync(pemPath, 'utf8'), keyPath };
}
