import { generateKeyPair as generateKeyPairCb, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import type { Clock } from '../../util/clock.js';
import type { Entry, SvidResult } from '../proto/messages.js';
import type { SvidCache } from './cache.js';
import type { ServedEntry } from './workloadapi/source.js';

const generateKeyPair = promisify(generateKeyPairCb);

/** Most SVIDs asked for in one SignX509Svids call (the server's limit is higher). */
const BATCH = 500;

interface Issued {
  revision: number;
  issuedAt: number;
  expiresAt: number;
}

/** Where the sync gets entries and signatures: the server, through the agent's link. */
export interface SvidSyncServer {
  fetchEntries(): Promise<Entry[]>;
  signX509Svids(params: { entry_id: string; key: { public_key: Buffer } }[]): Promise<SvidResult[]>;
}

/** `order`: the server lists entries oldest first, which makes the oldest matching entry the default identity. */
function servedEntry(e: Entry, order: number): ServedEntry {
  return {
    id: e.id,
    spiffeId: e.spiffe_id,
    selectors: e.selectors.map((s) => ({ type: s.type, value: s.value })),
    hint: e.hint,
    jwtSvidTtl: e.jwt_svid_ttl,
    x509SvidTtl: e.x509_svid_ttl,
    dnsNames: e.dns_names,
    revision: e.revision,
    createdAt: order,
  };
}

/**
 * Keeps the cache's entries and X.509-SVIDs in step with the server: fetches the entries this agent
 * may serve, and for each one without an SVID, with a changed entry, or past half its SVID's life,
 * makes a fresh ECDSA P-256 key here (workload keys never leave the agent) and has the server sign it.
 */
export class SvidSync {
  private readonly issued = new Map<string, Issued>();

  constructor(
    private readonly cache: SvidCache,
    private readonly server: SvidSyncServer,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** When the next SVID reaches half its life (ms since epoch), or undefined when there is none. */
  nextRotation(): number | undefined {
    let next: number | undefined;
    for (const i of this.issued.values()) {
      const at = halfLife(i);
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  /** One round: entries, then SVIDs for what needs one. Throws what the server throws. */
  async sync(): Promise<{ entries: number; issued: number; failed: number }> {
    const entries = (await this.server.fetchEntries()).map((e, i) => servedEntry(e, i));
    const now = this.clock.now();
    const ids = new Set(entries.map((e) => e.id));
    for (const id of this.issued.keys()) if (!ids.has(id)) this.issued.delete(id);
    const due = entries.filter((e) => {
      const i = this.issued.get(e.id);
      return i === undefined || i.revision !== (e.revision ?? 0) || now >= halfLife(i) || this.cache.x509Svid(e.id) === undefined;
    });
    this.cache.setEntries(entries);
    let issued = 0;
    let failed = 0;
    for (let i = 0; i < due.length; i += BATCH) {
      const batch = due.slice(i, i + BATCH);
      const keys = await Promise.all(batch.map(() => generateKeyPair('ec', { namedCurve: 'P-256' })));
      const results = await this.server.signX509Svids(
        batch.map((e, j) => ({
          entry_id: e.id,
          key: { public_key: (keys[j] as { publicKey: KeyObject }).publicKey.export({ type: 'spki', format: 'der' }) },
        })),
      );
      const receivedAt = this.clock.now();
      this.cache.update(() => {
        batch.forEach((e, j) => {
          const r = results.find((x) => x.entry_id === e.id);
          if (!r?.svid) {
            failed++;
            this.logger.warn({ entry: e.id, spiffe_id: e.spiffeId, err: r?.error ?? 'no result' }, 'the server did not sign an SVID');
            return;
          }
          const key = (keys[j] as { privateKey: KeyObject }).privateKey;
          const expiresAt = r.svid.expires_at * 1000;
          this.cache.setX509Svid({
            entryId: e.id,
            spiffeId: r.svid.spiffe_id,
            hint: e.hint,
            certChain: Buffer.concat(r.svid.cert_chain),
            privateKey: key.export({ type: 'pkcs8', format: 'der' }),
            notBefore: new Date(receivedAt),
            expiresAt: new Date(expiresAt),
          });
          this.issued.set(e.id, { revision: e.revision ?? 0, issuedAt: receivedAt, expiresAt });
          issued++;
        });
      });
    }
    if (issued > 0 || failed > 0) this.logger.info({ entries: entries.length, issued, failed }, 'workload SVIDs updated');
    return { entries: entries.length, issued, failed };
  }
}

function halfLife(i: Issued): number {
  return i.issuedAt + (i.expiresAt - i.issuedAt) / 2;
}
