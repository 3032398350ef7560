import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { derToPem, pemCertificates } from './trust-bundle.js';

/** The agent's own identity: its SVID (DER chain, leaf first) and key. */
export interface AgentIdentity {
  spiffeId: string;
  certChain: Buffer[];
  privateKey: KeyObject;
  notAfter: number;
  /** When the agent got it (its own clock), for renewal at half-life. */
  issuedAt: number;
}

const SVID_FILE = 'agent-svid.pem';
const KEY_FILE = 'agent-svid.key';
const BUNDLE_FILE = 'bundle.pem';

/**
 * What the agent keeps in its data dir so a restart neither re-attests (a join token works once) nor
 * forgets a rotated CA: the agent SVID, its key (0600), and the newest trust bundle from the server.
 */
export class AgentDataDir {
  constructor(readonly dir: string) {}

  /** Only the data dir itself is private: its parents may hold the public Workload API socket. */
  async init(): Promise<void> {
    await mkdir(dirname(this.dir), { recursive: true });
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await chmod(this.dir, 0o700);
  }

  async saveIdentity(id: AgentIdentity): Promise<void> {
    // key first: an SVID on disk must never be without its key
    await writeFileAtomic(join(this.dir, KEY_FILE), id.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 0o600);
    await writeFileAtomic(join(this.dir, SVID_FILE), derToPem(id.certChain), 0o644);
  }

  /** The stored identity, or undefined when there is none or it does not hold together. */
  async loadIdentity(now: number): Promise<AgentIdentity | undefined> {
    let pem: string;
    let keyPem: Buffer;
    try {
      [pem, keyPem] = await Promise.all([readFile(join(this.dir, SVID_FILE), 'utf8'), readFile(join(this.dir, KEY_FILE))]);
    } catch {
      return undefined;
    }
    const certChain = pemCertificates(pem);
    const leafDer = certChain[0];
    if (leafDer === undefined) return undefined;
    let leaf: X509Certificate;
    let privateKey: KeyObject;
    try {
      leaf = new X509Certificate(leafDer);
      privateKey = createPrivateKey(keyPem);
    } catch {
      return undefined; // damaged files: attest afresh rather than fail
    }
    const pub = (k: KeyObject): Buffer => (k.type === 'private' ? createPublicKey(k) : k).export({ type: 'spki', format: 'der' });
    if (!pub(privateKey).equals(pub(leaf.publicKey))) return undefined;
    const uri = (leaf.subjectAltName ?? '').split(', ').find((s) => s.startsWith('URI:'));
    if (uri === undefined) return undefined;
    // Issuance time is not stored: count from now, so a restart renews at the latest by half the rest.
    return { spiffeId: uri.slice(4), certChain, privateKey, notAfter: Date.parse(leaf.validTo), issuedAt: Math.min(now, Date.parse(leaf.validTo)) };
  }

  async saveBundle(roots: readonly Buffer[]): Promise<void> {
    await writeFileAtomic(join(this.dir, BUNDLE_FILE), derToPem(roots), 0o644);
  }

  async loadBundle(): Promise<Buffer[] | undefined> {
    try {
      const roots = pemCertificates(await readFile(join(this.dir, BUNDLE_FILE), 'utf8'));
      return roots.length > 0 ? roots : undefined;
    } catch {
      return undefined;
    }
  }
}
