import type {
  JWTBundlesResponseMessage,
  X509BundlesResponseMessage,
  X509SVIDMessage,
  X509SVIDResponseMessage,
} from '../../../spiffe/workloadapi/proto.js';
import type { ServedEntry, TrustBundles, WorkloadIdentitySource } from './source.js';

/**
 * The FetchX509SVID message for a workload's entries: every entry whose SVID is issued, the default
 * first, each with its own trust domain's bundle; federated bundles besides. Undefined while nothing is
 * ready to send (no bundle yet, or SVIDs still being issued).
 */
export function x509SvidResponse(source: WorkloadIdentitySource, entries: readonly ServedEntry[]): X509SVIDResponseMessage | undefined {
  const bundles = source.bundles();
  if (!bundles) return undefined;
  const svids: X509SVIDMessage[] = [];
  for (const e of dedupeBySpiffeId(entries)) {
    const svid = source.x509Svid(e.id);
    if (!svid) continue;
    const td = trustDomainId(svid.spiffeId);
    svids.push({
      spiffe_id: svid.spiffeId,
      x509_svid: svid.certChain,
      x509_svid_key: svid.privateKey,
      bundle: bundles.x509.get(td) ?? Buffer.alloc(0),
      hint: svid.hint,
    });
  }
  if (svids.length === 0) return undefined;
  const own = new Set(svids.map((s) => trustDomainId(s.spiffe_id)));
  const federated: Record<string, Buffer> = {};
  for (const [td, der] of bundles.x509) if (!own.has(td)) federated[td] = der;
  return { svids, crl: [], federated_bundles: federated };
}

export function x509BundlesResponse(bundles: TrustBundles): X509BundlesResponseMessage {
  return { crl: [], bundles: Object.fromEntries(bundles.x509) };
}

export function jwtBundlesResponse(bundles: TrustBundles): JWTBundlesResponseMessage {
  return { bundles: Object.fromEntries([...bundles.jwt].map(([td, jwks]) => [td, Buffer.from(jwks, 'utf8')])) };
}

/** `spiffe://td` of a SPIFFE ID. */
export function trustDomainId(spiffeId: string): string {
  const slash = spiffeId.indexOf('/', 'spiffe://'.length);
  return slash < 0 ? spiffeId : spiffeId.slice(0, slash);
}

/** A cheap identity of a message's content, so a stream sends only what changed. */
export function fingerprint(msg: X509SVIDResponseMessage | X509BundlesResponseMessage | JWTBundlesResponseMessage): string {
  const parts: string[] = [];
  if ('svids' in msg)
    for (const s of msg.svids) parts.push(s.spiffe_id, s.hint, s.x509_svid.toString('base64'), s.bundle.toString('base64'));
  const maps = 'federated_bundles' in msg ? msg.federated_bundles : msg.bundles;
  for (const k of Object.keys(maps).sort()) parts.push(k, (maps[k] as Buffer).toString('base64'));
  return parts.join('|');
}

/** Several entries may give one SPIFFE ID (different selectors); a workload gets each ID once. */
export function dedupeBySpiffeId<E extends { spiffeId: string }>(entries: readonly E[]): E[] {
  const seen = new Set<string>();
  return entries.filter((e) => !seen.has(e.spiffeId) && seen.add(e.spiffeId));
}
