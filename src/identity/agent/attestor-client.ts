import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { EvidentError } from '../../errors.js';
import { answerX509popChallenge, JOIN_TOKEN_TYPE, joinTokenPayload, X509POP_TYPE, x509popPayload } from '../common/index.js';
import { pemCertificates } from '../../crypto/x509/index.js';

/**
 * The agent side of a node attestor: what it sends to the server, and how it answers challenges.
 * `canReattest` says whether the same credentials can attest again once the agent SVID is lost or
 * expired (a join token cannot: it is single use). Both steps may take time (a TPM answers slowly), so
 * both are asynchronous.
 */
export interface NodeAttestorClient {
  readonly type: string;
  readonly canReattest: boolean;
  /**
   * Renew the agent SVID by attesting again rather than with the current SVID (RenewAgent), so that each
   * renewal proves the node anew (a TPM: the machine is still the one whose EK names the agent), as
   * SPIRE's re-attestable attestors do.
   */
  readonly renewsByAttesting?: boolean;
  payload(): Promise<Buffer>;
  answer?(challenge: Buffer): Promise<Buffer>;
  /** Releases what payload() took (a TPM's loaded keys) once the attestation is over, whatever its outcome. */
  close?(): Promise<void>;
}

export class JoinTokenAttestorClient implements NodeAttestorClient {
  readonly type = JOIN_TOKEN_TYPE;
  readonly canReattest = false;

  constructor(private readonly token: string) {
    if (token === '') throw new EvidentError('BAD_USAGE', 'the join token is empty');
  }

  async payload(): Promise<Buffer> {
    return joinTokenPayload(this.token);
  }
}

/**
 * x509pop: the node's certificate (and chain) and proof it holds the key. The payload and the signature
 * format are identity/common's, which the server reads them with, so the two sides cannot drift apart.
 */
export class X509popAttestorClient implements NodeAttestorClient {
  readonly type = X509POP_TYPE;
  readonly canReattest = true;

  private constructor(
    private readonly chain: Buffer[],
    private readonly key: KeyObject,
  ) {}

  static async load(certPath: string, keyPath: string): Promise<X509popAttestorClient> {
    const chain = pemCertificates(await readFile(certPath, 'utf8'));
    if (chain.length === 0) throw new EvidentError('BAD_INPUT', 'no PEM certificate', { file: certPath });
    let key: KeyObject;
    try {
      key = createPrivateKey(await readFile(keyPath));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== undefined && (e as NodeJS.ErrnoException).path) throw e;
      throw new EvidentError('BAD_INPUT', `not a private key: ${(e as Error).message}`, { file: keyPath, cause: e });
    }
    return new X509popAttestorClient(chain, key);
  }

  async payload(): Promise<Buffer> {
    return x509popPayload(this.chain);
  }

  async answer(challenge: Buffer): Promise<Buffer> {
    return answerX509popChallenge(challenge, this.key);
  }
}
