import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import type { X509Certificate } from '../../crypto/x509/x509.js';
import { parseCertificateDer, pemBlocks } from '../../crypto/x509/pem.js';
import { SpiffeError, type SpiffeModule } from '../errors.js';

export function looksLikePem(data: Uint8Array | string): boolean {
  const head = typeof data === 'string' ? data.slice(0, 256) : Buffer.from(data.subarray(0, 256)).toString('latin1');
  return head.trimStart().startsWith('-----BEGIN ');
}

/**
 * Certificates from PEM text or from DER certificates concatenated back to back (the Workload API's
 * wire form). DER is split by letting OpenSSL parse one certificate at a time and taking the length of
 * the encoding it read, so no ASN.1 is decoded here.
 */
export function parseCertificates(data: Uint8Array | string, module: SpiffeModule): X509Certificate[] {
  const ders = looksLikePem(data) ? pemCertificates(data, module) : splitDer(Buffer.from(data as Uint8Array), module);
  if (ders.length === 0) throw new SpiffeError(module, 'NO_CERTIFICATES', 'no certificates found');
  return ders.map((der, i) => {
    try {
      return parseCertificateDer(der);
    } catch (e) {
      throw new SpiffeError(module, 'BAD_CERTIFICATE', `unable to parse certificate #${i + 1}: ${(e as Error).message}`, { cause: e });
    }
  });
}

function pemCertificates(data: Uint8Array | string, module: SpiffeModule): Buffer[] {
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
  return pemBlocks(text).map((block) => {
    if (block.type !== 'CERTIFICATE') {
      throw new SpiffeError(module, 'BAD_CERTIFICATE', `expected a CERTIFICATE PEM block, found "${block.type}"`);
    }
    return block.der;
  });
}

function splitDer(buf: Buffer, module: SpiffeModule): Buffer[] {
  const out: Buffer[] = [];
  let offset = 0;
  while (offset < buf.length) {
    const rest = buf.subarray(offset);
    let raw: Buffer;
    try {
      raw = new NodeX509Certificate(rest).raw;
    } catch (e) {
      throw new SpiffeError(module, 'BAD_CERTIFICATE', `unable to parse certificate #${out.length + 1}: truncated or malformed DER`, {
        cause: e,
      });
    }
    // OpenSSL keeps the bytes it read; if they are not a prefix of the input, the input was not plain DER.
    if (raw.length === 0 || !rest.subarray(0, raw.length).equals(raw)) {
      throw new SpiffeError(module, 'BAD_CERTIFICATE', `unable to parse certificate #${out.length + 1}: not DER-encoded`);
    }
    out.push(Buffer.from(raw));
    offset += raw.length;
  }
  return out;
}

/** OpenSSL's view of a certificate, for signature and key checks (crypto/x509 keeps one per certificate). */
export { openssl as nodeCert } from '../../crypto/x509/openssl.js';

export function certDer(cert: X509Certificate): Buffer {
  return Buffer.from(cert.rawData);
}

export function certsToDer(certs: readonly X509Certificate[]): Buffer {
  return Buffer.concat(certs.map(certDer));
}
