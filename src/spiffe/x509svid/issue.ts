import { createHash, KeyObject, sign } from 'node:crypto';
import { randomOctets } from '../../crypto/random-pool.js';
import { canonicalSpki } from '../../crypto/spki.js';
import { bitString, certificateTime, context, integer, octetString, sequence, smallInteger, tlv } from '../../crypto/der.js';
import { objectIdentifier } from '../../crypto/object-identifier.js';
import {
  AlgorithmProvider,
  asn1,
  AsnConvert,
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  type Extension,
  KeyUsageFlags,
  KeyUsagesExtension,
  Name,
  SubjectKeyIdentifierExtension,
  X509Certificate,
} from '../../crypto/x509/x509.js';
import type { SpiffeId } from '../spiffeid/spiffe-id.js';
import type { TrustDomain } from '../spiffeid/trust-domain.js';
import { spkiDer, toKeyObject, type AnyKey } from '../internal/keys.js';
import { X509SvidError } from './errors.js';
import { namedCurveOf } from '../../crypto/ec-curve.js';

export type { AnyKey } from '../internal/keys.js';
export { KeyUsageFlags, ExtendedKeyUsage } from '../../crypto/x509/x509.js';

/**
 * The one place certificates are made: roots, intermediates and X509-SVID leaves, for tests, for
 * `createCaCertificate`/`createX509Svid` users and for the identity server's CA.
 *
 * The certificate is the @peculiar/asn1-x509 `Certificate` that @peculiar/x509's X509CertificateGenerator
 * fills in, with extensions and names from @peculiar/x509's builders; what is not taken from the
 * generator is its per-certificate overhead. The generator re-parses every extension and name it is
 * given, serializes the TBS twice and parses its own output again (about twice the CPU per leaf,
 * measured), which a CA issuing thousands of SVIDs a second cannot afford. Here what an issuer's
 * certificates share (its name, its key identifier, the signature algorithm, the constant extensions) is
 * decoded once, and each certificate is signed with node:crypto directly.
 */

/** Who signs a certificate: the issuing CA's certificate and private key. */
export interface CertificateIssuer {
  certificate: X509Certificate;
  /** A `KeyObject` (node:crypto) or a WebCrypto `CryptoKey`: EC P-256/P-384/P-521, RSA or Ed25519. */
  privateKey: AnyKey;
}

/** What is certified: a key, or the DER SubjectPublicKeyInfo of one (as a CSR or an API request carries it). */
export type CertifiedKey = AnyKey | Uint8Array;

/** Every field of a certificate but its issuer. */
export interface CertificateFields {
  /** Distinguished name, e.g. `O=evident, CN=ci`. */
  subject: string;
  /** The certified key (the public half is taken if a private key is given). */
  publicKey: CertifiedKey;
  notBefore: Date;
  notAfter: Date;
  /** Hex serial; random 128-bit positive by default. */
  serialNumber?: string;
  uris?: readonly string[];
  dnsNames?: readonly string[];
  /** Basic constraints (critical); absent means no basicConstraints extension. */
  ca?: boolean;
  pathLength?: number;
  /** Key usage bits (critical), from `KeyUsageFlags`; absent means no keyUsage extension. */
  keyUsages?: number;
  /** Extended key usage OIDs, from `ExtendedKeyUsage`. */
  extKeyUsages?: readonly string[];
  /** Whether the extended key usage extension is critical (a time-stamping authority's must be, RFC 3161 §2.3); default false. */
  extKeyUsageCritical?: boolean;
  /** Whether the certificate names its own key (subjectKeyIdentifier); default true. */
  subjectKeyIdentifier?: boolean;
  /** Whether it names the key that signed it (authorityKeyIdentifier); default true. */
  authorityKeyIdentifier?: boolean;
}

/**
 * Every knob of a certificate, for the two helpers below and for tests that must build broken
 * certificates on purpose (two URI SANs, a CA leaf, …). Prefer `createCaCertificate`/`createX509Svid`.
 */
export interface CertificateParams extends CertificateFields {
  /** The signer; absent means self-signed with `selfSignKey`. */
  issuer?: CertificateIssuer;
  /** The private key of `publicKey`, for self-signed certificates. */
  selfSignKey?: AnyKey;
}

/** A certificate just signed: its DER and its serial number (hex, as `X509Certificate.serialNumber` reads it). */
export interface IssuedCertificate {
  der: Buffer;
  serialNumber: string;
}

/** Builds and signs one certificate. Keys may be KeyObjects or CryptoKeys. */
export async function createCertificate(p: CertificateParams): Promise<X509Certificate> {
  let issuer: PreparedIssuer;
  if (p.issuer !== undefined) issuer = PreparedIssuer.of(p.issuer);
  else if (p.selfSignKey !== undefined) issuer = PreparedIssuer.selfSigned(p.subject, p.selfSignKey);
  else throw new X509SvidError('BAD_KEY', 'an issuer or a self-signing key is required');
  return new X509Certificate(issuer.sign(p).der);
}

/**
 * An issuer (its certificate and key) prepared once to sign many certificates: its subject as the
 * issuer name, its key identifier and the signature algorithm of its key are worked out here, not for
 * each certificate. A CA keeps one per CA key.
 *
 * @example
 * const issuer = PreparedIssuer.of({ certificate: ca, privateKey: caKey });
 * const { der, serialNumber } = issuer.issueX509Svid({ id, publicKey: spki, notAfter });
 */
export class PreparedIssuer {
  private akid: Buffer | undefined;
  /** The signature algorithm's AlgorithmIdentifier, as DER. */
  private readonly algorithmDer: Buffer;

  private constructor(
    /** The issuer's subject as encoded in its certificate (Go matches the bytes), as DER. */
    private readonly issuerNameDer: Buffer,
    /** The issuer's key identifier, or undefined for a self-signed certificate (it is the certificate's own). */
    private readonly issuerKeyId: ArrayBuffer | undefined,
    private readonly scheme: SignatureScheme,
    /** The issuer's validity, which default validities of what it signs stay within. */
    readonly validity: { notBefore: Date; notAfter: Date } | undefined,
  ) {
    this.algorithmDer = Buffer.from(AsnConvert.serialize(scheme.algorithm));
  }

  /** The issuer prepared for `issuer`; the last one prepared for a certificate is kept and reused with the same key. */
  static of(issuer: CertificateIssuer): PreparedIssuer {
    const cached = prepared.get(issuer.certificate);
    if (cached?.privateKey === issuer.privateKey) return cached.issuer;
    const made = PreparedIssuer.prepare(issuer);
    prepared.set(issuer.certificate, { privateKey: issuer.privateKey, issuer: made });
    return made;
  }

  private static prepare(issuer: CertificateIssuer): PreparedIssuer {
    const cert = issuer.certificate;
    const name = Buffer.from(AsnConvert.serialize(AsnConvert.parse(cert.rawData, asn1.Certificate).tbsCertificate.subject));
    // its own subject key ID when it has one (so the two always match), else one from its key
    const keyId = cert.getExtension(SubjectKeyIdentifierExtension)?.keyId;
    const id = keyId !== undefined ? hexBytes(keyId) : keyIdentifier(cert.publicKey.rawData);
    return new PreparedIssuer(name, id, signatureScheme(issuer.privateKey), { notBefore: cert.notBefore, notAfter: cert.notAfter });
  }

  /** For the one certificate of `subject` that `key` signs itself (its key identifier is the certificate's own). */
  static selfSigned(subject: string, key: AnyKey): PreparedIssuer {
    return new PreparedIssuer(nameOf(subject), undefined, signatureScheme(key), undefined);
  }

  /**
   * Signs a certificate with these fields. The TBSCertificate is put together from DER pieces (crypto/der.ts):
   * those every certificate of this issuer shares were encoded once by the ASN.1 library, the rest are
   * written here; test/spiffe/x509svid/issue-der.test.ts checks the library re-encodes the result byte for byte.
   */
  sign(f: CertificateFields): IssuedCertificate {
    const spki = subjectPublicKeyInfo(f.publicKey);
    const serial = positiveInteger(f.serialNumber ?? randomSerial());
    const extensions = this.extensions(f, spki);
    const tbs = sequence(
      VERSION_3,
      integer(serial),
      this.algorithmDer,
      this.issuerNameDer,
      sequence(certificateTime(f.notBefore), certificateTime(f.notAfter)),
      nameOf(f.subject),
      spki,
      ...(extensions.length > 0 ? [context(3, sequence(...extensions))] : []),
    );
    const signature = sign(this.scheme.digest, tbs, this.scheme.key);
    const der = sequence(tbs, this.algorithmDer, bitString(signature));
    return { der, serialNumber: serial.toString('hex').replace(/^00(?=[89a-f])/, '') };
  }

  /** An X509-SVID leaf as `createX509Svid` describes it, as DER: the hot path of a CA. */
  issueX509Svid(o: X509SvidTemplate): IssuedCertificate {
    return this.sign(x509SvidFields(o, this.validity));
  }

  /** In the order X509CertificateGenerator users wrote them: BC, KU, EKU, SAN, SKI, AKID; each as DER. */
  private extensions(f: CertificateFields, spki: Buffer): Buffer[] {
    const out: Buffer[] = [];
    if (f.ca !== undefined)
      out.push(constantExtension(`bc:${f.ca}:${f.pathLength}`, () => new BasicConstraintsExtension(f.ca === true, f.pathLength, true)));
    if (f.keyUsages !== undefined) out.push(constantExtension(`ku:${f.keyUsages}`, () => new KeyUsagesExtension(f.keyUsages!, true)));
    if (f.extKeyUsages !== undefined) {
      const usages = [...f.extKeyUsages];
      const critical = f.extKeyUsageCritical === true;
      out.push(constantExtension(`eku:${critical}:${usages.join()}`, () => new ExtendedKeyUsageExtension(usages, critical)));
    }
    if ((f.uris?.length ?? 0) + (f.dnsNames?.length ?? 0) > 0) out.push(subjectAltName(f.uris ?? [], f.dnsNames ?? []));
    const ownKeyId = f.subjectKeyIdentifier !== false || this.issuerKeyId === undefined ? keyIdentifier(spki) : undefined;
    if (f.subjectKeyIdentifier !== false)
      out.push(extensionDer(new SubjectKeyIdentifierExtension(Buffer.from(ownKeyId!).toString('hex'), false)));
    if (f.authorityKeyIdentifier !== false) out.push(this.authorityKeyIdentifier(ownKeyId));
    return out;
  }

  private authorityKeyIdentifier(ownKeyId: ArrayBuffer | undefined): Buffer {
    if (this.issuerKeyId === undefined)
      return extensionDer(new AuthorityKeyIdentifierExtension(Buffer.from(ownKeyId!).toString('hex'), false));
    this.akid ??= extensionDer(new AuthorityKeyIdentifierExtension(Buffer.from(this.issuerKeyId).toString('hex'), false));
    return this.akid;
  }
}

/** TBSCertificate.version: [0] EXPLICIT INTEGER 2 (v3). */
const VERSION_3 = context(0, smallInteger(2));

const prepared = new WeakMap<X509Certificate, { privateKey: AnyKey; issuer: PreparedIssuer }>();

/** How certificates are signed with one key: node:crypto's key and digest, and the AlgorithmIdentifier naming them. */
interface SignatureScheme {
  key: KeyObject;
  /** For node:crypto's `sign` (null for Ed25519, which hashes by itself). */
  digest: string | null;
  algorithm: asn1.AlgorithmIdentifier;
}

/** ECDSA signs with the hash that matches its curve's strength. */
const CURVE_HASHES: Readonly<Record<string, string>> = { prime256v1: 'SHA-256', secp384r1: 'SHA-384', secp521r1: 'SHA-512' };

/** The signature algorithm of a key: ECDSA with its curve's hash, RSA PKCS#1 v1.5 with SHA-256, or Ed25519. */
function signatureScheme(privateKey: AnyKey): SignatureScheme {
  const key = toKeyObject(privateKey);
  if (key.type !== 'private') throw new X509SvidError('BAD_KEY', 'a private key is needed to sign');
  let web: { name: string; hash?: string };
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = namedCurveOf(key);
      const hash = CURVE_HASHES[curve ?? ''];
      if (hash === undefined) throw new X509SvidError('BAD_KEY', `unsupported curve ${curve ?? '(not a named curve)'}`);
      web = { name: 'ECDSA', hash };
      break;
    }
    case 'rsa':
      web = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
      break;
    case 'ed25519':
      web = { name: 'Ed25519' };
      break;
    default:
      throw new X509SvidError('BAD_KEY', `unsupported key type ${key.asymmetricKeyType ?? '?'}`);
  }
  // node:crypto writes ECDSA signatures DER-encoded by default: the form X.509 carries them in
  return {
    key,
    digest: web.hash === undefined ? null : web.hash.replace('-', '').toLowerCase(),
    algorithm: new AlgorithmProvider().toAsnAlgorithm(web),
  };
}

/**
 * The certified key's SubjectPublicKeyInfo as DER. Given as DER (an API request's), it is read by
 * node:crypto and written again: what goes into a certificate is canonical DER of a key that parses,
 * whatever encoding was sent.
 */
function subjectPublicKeyInfo(key: CertifiedKey): Buffer {
  if (!(key instanceof Uint8Array)) return spkiDer(toKeyObject(key));
  try {
    return canonicalSpki(key);
  } catch (e) {
    throw new X509SvidError('BAD_KEY', `not a DER SubjectPublicKeyInfo: ${(e as Error).message}`);
  }
}

/** RFC 5280 §4.2.1.2 method 1, as @peculiar/x509 computes it: SHA-1 of the subjectPublicKey bits. */
function keyIdentifier(spki: ArrayBuffer | Uint8Array): ArrayBuffer {
  const info = AsnConvert.parse(spki, asn1.SubjectPublicKeyInfo);
  return arrayBuffer(createHash('sha1').update(new Uint8Array(info.subjectPublicKey)).digest());
}

/** Extensions every certificate of a kind shares (basic constraints, key usages) are encoded once. */
const constants = new Map<string, Buffer>();

function constantExtension(key: string, make: () => Extension): Buffer {
  let ext = constants.get(key);
  if (ext === undefined) {
    ext = extensionDer(make());
    constants.set(key, ext);
  }
  return ext;
}

function extensionDer(ext: Extension): Buffer {
  return Buffer.from(ext.rawData);
}

/** id-ce-subjectAltName (2.5.29.17). */
const SUBJECT_ALT_NAME = objectIdentifier('2.5.29.17');

/**
 * The subjectAltName extension (URIs first, then DNS names), non-critical: the one extension that differs
 * in every leaf, written here (GeneralName [6] uniformResourceIdentifier and [2] dNSName, IA5String).
 */
function subjectAltName(uris: readonly string[], dnsNames: readonly string[]): Buffer {
  const names = [...uris.map((uri) => ia5(0x86, uri, 'URI')), ...dnsNames.map((dns) => ia5(0x82, dns, 'DNS name'))];
  return sequence(SUBJECT_ALT_NAME, octetString(sequence(...names)));
}

/** An IA5String under an IMPLICIT tag: printable ASCII only (IA5 allows control characters too; a name has none). */
function ia5(tag: number, text: string, what: string): Buffer {
  if (/[^\x20-\x7e]/.test(text))
    throw new X509SvidError('BAD_CERTIFICATE', `the ${what} '${text.slice(0, 80)}' is not printable ASCII (IA5String)`);
  return tlv(tag, Buffer.from(text, 'latin1'));
}

/** Subject names met before (a CA issues the same few again and again), encoded once; bounded. */
const names = new Map<string, Buffer>();

function nameOf(dn: string): Buffer {
  let name = names.get(dn);
  if (name === undefined) {
    name = Buffer.from(new Name(dn).toArrayBuffer());
    if (names.size >= 1000) names.clear();
    names.set(dn, name);
  }
  return name;
}

/** A positive, random 128-bit serial number (hex), as RFC 5280 asks; its top byte is never 0, so it is always 16 bytes. */
export function randomSerial(): string {
  const b = randomOctets(16);
  b[0] = ((b[0] ?? 0) & 0x7f) | 0x01;
  return b.toString('hex');
}

/**
 * The octets of a hex serial as a positive DER INTEGER, as X509CertificateGenerator makes them: no
 * redundant leading zeros, a zero before a high bit; a random serial for an empty or zero one.
 */
function positiveInteger(hex: string): Buffer {
  let b = Buffer.from(hex, 'hex');
  if (!b.some((x) => x !== 0)) b = Buffer.from(randomSerial(), 'hex');
  let start = 0;
  while (start < b.length - 1 && b[start] === 0) start++;
  b = b.subarray(start);
  return (b[0] ?? 0) > 0x7f ? Buffer.concat([Buffer.from([0]), b]) : b;
}

function hexBytes(hex: string): ArrayBuffer {
  return arrayBuffer(Buffer.from(hex, 'hex'));
}

function arrayBuffer(b: Uint8Array): ArrayBuffer {
  return new Uint8Array(b).buffer;
}

export interface CaCertificateOptions {
  trustDomain: TrustDomain;
  publicKey: AnyKey;
  /** Signs an intermediate CA; absent makes a self-signed root with `privateKey`. */
  issuer?: CertificateIssuer;
  /** The CA's own private key, required for a self-signed root. */
  privateKey?: AnyKey;
  subject?: string;
  /** Defaults: now minus 10 s (never before the issuer's notBefore), and `ttlSeconds` (default one year) later, capped at the issuer's notAfter. */
  now?: Date;
  ttlSeconds?: number;
  notBefore?: Date;
  notAfter?: Date;
  pathLength?: number;
}

/**
 * A CA certificate of a trust domain (X509-SVID §4.1/§4.3): basicConstraints cA=true, keyUsage
 * keyCertSign + cRLSign (critical), URI SAN `spiffe://<td>`. Self-signed root or intermediate.
 *
 * @example
 * const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
 * const root = await createCaCertificate({ trustDomain: TrustDomain.parse('example.org'), publicKey, privateKey });
 */
export async function createCaCertificate(o: CaCertificateOptions): Promise<X509Certificate> {
  const { notBefore, notAfter } = validity(o, 365 * 24 * 3600, o.issuer?.certificate);
  return createCertificate({
    subject: o.subject ?? `O=evident, CN=${o.trustDomain.name} ${o.issuer ? 'intermediate' : 'root'} CA`,
    publicKey: o.publicKey,
    issuer: o.issuer,
    selfSignKey: o.privateKey,
    notBefore,
    notAfter,
    uris: [o.trustDomain.idString()],
    ca: true,
    pathLength: o.pathLength,
    keyUsages: KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign | KeyUsageFlags.digitalSignature,
  });
}

/** An X509-SVID to issue, whoever signs it. */
export interface X509SvidTemplate {
  id: SpiffeId;
  publicKey: CertifiedKey;
  subject?: string;
  dnsNames?: readonly string[];
  /** Defaults: now minus 10 s (never before the issuer's notBefore), and `ttlSeconds` (default 3600) later, capped at the issuer's notAfter. */
  now?: Date;
  ttlSeconds?: number;
  notBefore?: Date;
  notAfter?: Date;
  serialNumber?: string;
  /**
   * Key usage bits (critical): digitalSignature + keyEncipherment + keyAgreement by default, as
   * go-spiffe's test CA issues them; the X509-SVID standard requires digitalSignature only.
   */
  keyUsages?: number;
  /** Whether the leaf names its own key (subjectKeyIdentifier); default true. */
  subjectKeyIdentifier?: boolean;
}

export interface X509SvidOptions extends X509SvidTemplate {
  issuer: CertificateIssuer;
}

/**
 * An X509-SVID leaf (X509-SVID §4–§5, docs/ARCHITECTURE.md): exactly one URI SAN (the ID), cA=false,
 * keyUsage digitalSignature (+ keyEncipherment + keyAgreement by default) critical, EKU serverAuth +
 * clientAuth, notBefore slightly in the past but never before the issuer's, notAfter never beyond the issuer's.
 *
 * @example
 * const leaf = await createX509Svid({ id, publicKey: workloadKey.publicKey, issuer: { certificate: ca, privateKey: caKey } });
 */
export async function createX509Svid(o: X509SvidOptions): Promise<X509Certificate> {
  return new X509Certificate(PreparedIssuer.of(o.issuer).issueX509Svid(o).der);
}

function x509SvidFields(o: X509SvidTemplate, issuer: { notBefore: Date; notAfter: Date } | undefined): CertificateFields {
  const { notBefore, notAfter } = validity(o, 3600, issuer);
  return {
    subject: o.subject ?? 'O=SPIFFE',
    publicKey: o.publicKey,
    notBefore,
    notAfter,
    serialNumber: o.serialNumber,
    uris: [o.id.toString()],
    dnsNames: o.dnsNames,
    ca: false,
    keyUsages: o.keyUsages ?? KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment | KeyUsageFlags.keyAgreement,
    extKeyUsages: [ExtendedKeyUsage.serverAuth, ExtendedKeyUsage.clientAuth],
    subjectKeyIdentifier: o.subjectKeyIdentifier,
  };
}

/** Backdating absorbs clock skew between the issuer and relying parties. */
export const BACKDATE_MS = 10_000;

function validity(
  o: { now?: Date; ttlSeconds?: number; notBefore?: Date; notAfter?: Date },
  defaultTtl: number,
  issuer: { notBefore: Date; notAfter: Date } | undefined,
): { notBefore: Date; notAfter: Date } {
  const now = o.now ?? new Date();
  let notBefore = o.notBefore ?? new Date(now.getTime() - BACKDATE_MS);
  if (o.notBefore === undefined && issuer !== undefined && notBefore < issuer.notBefore) notBefore = issuer.notBefore;
  let notAfter = o.notAfter ?? new Date(now.getTime() + (o.ttlSeconds ?? defaultTtl) * 1000);
  if (o.notAfter === undefined && issuer !== undefined && notAfter > issuer.notAfter) notAfter = issuer.notAfter;
  return { notBefore, notAfter };
}
