import { JOIN_TOKEN_TYPE, parseJoinTokenPayload } from '../../common/index.js';
import type { Clock } from '../../../util/clock.js';
import type { Datastore } from '../datastore/index.js';
import { AttestationError, type AttestationResult, type NodeAttestor, type NodeAttestorPlugin } from './types.js';

/**
 * The longest a join token may stay usable: one year. A token is a bearer secret for one agent, meant
 * to be used soon after it is made; far longer lifetimes overflow the dates it is stored and shown with.
 */
export const MAX_JOIN_TOKEN_TTL_SECONDS = 365 * 86_400;

/**
 * Join-token attestation: the agent presents a token an operator generated; the datastore marks it
 * used in one atomic step, so a token attests exactly one agent, once, before it expires.
 */
export class JoinTokenAttestor implements NodeAttestor {
  readonly type = JOIN_TOKEN_TYPE;

  constructor(
    private readonly ds: Datastore,
    private readonly clock: Clock,
  ) {}

  async attest(payload: Buffer): Promise<AttestationResult> {
    const token = parseJoinTokenPayload(payload);
    if (token === undefined) throw new AttestationError('join token is malformed');
    const use = await this.ds.joinTokens.use(token, this.clock.now());
    if (!use.ok) {
      throw new AttestationError(
        use.reason === 'used'
          ? 'join token was already used'
          : use.reason === 'expired'
            ? 'join token has expired'
            : 'join token is unknown',
      );
    }
    return { agentIdSuffix: token, selectors: [], canReattest: false };
  }
}

/** The catalog entry: no settings (tokens are made with `evident server token generate`). */
export const joinTokenPlugin: NodeAttestorPlugin = {
  settings: [],
  selectors: [], // a token names no property of the node: name the agent by its ID (spiffe_id) or alias it
  build: (_settings, ctx) => new JoinTokenAttestor(ctx.ds, ctx.clock),
};
