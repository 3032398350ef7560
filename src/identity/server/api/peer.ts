import { createHash, X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { CaManager } from '../ca/index.js';
import type { Clock } from '../clock.js';
import type { AttestedAgent, Datastore } from '../datastore/index.js';
import { isAgentId } from '../spiffe-id.js';
import { rpcError } from './rpc-error.js';

interface Verified {
  agentId: string;
  /** The certificate's serial number, as a number: hex spellings differ in case and leading zeros. */
  serial: bigint;
  notAfter: number;
}

/**
 * Who is calling: the agent whose SVID is the TLS client certificate. TLS itself accepts any client
 * certificate (attestation happens before the agent has one); here the certificate must be signed by
 * one of this server's CAs, valid now, carry one agent SPIFFE ID, and the agent must still be attested
 * (evicting it ends its access even though its certificate has not expired). And it must be the agent's
 * current SVID, as in SPIRE: once a renewed SVID has been used, the ones before it are refused, so an old
 * or stolen agent certificate is worth nothing after the next renewal.
 */
export class PeerAuthenticator {
  private cache = new Map<string, Verified>();
  private cas: X509Certificate[] = [];

  constructor(private readonly ca: CaManager, private readonly ds: Datastore, private readonly clock: Clock, private readonly trustDomain: string) {
    this.refresh();
    ca.onChange(() => this.refresh());
  }

  private refresh(): void {
    this.cas = this.ca.caCertificates().map((c) => new X509Certificate(Buffer.from(c.rawData)));
    this.cache = new Map();
  }

  async authenticate(call: { getAuthContext(): { sslPeerCertificate?: { raw?: Buffer } } }): Promise<AttestedAgent> {
    const raw = call.getAuthContext().sslPeerCertificate?.raw;
    if (!raw || raw.length === 0) throw rpcError(grpc.status.UNAUTHENTICATED, 'no client certificate: attest first, then call with the agent SVID');
    const key = createHash('sha256').update(raw).digest('hex');
    let v = this.cache.get(key);
    if (!v) {
      v = this.verify(raw);
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(key, v);
    }
    if (this.clock.now() >= v.notAfter) throw rpcError(grpc.status.UNAUTHENTICATED, 'agent SVID has expired');
    const agent = await this.ds.agents.fetch(v.agentId);
    if (!agent) throw rpcError(grpc.status.PERMISSION_DENIED, `agent ${v.agentId} is not attested (evicted?)`);
    if (sameSerial(v.serial, agent.certSerial)) return agent;
    if (agent.newCertSerial !== '' && sameSerial(v.serial, agent.newCertSerial)) {
      // the renewed SVID in use: it becomes the current one, and the one before it is refused from now on
      const promoted = await this.ds.agents.promote(agent.spiffeId, agent.newCertSerial, this.clock.now());
      if (promoted && sameSerial(v.serial, promoted.certSerial)) return promoted;
    }
    throw rpcError(grpc.status.PERMISSION_DENIED, `agent SVID ${v.serial.toString(16)} is not the current SVID of ${v.agentId} (superseded by a renewal)`);
  }

  private verify(raw: Buffer): Verified {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(raw);
    } catch {
      throw rpcError(grpc.status.UNAUTHENTICATED, 'client certificate does not parse');
    }
    if (!this.cas.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))) {
      throw rpcError(grpc.status.UNAUTHENTICATED, 'client certificate is not signed by this server\'s CA');
    }
    const now = this.clock.now();
    if (now < Date.parse(cert.validFrom)) throw rpcError(grpc.status.UNAUTHENTICATED, 'agent SVID is not valid yet');
    const uris = (cert.subjectAltName ?? '').split(', ').filter((s) => s.startsWith('URI:')).map((s) => s.slice(4));
    if (uris.length !== 1 || !isAgentId(this.trustDomain, uris[0]!)) throw rpcError(grpc.status.PERMISSION_DENIED, 'client certificate is not an agent SVID');
    return { agentId: uris[0]!, serial: BigInt(`0x${cert.serialNumber}`), notAfter: Date.parse(cert.validTo) };
  }
}

function sameSerial(serial: bigint, stored: string): boolean {
  return /^[0-9a-fA-F]+$/.test(stored) && BigInt(`0x${stored}`) === serial;
}
