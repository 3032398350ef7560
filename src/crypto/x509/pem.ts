import { X509ChainError } from './errors.js';
import { openssl } from './openssl.js';
import { asn1, AsnConvert, ExtensionFactory, X509Certificate } from './x509.js';

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

/**
 * The certificates of a PEM text, in order (a signature's `cert`: the leaf, then its intermediates).
 * Text outside the blocks is ignored, as OpenSSL and Go do. Each is read whole here (see readWhole).
 *
 * @example const [leaf, ...intermediates] = parseCertificatesPem(signature.cert);
 * @throws X509ChainError BAD_CERTIFICATE when there is no certificate or one cannot be parsed
 */
export function parseCertificatesPem(text: string): X509Certificate[] {
  const blocks = [...text.matchAll(CERTIFICATE_BLOCK)];
  if (blocks.length === 0) throw new X509ChainError('BAD_CERTIFICATE', 'holds no PEM certificate');
  return blocks.map((m, i) => {
    try {
      return readWhole(new X509Certificate(Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64')));
    } catch (e) {
      throw new X509ChainError('BAD_CERTIFICATE', `certificate #${i + 1} cannot be parsed (${(e as Error).message})`, { cause: e });
    }
  });
}

/**
 * One DER certificate, read whole as the PEM ones are (a certificate an agent presents, a stored CA).
 *
 * @throws X509ChainError BAD_CERTIFICATE when it cannot be parsed
 */
export function parseCertificateDer(der: Uint8Array): X509Certificate {
  try {
    return readWhole(new X509Certificate(der));
  } catch (e) {
    throw new X509ChainError('BAD_CERTIFICATE', `certificate cannot be parsed (${(e as Error).message})`, { cause: e });
  }
}

/**
 * @peculiar/x509 decodes a certificate's names, dates, key and extensions only when first asked for
 * them, and throws then: a malformed extension would surface as an exception from deep inside a check
 * (a crash), long after the certificate was accepted as parsed. Every part a verifier reads is decoded
 * here instead (the results are cached), so such a certificate is refused as unparsable, as Go's
 * x509.ParseCertificate (in-toto-golang) refuses it; OpenSSL, which checks issuers and signatures, must
 * be able to read it too.
 */
function readWhole(cert: X509Certificate): X509Certificate {
  void cert.subject;
  void cert.issuer;
  void cert.notBefore;
  void cert.notAfter;
  void cert.publicKey.rawData;
  try {
    void cert.extensions;
  } catch (e) {
    throw new Error(`${malformedExtension(cert) ?? 'an extension'} is malformed: ${(e as Error).message}`);
  }
  // OpenSSL decodes the key only when it is first asked for (an EC point off its curve fails then): ask now
  void openssl(cert).publicKey;
  return cert;
}

/** Which extension fails to decode, by name and OID, for the message. */
function malformedExtension(cert: X509Certificate): string | undefined {
  for (const raw of AsnConvert.parse(cert.rawData, asn1.Certificate).tbsCertificate.extensions ?? []) {
    try {
      ExtensionFactory.create(AsnConvert.serialize(raw));
    } catch {
      const name = EXTENSION_NAMES[raw.extnID];
      return `extension ${name !== undefined ? `${name} (${raw.extnID})` : raw.extnID}`;
    }
  }
  return undefined;
}

const EXTENSION_NAMES: Readonly<Record<string, string>> = {
  '2.5.29.14': 'subjectKeyIdentifier',
  '2.5.29.15': 'keyUsage',
  '2.5.29.17': 'subjectAltName',
  '2.5.29.18': 'issuerAltName',
  '2.5.29.19': 'basicConstraints',
  '2.5.29.31': 'cRLDistributionPoints',
  '2.5.29.32': 'certificatePolicies',
  '2.5.29.35': 'authorityKeyIdentifier',
  '2.5.29.37': 'extKeyUsage',
  '1.3.6.1.5.5.7.1.1': 'authorityInfoAccess',
};

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** One PEM block: its label (`CERTIFICATE`, `PRIVATE KEY`, …) and its DER bytes. */
export interface PemBlock {
  type: string;
  der: Buffer;
}

/** Every PEM block of a text, in order; text outside the blocks is ignored. */
export function pemBlocks(text: string): PemBlock[] {
  return [...text.matchAll(PEM_BLOCK)].map((m) => ({ type: m[1] ?? '', der: Buffer.from((m[2] ?? '').replace(/\s+/g, ''), 'base64') }));
}

/** The DER of each CERTIFICATE block of a PEM text (a bundle, a chain), in order; other blocks are skipped. */
export function pemCertificates(text: string): Buffer[] {
  return pemBlocks(text)
    .filter((b) => b.type === 'CERTIFICATE')
    .map((b) => b.der);
}

/** DER bytes as one PEM block, in 64-character base64 lines as OpenSSL writes them. */
export function toPem(type: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${type}-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END ${type}-----\n`;
}

/** Certificates (parsed, or DER) as concatenated CERTIFICATE blocks, in order. */
export function certificatesToPem(certs: readonly (X509Certificate | Uint8Array)[]): string {
  return certs.map((c) => toPem('CERTIFICATE', c instanceof Uint8Array ? c : new Uint8Array(c.rawData))).join('');
}
