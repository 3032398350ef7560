import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { parseCertificateDer } from '../../../crypto/x509/index.js';
import type { X509Certificate } from '../../../crypto/x509/x509.js';
import { X509Bundle } from '../../../spiffe/bundle/index.js';
import { TrustDomain, type SpiffeId } from '../../../spiffe/spiffeid/index.js';
import { verify, X509SvidError, type X509SvidErrorReason } from '../../../spiffe/x509svid/index.js';
import type { CaManager } from '../ca/index.js';
import type { Clock } from '../../../util/clock.js';
import type { AttestedAgent, Datastore } from '../datastore/index.js';
import { isAgentSpiffeId } from '../spiffe-id.js';
import { rpcError } from './rpc-error.js';

interface Verified {
  agentId: SpiffeId;
  /** The certificate's serial number, as a number: hex spellings differ in case and leading zeros. */
  serial: bigint;
  notAfter: number;
}

/**
 * Who is calling: the agent whose SVID is the TLS client certificate. TLS itself accepts any client
 * certificate (attestation happens before the agent has one); here the certificate must be an X509-SVID
 * that x509svid.verify accepts with this server's CAs as the trust anchors (so every rule of the SPIFFE
 * and X.509 layers applies), valid now, whose SPIFFE ID is an agent's, and the agent must still be attested
 * (evicting it ends its access even though its certificate has not expired). And it must be the agent's
 * current SVID, as in SPIRE: once a renewed SVID has been used, the ones before it are refused, so an old
 * or stolen agent certificate is worth nothing after the next renewal.
 */
export class PeerAuthenticator {
  private cache = new Map<string, Verified>();
  private readonly td: TrustDomain;
  private cas: X509Bundle;

  constructor(
    private readonly ca: CaManager,
    private readonly ds: Datastore,
    private readonly clock: Clock,
    trustDomain: string,
  ) {
    this.td = TrustDomain.parse(trustDomain);
    this.cas = this.anchors();
    ca.onChange(() => {
      this.cas = this.anchors();
      this.cache = new Map();
    });
  }

  /** The server's own CA certificates (an intermediate under an upstream CA too) are the anchors agent SVIDs chain to. */
  private anchors(): X509Bundle {
    return X509Bundle.fromAuthorities(this.td, this.ca.caCertificates());
  }

  async authenticate(call: { getAuthContext(): { sslPeerCertificate?: { raw?: Buffer } } }): Promise<AttestedAgent> {
    const raw = call.getAuthContext().sslPeerCertificate?.raw;
    if (!raw || raw.length === 0)
      throw rpcError(grpc.status.UNAUTHENTICATED, 'no client certificate: attest first, then call with the agent SVID');
    const key = createHash('sha256').update(raw).digest('hex');
    let v = this.cache.get(key);
    if (!v) {
      v = this.verify(raw);
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(key, v);
    }
    if (this.clock.now() >= v.notAfter) throw rpcError(grpc.status.UNAUTHENTICATED, 'agent SVID has expired');
    const agent = await this.ds.agents.fetch(v.agentId.toString());
    if (!agent) throw rpcError(grpc.status.PERMISSION_DENIED, `agent ${v.agentId} is not attested (evicted?)`);
    if (sameSerial(v.serial, agent.certSerial)) return agent;
    if (agent.newCertSerial !== '' && sameSerial(v.serial, agent.newCertSerial)) {
      // the renewed SVID in use: it becomes the current one, and the one before it is refused from now on
      const promoted = await this.ds.agents.promote(agent.spiffeId, agent.newCertSerial, this.clock.now());
      if (promoted && sameSerial(v.serial, promoted.certSerial)) return promoted;
    }
    throw rpcError(
      grpc.status.PERMISSION_DENIED,
      `agent SVID ${v.serial.toString(16)} is not the current SVID of ${v.agentId} (superseded by a renewal)`,
    );
  }

  private verify(raw: Buffer): Verified {
    let cert: X509Certificate;
    try {
      cert = parseCertificateDer(raw);
    } catch {
      throw rpcError(grpc.status.UNAUTHENTICATED, 'client certificate does not parse');
    }
    let id: SpiffeId;
    try {
      ({ id } = verify([cert], this.cas, { time: new Date(this.clock.now()) }));
    } catch (e) {
      if (!(e instanceof X509SvidError)) throw e;
      throw rpcError(grpc.status.UNAUTHENTICATED, `${REFUSALS[e.reason] ?? 'client certificate is not an X509-SVID'} (${e.message})`);
    }
    if (!isAgentSpiffeId(this.td, id)) throw rpcError(grpc.status.PERMISSION_DENIED, 'client certificate is not an agent SVID');
    return { agentId: id, serial: BigInt(`0x${cert.serialNumber}`), notAfter: cert.notAfter.getTime() };
  }
}

/** What an agent is told for the refusals it can do something about (renew, re-attest, fix its clock). */
const REFUSALS: Partial<Record<X509SvidErrorReason, string>> = {
  CERT_EXPIRED: 'agent SVID has expired',
  CERT_NOT_YET_VALID: 'agent SVID is not valid yet',
  UNTRUSTED_CHAIN: "client certificate is not signed by this server's CA",
  NO_BUNDLE: "client certificate is not signed by this server's CA",
};

function sameSerial(serial: bigint, stored: string): boolean {
  return /^[0-9a-fA-F]+$/.test(stored) && BigInt(`0x${stored}`) === serial;
}
