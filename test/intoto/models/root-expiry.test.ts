// A pinned root that expires before the layout (or soon) is announced when the layout is made and when
// it is verified: links signed under it stop verifying when it expires, whatever the layout says.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KeyDict } from '../../../src/crypto/key-dict.js';
import { rootExpiryNotices } from '../../../src/intoto/models/root-expiry.js';
import type { Layout } from '../../../src/intoto/models/types.js';
import { formatReport, verify } from '../../../src/intoto/verify/index.js';
import { caEntry, makeRoot, type TestCert } from '../../helpers/pki.js';
import { owner } from '../verify/chain.js';
import { layout, sign } from '../verify/fixtures.js';

const DAY = 86_400_000;
const NOW = new Date('2030-06-01T00:00:00Z');

const pinning = (roots: TestCert[], expires: string): Layout => {
  const l = layout([], [], { expires });
  l.rootcas = Object.fromEntries(roots.map((r) => [caEntry(r).keyid, caEntry(r).dict as unknown as KeyDict]));
  return l;
};
const rootUntil = (name: string, notAfter: Date) => makeRoot(name, { notBefore: new Date(NOW.getTime() - 365 * DAY), notAfter });

describe('pinned root expiry', () => {
  it('says nothing of a root that outlives the layout by more than 30 days', async () => {
    const root = await rootUntil('long', new Date(NOW.getTime() + 3650 * DAY));
    assert.deepEqual(rootExpiryNotices(pinning([root], '2031-01-01T00:00:00Z'), NOW), []);
  });

  it('names a root expiring before the layout, within 30 days, or already expired', async () => {
    const beforeLayout = await rootUntil('short', new Date(NOW.getTime() + 90 * DAY));
    const soon = await rootUntil('soon', new Date(NOW.getTime() + 10 * DAY));
    const gone = await rootUntil('gone', new Date(NOW.getTime() - DAY));
    const notices = rootExpiryNotices(pinning([beforeLayout], '2031-01-01T00:00:00Z'), NOW);
    assert.equal(notices.length, 1);
    assert.match(
      notices[0]!,
      /^root CA O=short, CN=short root CA \(keyid [0-9a-f]{8}\) expires at 2030-08-30T00:00:00Z, before the layout does \(2031-01-01T00:00:00Z\)/,
    );
    assert.match(notices[0]!, /rotate the root \(docs\/identity\.md\) and re-sign the layout$/);
    assert.match(rootExpiryNotices(pinning([soon], '2030-06-05T00:00:00Z'), NOW)[0]!, /expires at 2030-06-11T00:00:00Z, within 30 days/);
    assert.match(
      rootExpiryNotices(pinning([gone], '2030-06-05T00:00:00Z'), NOW)[0]!,
      /expired at 2030-05-31T00:00:00Z: no certificate under it verifies/,
    );
    // a layout that trusts time-stamps keeps links time-stamped while the root was valid
    const stamped = { ...pinning([gone], '2030-06-05T00:00:00Z'), timestampauthorities: pinning([soon], '2030-06-05T00:00:00Z').rootcas };
    assert.match(
      rootExpiryNotices(stamped, NOW)[0]!,
      /expired at 2030-05-31T00:00:00Z: only links under it time-stamped before then verify/,
    );
  });

  it('verify reports it as a warning, which does not fail verification', async () => {
    const now = new Date();
    const root = await makeRoot('brief', { notBefore: new Date(now.getTime() - DAY), notAfter: new Date(now.getTime() + 5 * DAY) });
    const r = await verify({
      layout: sign(pinning([root], '2100-01-01T00:00:00Z'), [owner()]),
      layoutKeys: [owner().publicKey],
      links: {},
    });
    const text = formatReport(r);
    assert.equal(r.ok, true, text);
    assert.match(text, /^! root CA O=brief, CN=brief root CA \(keyid [0-9a-f]{8}\) expires at .*, before the layout does/m);
  });
});
