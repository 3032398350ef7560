import { createHash, randomBytes, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Selector } from '../datastore/index.js';
import { AttestationError, type AttestationResult, type ChallengeChannel, type NodeAttestor } from './types.js';

/** Domain separation: a signature made for this challenge is useless anywhere else. */
const CONTEXT = Buffer.from('evident x509pop challenge v1\n');

/** What the agent sends first: its certificate and any intermediates, leaf first, DER base64. */
export interface X509popPayload {
  certificates: string[];
}

export function sha1Hex(der: Buffer): string {
  return createHash('sha1').update(der).digest('hex');
}

function signatureParams(key: KeyObject): { alg: string | null; opts: object } {
  if (key.asymmetricKeyType === 'rsa') return { alg: 'sha256', opts: { padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 } };
  if (key.asymmetricKeyType === 'ed25519') return { alg: null, opts: {} };
  return { alg: 'sha256', opts: {} };
}

/** The agent side: the AttestParams payload for its certificate chain (DER, leaf first). */
export function x509popPayload(chain: Buffer[]): Buffer {
  const p: X509popPayload = { certificates: chain.map((d) => d.toString('base64')) };
  return Buffer.from(JSON.stringify(p));
}

/** The agent side: signs the server's challenge with the key of the node certificate. */
export function answerX509popChallenge(challenge: Buffer, privateKey: KeyObject): Buffer {
  const { alg, opts } = signatureParams(privateKey);
  return sign(alg, Buffer.concat([CONTEXT, challenge]), { key: privateKey, ...opts });
}

/**
 * x509pop attestation: the node holds a key whose certificate chains to a CA this server trusts. The
 * server checks the chain, sends a fresh nonce, and checks the node's signature over it. The agent's ID
 * is `spiffe://td/evident/agent/x509pop/<sha1 of its cert>`; its selectors name the subject CN, the
 * certificate's fingerprint and each CA fingerprint on the chain.
 */
export class X509popAttestor implements NodeAttestor {
  readonly type = 'x509pop';
  private readonly roots: X509Certificate[];

  constructor(trustedCas: Buffer[], private readonly clock: Clock) {
    this.roots = trustedCas.map((d) => new X509Certificate(d));
  }

  async attest(payload: Buffer, channel: ChallengeChannel): Promise<AttestationResult> {
    let certs: X509Certificate[];
    try {
      const p = JSON.parse(payload.toString('utf8')) as X509popPayload;
      if (!Array.isArray(p.certificates) || p.certificates.length === 0) throw new Error('no certificates');
      certs = p.certificates.map((c) => new X509Certificate(Buffer.from(c, 'base64')));
    } catch (e) {
      throw new AttestationError(`x509pop payload is malformed: ${(e as Error).message}`);
    }
    const leaf = certs[0]!;
    const path = this.verifyChain(leaf, certs.slice(1));
    const nonce = randomBytes(32);
    const answer = await channel.challenge(nonce);
    const { alg, opts } = signatureParams(leaf.publicKey);
    let ok = false;
    try {
      ok = verify(alg, Buffer.concat([CONTEXT, nonce]), { key: leaf.publicKey, ...opts }, answer);
    } catch {
      ok = false;
    }
    if (!ok) throw new AttestationError('x509pop challenge signature does not verify with the certificate key');
    const fingerprint = sha1Hex(leaf.raw);
    const selectors: Selector[] = [{ type: 'x509pop', value: `fingerprint:${fingerprint}` }];
    const cn = /(?:^|\n)CN=([^\n]*)/.exec(leaf.subject)?.[1];
    if (cn !== undefined) selectors.push({ type: 'x509pop', value: `subject:cn:${cn}` });
    for (const ca of path) selectors.push({ type: 'x509pop', value: `ca:fingerprint:${sha1Hex(ca.raw)}` });
    return { agentIdSuffix: fingerprint, selectors, canReattest: true };
  }

  /** The CA certs from the leaf's issuer up to a trusted root; throws when there is no valid path. */
  private verifyChain(leaf: X509Certificate, intermediates: X509Certificate[]): X509Certificate[] {
    const now = this.clock.now();
    const valid = (c: X509Certificate) => Date.parse(c.validFrom) <= now && now <= Date.parse(c.validTo);
    if (!valid(leaf)) throw new AttestationError('x509pop certificate is not valid now');
    if (leaf.ca) throw new AttestationError('x509pop certificate is a CA');
    const path: X509Certificate[] = [];
    let current = leaf;
    const unused = [...intermediates];
    for (let depth = 0; depth < 8; depth++) {
      const issuedBy = (p: X509Certificate) => p.ca && current.checkIssued(p) && current.verify(p.publicKey) && valid(p);
      const root = this.roots.find(issuedBy);
      if (root) return [...path, root];
      const i = unused.findIndex(issuedBy);
      if (i < 0) break;
      current = unused.splice(i, 1)[0]!;
      path.push(current);
    }
    throw new AttestationError('x509pop certificate does not chain to a trusted CA');
  }
}
