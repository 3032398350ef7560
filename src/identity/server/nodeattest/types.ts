import { EvidentError } from '../../../errors.js';
import type { Plugin } from '../../common/catalog.js';
import { Registry } from '../../common/registry.js';
import type { Selector } from '../../proto/selector.js';
import type { Clock } from '../../../util/clock.js';
import type { Datastore } from '../datastore/index.js';
import type { SelectorKind } from '../../common/selectors.js';

/** Lets an attestor ask the agent to prove something (x509pop's nonce) and read the answer. */
export interface ChallengeChannel {
  challenge(data: Buffer): Promise<Buffer>;
}

export interface AttestationResult {
  /** Path segments under `spiffe://td/evident/agent/<type>/`, e.g. the token or a fingerprint. */
  agentIdSuffix: string;
  /** Node selectors the entries' selectors are matched against. */
  selectors: Selector[];
  /** Whether the same node may attest again (a join token may not; a key it still holds may). */
  canReattest: boolean;
}

/**
 * A node attestor: the one small interface every method of proving a node's identity implements.
 * TPM attestation is one more implementation and one more line in the catalog (../catalog.ts).
 */
export interface NodeAttestor {
  readonly type: string;
  attest(payload: Buffer, channel: ChallengeChannel): Promise<AttestationResult>;
}

/** A refused attestation (the gRPC API answers PermissionDenied). */
export class AttestationError extends EvidentError {
  constructor(message: string) {
    super('BAD_SIGNATURE', `nodeattest: ${message}`);
  }
}

/** What the server hands every node attestor it builds from the catalog. */
export interface NodeAttestorContext {
  readonly ds: Datastore;
  readonly clock: Clock;
}

/** A node attestor's catalog entry: its settings and how to build it. */
/** A node attestor's catalog entry: its settings, the node selectors it produces, and how to build it. */
export type NodeAttestorPlugin = Plugin<NodeAttestorContext, NodeAttestor> & { readonly selectors: readonly SelectorKind[] };

/** The node attestors a running server accepts, by type; a type registered twice is an error. */
export class NodeAttestorRegistry {
  private readonly byType = new Registry<NodeAttestor>('node attestor');

  register(attestor: NodeAttestor): this {
    this.byType.register(attestor.type, attestor);
    return this;
  }

  get(type: string): NodeAttestor | undefined {
    return this.byType.get(type);
  }

  types(): string[] {
    return this.byType.names().sort();
  }
}
