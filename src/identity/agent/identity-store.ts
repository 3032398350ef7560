import type { KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { X509Svid } from '../../spiffe/x509svid/index.js';
import { certificatesToPem, pemCertificates } from '../../crypto/x509/index.js';

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
/** The key of the SVID before, kept while a renewed pair is written (see saveIdentity). */
const PREVIOUS_KEY_FILE = 'agent-svid.previous.key';
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

  /**
   * Two files cannot be replaced at once, and an agent killed between the two (kill -9, a power cut) must
   * still find a working pair: its join token is spent, so a pair that does not hold together would leave it
   * unable to start. So the current key is first moved aside, then the new key is written, then the SVID
   * (key first: an SVID on disk is never without its key); loadIdentity falls back to the key moved aside.
   */
  async saveIdentity(id: AgentIdentity): Promise<void> {
    await rename(join(this.dir, KEY_FILE), join(this.dir, PREVIOUS_KEY_FILE)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    await writeFileAtomic(join(this.dir, KEY_FILE), id.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 0o600);
    await writeFileAtomic(join(this.dir, SVID_FILE), certificatesToPem(id.certChain), 0o644);
    await unlink(join(this.dir, PREVIOUS_KEY_FILE)).catch(() => undefined);
  }

  /**
   * The stored identity, or undefined when there is none or it does not hold together: it must read as
   * an X509-SVID (the SPIFFE layer's rules: one SPIFFE ID, a leaf that is not a CA, CAs above it) whose
   * key is the one stored beside it, or the previous key when a save was cut short before the new SVID.
   */
  async loadIdentity(now: number): Promise<AgentIdentity | undefined> {
    let pem: string;
    try {
      pem = await readFile(join(this.dir, SVID_FILE), 'utf8');
    } catch {
      return undefined;
    }
    let svid: X509Svid | undefined;
    for (const keyFile of [KEY_FILE, PREVIOUS_KEY_FILE]) {
      try {
        svid = X509Svid.parse(pem, await readFile(join(this.dir, keyFile)));
        break;
      } catch {
        // missing or not this SVID's key: the next one
      }
    }
    if (svid === undefined) return undefined; // damaged files: attest afresh rather than fail
    const notAfter = svid.expiresAt.getTime();
    // Issuance time is not stored: count from now, so a restart renews at the latest by half the rest.
    return {
      spiffeId: svid.id.toString(),
      certChain: svid.certificates.map((c) => Buffer.from(c.rawData)),
      privateKey: svid.privateKey,
      notAfter,
      issuedAt: Math.min(now, notAfter),
    };
  }

  async saveBundle(roots: readonly Buffer[]): Promise<void> {
    await writeFileAtomic(join(this.dir, BUNDLE_FILE), certificatesToPem(roots), 0o644);
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
