import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { X509Certificate } from './x509.js';
import { SpiffeError, type SpiffeModule } from '../errors.js';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** One PEM block: its label and DER bytes. */
export interface PemBlock {
  type: string;
  der: Buffer;
}

export function looksLikePem(data: Uint8Array | string): boolean {
  const head = typeof data === 'string' ? data.slice(0, 256) : Buffer.from(data.subarray(0, 256)).toString('latin1');
  return head.trimStart().startsWith('-----BEGIN ');
}

export function pemBlocks(text: string): PemBlock[] {
  return [...text.matchAll(PEM_BLOCK)].map((m) => ({ type: m[1] ?? '', der: Buffer.from((m[2] ?? '').replace(/\s+/g, ''), 'base64') }));
}

export function toPem(type: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${type}-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END ${type}-----\n`;
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
      return new X509Certificate(der);
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
      throw new SpiffeError(module, 'BAD_CERTIFICATE', `unable to parse certificate #${out.length + 1}: truncated or malformed DER`, { cause: e });
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

const nodeCerts = new WeakMap<X509Certificate, NodeX509Certificate>();

/** OpenSSL's view of a certificate, for signature checks (cached: parsing is not free). */
export function nodeCert(cert: X509Certificate): NodeX509Certificate {
  let n = nodeCerts.get(cert);
  if (n === undefined) {
    n = new NodeX509Certificate(Buffer.from(cert.rawData));
    nodeCerts.set(cert, n);
  }
  return n;
}

export function certDer(cert: X509Certificate): Buffer {
  return Buffer.from(cert.rawData);
}

export function certsToPem(certs: readonly X509Certificate[]): string {
  return certs.map((c) => toPem('CERTIFICATE', certDer(c))).join('');
}

export function certsToDer(certs: readonly X509Certificate[]): Buffer {
  return Buffer.concat(certs.map(certDer));
}
