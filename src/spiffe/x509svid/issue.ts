import { randomBytes } from 'node:crypto';
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  type Extension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509CertificateGenerator,
  type X509Certificate,
} from '../internal/x509.js';
import type { SpiffeId } from '../spiffeid/spiffe-id.js';
import type { TrustDomain } from '../spiffeid/trust-domain.js';
import { spkiDer, toKeyObject, toSigningCryptoKey, type AnyKey } from '../internal/keys.js';
import { X509SvidError } from './errors.js';

export type { AnyKey } from '../internal/keys.js';
export { KeyUsageFlags, ExtendedKeyUsage } from '../internal/x509.js';

/** Who signs a certificate: the issuing CA's certificate and private key. */
export interface CertificateIssuer {
  certificate: X509Certificate;
  /** A `KeyObject` (node:crypto) or a WebCrypto `CryptoKey`: EC P-256/P-384/P-521, RSA or Ed25519. */
  privateKey: AnyKey;
}

/**
 * Every knob of a certificate, for the two helpers below and for tests that must build broken
 * certificates on purpose (two URI SANs, a CA leaf, …). Prefer `createCaCertificate`/`createX509Svid`.
 */
export interface CertificateParams {
  /** Distinguished name, e.g. `O=evident, CN=ci`. */
  subject: string;
  /** The certified key (the public half is taken if a private key is given). */
  publicKey: AnyKey;
  /** The signer; absent means self-signed with `selfSignKey`. */
  issuer?: CertificateIssuer;
  /** The private key of `publicKey`, for self-signed certificates. */
  selfSignKey?: AnyKey;
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
}

/** Builds and signs one certificate. Keys may be KeyObjects or CryptoKeys. */
export async function createCertificate(p: CertificateParams): Promise<X509Certificate> {
  const signerKey = p.issuer?.privateKey ?? p.selfSignKey;
  if (signerKey === undefined) throw new X509SvidError('BAD_KEY', 'an issuer or a self-signing key is required');
  const { key: signingKey, signAlg } = await toSigningCryptoKey(signerKey);
  const spki = spkiDer(toKeyObject(p.publicKey));
  const extensions: Extension[] = [];
  if (p.ca !== undefined) extensions.push(new BasicConstraintsExtension(p.ca, p.pathLength, true));
  if (p.keyUsages !== undefined) extensions.push(new KeyUsagesExtension(p.keyUsages, true));
  if (p.extKeyUsages !== undefined) extensions.push(new ExtendedKeyUsageExtension([...p.extKeyUsages], false));
  const names = [...(p.uris ?? []).map((value) => ({ type: 'url' as const, value })), ...(p.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value }))];
  if (names.length > 0) extensions.push(new SubjectAlternativeNameExtension(names, false));
  extensions.push(await SubjectKeyIdentifierExtension.create(spki));
  extensions.push(await authorityKeyId(p.issuer?.certificate, spki));
  return X509CertificateGenerator.create({
    serialNumber: p.serialNumber ?? randomSerial(),
    subject: p.subject,
    issuer: p.issuer?.certificate.subject ?? p.subject,
    notBefore: p.notBefore,
    notAfter: p.notAfter,
    publicKey: spki,
    signingKey,
    signingAlgorithm: signAlg,
    extensions,
  });
}

/** The issuer's own subject key ID when it has one (so the two always match), else one from its key. */
async function authorityKeyId(issuer: X509Certificate | undefined, ownSpki: Buffer): Promise<AuthorityKeyIdentifierExtension> {
  const ski = issuer?.getExtension(SubjectKeyIdentifierExtension);
  if (ski) return new AuthorityKeyIdentifierExtension(ski.keyId, false);
  return AuthorityKeyIdentifierExtension.create(issuer ? Buffer.from(issuer.publicKey.rawData) : ownSpki);
}

function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0] ?? 0) & 0x7f; // a positive INTEGER without a leading zero byte needed
  return b.toString('hex');
}

export interface CaCertificateOptions {
  trustDomain: TrustDomain;
  publicKey: AnyKey;
  /** Signs an intermediate CA; absent makes a self-signed root with `privateKey`. */
  issuer?: CertificateIssuer;
  /** The CA's own private key, required for a self-signed root. */
  privateKey?: AnyKey;
  subject?: string;
  /** Defaults: now minus 10 s, and `ttlSeconds` (default one year) later, capped at the issuer's notAfter. */
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
  const { notBefore, notAfter } = validity(o, 365 * 24 * 3600);
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

export interface X509SvidOptions {
  id: SpiffeId;
  publicKey: AnyKey;
  issuer: CertificateIssuer;
  subject?: string;
  dnsNames?: readonly string[];
  /** Defaults: now minus 10 s, and `ttlSeconds` (default 3600) later, capped at the issuer's notAfter. */
  now?: Date;
  ttlSeconds?: number;
  notBefore?: Date;
  notAfter?: Date;
}

/**
 * An X509-SVID leaf (X509-SVID §4–§5, DESIGN.md §3): exactly one URI SAN (the ID), cA=false,
 * keyUsage digitalSignature + keyEncipherment + keyAgreement (critical), EKU serverAuth + clientAuth,
 * notBefore slightly in the past, notAfter never beyond the issuer's.
 *
 * @example
 * const leaf = await createX509Svid({ id, publicKey: workloadKey.publicKey, issuer: { certificate: ca, privateKey: caKey } });
 */
export async function createX509Svid(o: X509SvidOptions): Promise<X509Certificate> {
  const { notBefore, notAfter } = validity(o, 3600);
  return createCertificate({
    subject: o.subject ?? 'O=SPIFFE',
    publicKey: o.publicKey,
    issuer: o.issuer,
    notBefore,
    notAfter,
    uris: [o.id.toString()],
    dnsNames: o.dnsNames,
    ca: false,
    keyUsages: KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment | KeyUsageFlags.keyAgreement,
    extKeyUsages: [ExtendedKeyUsage.serverAuth, ExtendedKeyUsage.clientAuth],
  });
}

/** Backdating absorbs clock skew between the issuer and relying parties. */
const BACKDATE_MS = 10_000;

function validity(
  o: { now?: Date; ttlSeconds?: number; notBefore?: Date; notAfter?: Date; issuer?: CertificateIssuer },
  defaultTtl: number,
): { notBefore: Date; notAfter: Date } {
  const now = o.now ?? new Date();
  const notBefore = o.notBefore ?? new Date(now.getTime() - BACKDATE_MS);
  let notAfter = o.notAfter ?? new Date(now.getTime() + (o.ttlSeconds ?? defaultTtl) * 1000);
  const cap = o.issuer?.certificate.notAfter;
  if (o.notAfter === undefined && cap !== undefined && notAfter > cap) notAfter = cap;
  return { notBefore, notAfter };
}
