import { certificateOf } from './ca-certificate.js';
import { formatExpires, parseExpires } from './expires.js';
import type { Layout } from './types.js';

/** How long before a pinned root expires evident starts saying so. */
export const ROOT_EXPIRY_NOTICE_MS = 30 * 86_400_000;

/**
 * What a layout owner should hear about the roots the layout pins (`rootcas`) at `now`: a root that has
 * expired, expires before the layout does, or within 30 days. Links signed under such a root stop
 * verifying when it expires, however long the layout lives: the root must be rotated and the layout
 * re-signed first (docs/identity.md); links time-stamped before then by a TSA the layout trusts keep
 * verifying. One sentence per root; empty when all is well.
 */
export function rootExpiryNotices(layout: Pick<Layout, 'rootcas' | 'expires' | 'timestampauthorities'>, now: Date): string[] {
  const notices: string[] = [];
  const layoutExpires = parseExpires(layout.expires);
  // with trusted time-stamps, a link time-stamped while its root was valid still verifies (docs/trusted-time.md)
  const expiredMeans =
    Object.keys(layout.timestampauthorities ?? {}).length > 0
      ? 'only links under it time-stamped before then verify'
      : 'no certificate under it verifies';
  for (const [keyid, dict] of Object.entries(layout.rootcas ?? {})) {
    const cert = certificateOf(dict);
    const root = `root CA ${cert.subject} (keyid ${keyid.slice(0, 8)})`;
    const at = formatExpires(cert.notAfter);
    const advice = 'rotate the root (docs/identity.md) and re-sign the layout';
    if (cert.notAfter.getTime() <= now.getTime()) notices.push(`${root} expired at ${at}: ${expiredMeans}; ${advice}`);
    else if (cert.notAfter.getTime() < layoutExpires.getTime())
      notices.push(
        `${root} expires at ${at}, before the layout does (${layout.expires}): links signed after then will not verify; ${advice}`,
      );
    else if (cert.notAfter.getTime() - now.getTime() < ROOT_EXPIRY_NOTICE_MS)
      notices.push(`${root} expires at ${at}, within 30 days; ${advice}`);
  }
  return notices;
}
