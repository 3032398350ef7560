import type { Clock } from '../clock.js';
import type { Datastore } from '../datastore/index.js';
import { AttestationError, type AttestationResult, type NodeAttestor } from './types.js';

/**
 * Join-token attestation: the agent presents a token an operator generated; the datastore marks it
 * used in one atomic step, so a token attests exactly one agent, once, before it expires.
 */
export class JoinTokenAttestor implements NodeAttestor {
  readonly type = 'join_token';

  constructor(private readonly ds: Datastore, private readonly clock: Clock) {}

  async attest(payload: Buffer): Promise<AttestationResult> {
    const token = payload.toString('utf8');
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(token)) throw new AttestationError('join token is malformed');
    const use = await this.ds.joinTokens.use(token, this.clock.now());
    if (!use.ok) {
      throw new AttestationError(
        use.reason === 'used' ? 'join token was already used' : use.reason === 'expired' ? 'join token has expired' : 'join token is unknown',
      );
    }
    return { agentIdSuffix: token, selectors: [], canReattest: false };
  }
}
