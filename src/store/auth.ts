import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { TLSSocket } from 'node:tls';
import { parseCertificateDer, parseCertificatesPem } from '../crypto/x509/pem.js';
import type { X509Certificate } from '../crypto/x509/x509.js';
import { EvidentError } from '../errors.js';
import type { X509BundleSet } from '../spiffe/bundle/set.js';
import { X509Bundle, type X509BundleSource } from '../spiffe/bundle/x509-bundle.js';
import type { TrustDomain } from '../spiffe/spiffeid/trust-domain.js';
import { SpiffeId } from '../spiffe/spiffeid/spiffe-id.js';
import { uriSans } from '../spiffe/x509svid/rules.js';
import { verify } from '../spiffe/x509svid/verify.js';

/**
 * The bearer tokens a store accepts (`--token-file`: one per line; blank lines and `#` comments
 * skipped). Only their SHA-256 is kept, and a presented token is compared with every one of them in
 * constant time, so neither the comparison nor an early exit tells how much of a guess was right.
 */
export class TokenList {
  private constructor(private readonly hashes: readonly Buffer[]) {}

  static async load(file: string): Promise<TokenList> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new EvidentError('BAD_USAGE', `cannot read the token file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
        file,
      });
    }
    const tokens = text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    if (tokens.length === 0) throw new EvidentError('BAD_USAGE', 'the token file holds no token', { file });
    return new TokenList(tokens.map(sha256));
  }

  /** Who a presented token names (`token:` and the first 12 hex digits of its SHA-256), or undefined. */
  match(presented: string): string | undefined {
    const h = sha256(presented);
    let found = false;
    for (const known of this.hashes) found = timingSafeEqual(h, known) || found;
    return found ? `token:${h.toString('hex').slice(0, 12)}` : undefined;
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * The CAs whose X509-SVIDs may write: `--trust-bundle` (PEM), or the Workload API's bundles when the
 * store serves its own X509-SVID (`--spiffe-socket`). A CA naming a trust domain (its `spiffe://TD` URI
 * SAN, as the identity server's CAs do) vouches only for SVIDs of that domain; a CA naming none vouches
 * for any.
 */
export class UploaderBundle implements X509BundleSource {
  private constructor(
    readonly authorities: readonly { cert: X509Certificate; trustDomain: string | undefined }[],
    /** The CAs as PEM, for the TLS server to request client certificates under. */
    readonly pem: string,
  ) {}

  static async load(file: string): Promise<UploaderBundle> {
    let pem: string;
    let certs: X509Certificate[];
    try {
      pem = await readFile(file, 'utf8');
      certs = parseCertificatesPem(pem);
    } catch (e) {
      throw new EvidentError('BAD_USAGE', `cannot read the trust bundle: ${(e as Error).message}`, { file });
    }
    if (certs.length === 0) throw new EvidentError('BAD_USAGE', 'the trust bundle holds no PEM certificate', { file });
    const authorities = certs.map((cert) => {
      const uri = uriSans(cert).find((u) => u.startsWith('spiffe://'));
      return { cert, trustDomain: uri === undefined ? undefined : SpiffeId.parse(uri).trustDomain.name };
    });
    return new UploaderBundle(authorities, pem);
  }

  /**
   * The bundles the Workload API gives (own and federated trust domains), each vouching only for SVIDs
   * of its own trust domain. A store serving its X509-SVID makes one of every update: the bundles
   * change as the trust domains' CAs rotate, and each request is judged by those of the moment.
   */
  static of(bundles: X509BundleSet): UploaderBundle {
    const all = bundles.bundles();
    return new UploaderBundle(
      all.flatMap((b) => b.authorities.map((cert) => ({ cert, trustDomain: b.trustDomain.name }))),
      all.map((b) => b.marshal()).join(''),
    );
  }

  getX509BundleForTrustDomain(td: TrustDomain): X509Bundle {
    const cas = this.authorities.filter((a) => a.trustDomain === undefined || a.trustDomain === td.name).map((a) => a.cert);
    return X509Bundle.fromAuthorities(td, cas);
  }

  /**
   * The SPIFFE ID of the client's X509-SVID, when it presented one that OpenSSL chained to the bundle
   * and that passes the X509-SVID rules (spiffe/x509svid/verify.ts) for its own trust domain.
   */
  callerOf(socket: TLSSocket): string | undefined {
    if (!socket.authorized) return undefined;
    const chain = peerChain(socket);
    if (chain.length === 0) return undefined;
    try {
      return verify(chain, this).id.toString();
    } catch {
      return undefined;
    }
  }
}

/** The client's certificates as the handshake gave them, leaf first, without the self-signed root at the end. */
function peerChain(socket: TLSSocket): X509Certificate[] {
  const ders: Buffer[] = [];
  let c = socket.getPeerCertificate(true);
  while (c?.raw !== undefined && ders.length < 10) {
    ders.push(c.raw);
    const issuer = c.issuerCertificate;
    if (issuer === undefined || issuer === c || issuer.fingerprint256 === c.fingerprint256) {
      if (ders.length > 1 && c.subject !== undefined && JSON.stringify(c.subject) === JSON.stringify(c.issuer)) ders.pop();
      break;
    }
    c = issuer;
  }
  return ders.map((d) => parseCertificateDer(d));
}
