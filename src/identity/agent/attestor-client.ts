import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { EvidentError } from '../../errors.js';
import { answerX509popChallenge } from '../server/nodeattest/x509pop.js';
import { pemCertificates } from './trust-bundle.js';

/**
 * The agent side of a node attestor: what it sends to the server, and how it answers challenges.
 * `canReattest` says whether the same credentials can attest again once the agent SVID is lost or
 * expired (a join token cannot: it is single use).
 */
export interface NodeAttestorClient {
  readonly type: string;
  readonly canReattest: boolean;
  payload(): Buffer;
  answer?(challenge: Buffer): Buffer;
}

export class JoinTokenAttestorClient implements NodeAttestorClient {
  readonly type = 'join_token';
  readonly canReattest = false;

  constructor(private readonly token: string) {
    if (token === '') throw new EvidentError('BAD_USAGE', 'the join token is empty');
  }

  payload(): Buffer {
    return Buffer.from(this.token, 'utf8');
  }
}

/**
 * x509pop: the node's certificate (and chain) and proof it holds the key. The signature format is the
 * server's (`answerX509popChallenge`, reused so the two sides cannot drift apart).
 */
export class X509popAttestorClient implements NodeAttestorClient {
  readonly type = 'x509pop';
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

  payload(): Buffer {
    return Buffer.from(JSON.stringify({ certificates: this.chain.map((c) => c.toString('base64')) }), 'utf8');
  }

  answer(challenge: Buffer): Buffer {
    return answerX509popChallenge(challenge, this.key);
  }
}
