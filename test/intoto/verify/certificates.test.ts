import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyDict } from '../../../src/crypto/key-dict.js';
import { signLinkEnvelope, signMetablock } from '../../../src/intoto/models/metablock.js';
import type { CertificateConstraint, Layout, Link } from '../../../src/intoto/models/types.js';
import { formatReport, verify, type VerificationReport } from '../../../src/intoto/verify/index.js';
import { caEntry, uriConstraint, certSigner, makeCert, makeIntermediate, makeRoot, T0, type TestCert } from '../../helpers/pki.js';
import { alice, chainLinks, owner } from './chain.js';
import { artifacts, layout, linkName, sign, step } from './fixtures.js';

const BUILDER = 'spiffe://corp.example/ci/builder';
const failed = (r: VerificationReport) => r.checks.filter((c) => !c.ok);

let root: TestCert;
let inter: TestCert;
let otherRoot: TestCert;

before(async () => {
  root = await makeRoot('corp');
  inter = await makeIntermediate(root, 'corp ci');
  otherRoot = await makeRoot('elsewhere');
});

const spiffe = (id: string, roots: string[] = [caEntry(root).keyid]): CertificateConstraint => uriConstraint(id, roots);

/** code is signed off by alice's static key; build by whoever the constraints accept. */
function mixedLayout(
  o: { constraints?: CertificateConstraint[]; threshold?: number; pubkeys?: string[]; intermediates?: TestCert[]; roots?: TestCert[] } = {},
): Layout {
  const l = layout(
    [
      step({ name: 'code', keys: [alice()], products: ['CREATE src/*', 'DISALLOW *'] }),
      {
        ...step({
          name: 'build',
          keys: [],
          threshold: o.threshold ?? 1,
          materials: ['MATCH src/* WITH PRODUCTS FROM code', 'DISALLOW *'],
          products: ['CREATE hello', 'DISALLOW *'],
        }),
        pubkeys: o.pubkeys ?? [],
        cert_constraints: o.constraints ?? [spiffe(BUILDER)],
      },
    ],
    [alice()],
  );
  l.rootcas = Object.fromEntries((o.roots ?? [root]).map((r) => [caEntry(r).keyid, caEntry(r).dict as unknown as KeyDict]));
  if (o.intermediates)
    l.intermediatecas = Object.fromEntries(o.intermediates.map((r) => [caEntry(r).keyid, caEntry(r).dict as unknown as KeyDict]));
  return l;
}

const svid = (id: string, issuer: TestCert = root, o: Parameters<typeof makeCert>[0] = {}) =>
  makeCert({ subject: 'O=corp', issuer, uris: [id], ...o });

function buildLink(change?: (l: Link) => void): Link {
  const l = chainLinks().build!;
  change?.(l);
  return l;
}

/** The link files of a run: alice's code link, plus the given build links by file name. */
function files(builds: Record<string, object>): Record<string, object> {
  const code = chainLinks().code!;
  return { [linkName('code', alice())]: sign(code, [alice()]), ...builds };
}

function certLink(c: TestCert, l: Link = buildLink()): [string, object] {
  const s = certSigner(c);
  return [`build.${s.keyid.slice(0, 8)}.link`, signMetablock(l, [s])];
}

/** Verifies at `verifyTime` (the frozen T0 by default; null: the clock, as without --verify-time). */
async function run(l: Layout, links: Record<string, object>, verifyTime: Date | null = T0): Promise<VerificationReport> {
  return verify({
    layout: sign(l, [owner()]),
    layoutKeys: [owner().publicKey],
    links,
    runInspections: false,
    ...(verifyTime ? { verifyTime } : {}),
  });
}

describe('verify: links signed by certificates', () => {
  it('a static-key step and a SPIFFE step pass; the report names the SPIFFE ID and the time used', async () => {
    const r = await run(mixedLayout(), files(Object.fromEntries([certLink(await svid(BUILDER))])));
    const text = formatReport(r);
    assert.equal(r.ok, true, text);
    assert.match(text, /^✓ build: 1 of 1 link signed by spiffe:\/\/corp\.example\/ci\/builder$/m);
    assert.match(text, /^✓ code: 1 of 1 required link by distinct authorized functionaries/m);
    assert.match(text, /^✓ certificates checked at 2026-03-01T12:00:00Z \(--verify-time\)/m);
    const check = r.checks.find((c) => c.step === 'build' && c.id === 'step-links')!;
    const [detail] = check.details!.certificates as { identity: string; root: string }[];
    assert.equal(detail!.identity, BUILDER);
    assert.equal(detail!.root, caEntry(root).keyid);
  });

  it('without --verify-time the certificates are checked at verification time, and says so', async () => {
    const now = new Date();
    const issuer = await makeRoot('now', { notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + 3600_000) });
    const leaf = await makeCert({
      issuer,
      uris: [BUILDER],
      notBefore: new Date(now.getTime() - 60_000),
      notAfter: new Date(now.getTime() + 600_000),
    });
    const r = await run(
      mixedLayout({ roots: [issuer], constraints: [spiffe(BUILDER, ['*'])] }),
      files(Object.fromEntries([certLink(leaf)])),
      null,
    );
    assert.equal(r.ok, true, formatReport(r));
    assert.match(formatReport(r), /^✓ certificates checked at \S+ \(verification time\)/m);
  });

  it('another SPIFFE ID fails, naming it and what the step requires', async () => {
    const r = await run(mixedLayout(), files(Object.fromEntries([certLink(await svid('spiffe://corp.example/ci/rogue'))])));
    assert.equal(r.ok, false);
    const [bad] = failed(r);
    assert.equal(bad!.step, 'build');
    assert.match(
      bad!.message,
      /^0 of 1 link signed by an authorized functionary; build\.[0-9a-f]{8}\.link: link by spiffe:\/\/corp\.example\/ci\/rogue does not satisfy build's constraints \(uris must be \[spiffe:\/\/corp\.example\/ci\/builder\]\)$/,
    );
  });

  it('a certificate from another CA does not chain to a trusted root', async () => {
    const r = await run(mixedLayout(), files(Object.fromEntries([certLink(await svid(BUILDER, otherRoot))])));
    assert.equal(r.ok, false);
    assert.match(failed(r)[0]!.message, /certificate of spiffe:\/\/corp\.example\/ci\/builder does not chain to a trusted root/);
  });

  it('a chain through an intermediate CA: carried in the link, or given by the layout', async () => {
    const carried = await svid(BUILDER, inter, { carried: [inter] });
    assert.equal((await run(mixedLayout(), files(Object.fromEntries([certLink(carried)])))).ok, true);
    const bare = await svid(BUILDER, inter);
    const missing = await run(mixedLayout(), files(Object.fromEntries([certLink(bare)])));
    assert.equal(missing.ok, false);
    assert.match(failed(missing)[0]!.message, /does not chain to a trusted root/);
    const viaLayout = await run(mixedLayout({ intermediates: [inter] }), files(Object.fromEntries([certLink(bare)])));
    assert.equal(viaLayout.ok, true, formatReport(viaLayout));
  });

  it("an intermediate given to verify (in-toto-golang's verify -i) completes the chain; it adds no root", async () => {
    const bare = await svid(BUILDER, inter);
    const given = await verify({
      layout: sign(mixedLayout(), [owner()]),
      layoutKeys: [owner().publicKey],
      links: files(Object.fromEntries([certLink(bare)])),
      runInspections: false,
      verifyTime: T0,
      intermediateCerts: [inter.pem],
    });
    assert.equal(given.ok, true, formatReport(given));
    // a root given as an "intermediate" is not trusted: the chain must end at one of the layout's rootcas
    const rogue = await svid(BUILDER, otherRoot);
    const notTrusted = await verify({
      layout: sign(mixedLayout(), [owner()]),
      layoutKeys: [owner().publicKey],
      links: files(Object.fromEntries([certLink(rogue)])),
      runInspections: false,
      verifyTime: T0,
      intermediateCerts: [otherRoot.pem],
    });
    assert.equal(notTrusted.ok, false);
    assert.match(failed(notTrusted)[0]!.message, /does not chain to a trusted root/);
  });

  it('an expired certificate (leaf or intermediate) fails at the given time, passes before', async () => {
    const leaf = await svid(BUILDER, root, { notAfter: new Date(T0.getTime() + 60_000) });
    const links = files(Object.fromEntries([certLink(leaf)]));
    assert.equal((await run(mixedLayout(), links, T0)).ok, true);
    const late = await run(mixedLayout(), links, new Date(T0.getTime() + 120_000));
    assert.equal(late.ok, false);
    assert.match(
      failed(late)[0]!.message,
      /certificate of spiffe:\/\/corp\.example\/ci\/builder is not valid: leaf certificate expired at 2026-03-01T12:01:00\.000Z \(certificates checked at 2026-03-01T12:02:00Z\)/,
    );

    const shortInter = await makeIntermediate(root, 'short', { notAfter: new Date(T0.getTime() + 60_000) });
    const leaf2 = await svid(BUILDER, shortInter, { carried: [shortInter] });
    const r2 = await run(mixedLayout(), files(Object.fromEntries([certLink(leaf2)])), new Date(T0.getTime() + 120_000));
    assert.match(failed(r2)[0]!.message, /is not valid: intermediate .* expired/);
  });

  it('an altered link: the signature does not verify', async () => {
    const [name, doc] = certLink(await svid(BUILDER));
    (doc as { signed: Link }).signed.products = artifacts({ hello: 'evil binary' });
    const r = await run(mixedLayout(), files({ [name]: doc }));
    assert.equal(r.ok, false);
    assert.match(
      failed(r)[0]!.message,
      /signature does not verify with the key of its certificate \(spiffe:\/\/corp\.example\/ci\/builder\)/,
    );
  });

  it('a static key cannot sign a step that requires an identity', async () => {
    const r = await run(mixedLayout(), files({ [linkName('build', alice())]: sign(buildLink(), [alice()]) }));
    assert.equal(r.ok, false);
    assert.match(
      failed(r)[0]!.message,
      new RegExp(
        `build\\.${alice().keyid.slice(0, 8)}\\.link: is signed by key ${alice().keyid.slice(0, 8)} without a certificate; build requires a signer identity \\(spiffe://corp\\.example/ci/builder\\)`,
      ),
    );
  });

  it('the file name decides nothing; a link of another step does not count', async () => {
    const c = await svid(BUILDER);
    const s = certSigner(c);
    const renamed = await run(mixedLayout(), files({ 'build.whatever.link': signMetablock(buildLink(), [s]) }));
    assert.equal(renamed.ok, true, formatReport(renamed));
    const other = await run(
      mixedLayout(),
      files({
        'build.whatever.link': signMetablock(
          buildLink((l) => (l.name = 'package')),
          [s],
        ),
      }),
    );
    assert.equal(other.ok, false);
    assert.match(failed(other)[0]!.message, /is the link of step 'package', not of build/);
  });

  it('thresholds count distinct identities, not distinct short-lived keys', async () => {
    const twoKeys = files(Object.fromEntries([certLink(await svid(BUILDER)), certLink(await svid(BUILDER))]));
    const r = await run(
      mixedLayout({ threshold: 2, constraints: [spiffe(BUILDER), spiffe('spiffe://corp.example/ci/builder-2')] }),
      twoKeys,
    );
    assert.equal(r.ok, false);
    assert.match(
      failed(r)[0]!.message,
      /^1 of 2 links signed by spiffe:\/\/corp\.example\/ci\/builder; .*is another link by spiffe:\/\/corp\.example\/ci\/builder, which counts once/,
    );

    const two = files(Object.fromEntries([certLink(await svid(BUILDER)), certLink(await svid('spiffe://corp.example/ci/builder-2'))]));
    const ok = await run(mixedLayout({ threshold: 2, constraints: [spiffe(BUILDER), spiffe('spiffe://corp.example/ci/builder-2')] }), two);
    assert.equal(ok.ok, true, formatReport(ok));
  });

  it('pubkeys and cert_constraints on one step: either kind of signer counts toward the threshold', async () => {
    const l = mixedLayout({ threshold: 2, pubkeys: [alice().keyid] });
    const both = files({
      [linkName('build', alice())]: sign(buildLink(), [alice()]),
      ...Object.fromEntries([certLink(await svid(BUILDER))]),
    });
    const r = await run(l, both);
    assert.equal(r.ok, true, formatReport(r));
    assert.match(
      formatReport(r),
      new RegExp(`^✓ build: 2 of 2 links signed by ${alice().keyid.slice(0, 8)}, spiffe://corp\\.example/ci/builder$`, 'm'),
    );
  });

  it('a functionary key that is also a certificate the constraints accept is one signer, not two', async () => {
    const c = await svid(BUILDER);
    const s = certSigner(c);
    const l = mixedLayout({ threshold: 2, pubkeys: [s.keyid] });
    l.keys[s.keyid] = s.publicKey.toDict();
    const r = await run(l, files({ [`build.${s.keyid.slice(0, 8)}.link`]: signMetablock(buildLink(), [s]) }));
    assert.equal(r.ok, false);
    assert.match(failed(r)[0]!.message, /^1 of 2 links signed by [0-9a-f]{8}$/);
  });

  it('constraints on other names: a certificate without a URI is named by its subject', async () => {
    const c = await makeCert({ subject: 'CN=release-bot, O=Corp', issuer: root, emails: ['bot@corp.example'] });
    const constraint: CertificateConstraint = {
      common_name: 'release-bot',
      dns_names: [],
      emails: ['bot@corp.example'],
      organizations: ['Corp'],
      roots: ['*'],
      uris: [],
    };
    const r = await run(mixedLayout({ constraints: [constraint] }), files(Object.fromEntries([certLink(c)])));
    assert.equal(r.ok, true, formatReport(r));
    assert.match(formatReport(r), /^✓ build: 1 of 1 link signed by CN=release-bot, O=Corp$/m);
    const wrongOrg = await run(
      mixedLayout({ constraints: [{ ...constraint, organizations: ['Other'] }] }),
      files(Object.fromEntries([certLink(c)])),
    );
    assert.match(
      failed(wrongOrg)[0]!.message,
      /link by CN=release-bot, O=Corp does not satisfy build's constraints \(organizations must be \[Other\], not \[Corp\]\)/,
    );
  });

  it('roots: a constraint naming another of the layout roots refuses a chain to this one', async () => {
    const l = mixedLayout({ roots: [root, otherRoot], constraints: [spiffe(BUILDER, [caEntry(otherRoot).keyid])] });
    const r = await run(l, files(Object.fromEntries([certLink(await svid(BUILDER))])));
    assert.equal(r.ok, false);
    assert.match(failed(r)[0]!.message, /roots must include the root it chains to/);
  });

  it("roots: listing the chain's own root is enough; in-toto-golang would ask for all of the layout's roots", async () => {
    const links = files(Object.fromEntries([certLink(await svid(BUILDER))]));
    // in-toto-golang refuses this one ("cert has an unexpected root"): its roots must be exactly the layout's rootcas
    const own = await run(mixedLayout({ roots: [root, otherRoot], constraints: [spiffe(BUILDER, [caEntry(root).keyid])] }), links);
    assert.equal(own.ok, true, formatReport(own));
    // both accept a list of every root of the layout
    const all = await run(
      mixedLayout({ roots: [root, otherRoot], constraints: [spiffe(BUILDER, [caEntry(root).keyid, caEntry(otherRoot).keyid])] }),
      links,
    );
    assert.equal(all.ok, true, formatReport(all));
  });

  it("extended key usage as in-toto-golang verifies it: a restricted chain must allow serverAuth (Go's default) or any", async () => {
    const withUsage = async (leafUsages: string[] | undefined, issuer: TestCert = root, carried: TestCert[] = []) =>
      run(mixedLayout(), files(Object.fromEntries([certLink(await svid(BUILDER, issuer, { extKeyUsages: leafUsages, carried }))])));
    const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
    const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
    const CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
    const ANY = '2.5.29.37.0';
    // no extension, an X509-SVID's serverAuth + clientAuth, anyExtendedKeyUsage: accepted
    for (const usages of [undefined, [SERVER_AUTH, CLIENT_AUTH], [ANY], [CODE_SIGNING, ANY]]) {
      const r = await withUsage(usages);
      assert.equal(r.ok, true, `${String(usages)}: ${formatReport(r)}`);
    }
    // codeSigning alone, clientAuth alone: refused, as Go's x509.Verify refuses them with in-toto-golang's options
    for (const [usages, shown] of [
      [[CODE_SIGNING], 'codeSigning'],
      [[CLIENT_AUTH], 'clientAuth'],
      [['1.2.3.4'], '1.2.3.4'],
    ] as const) {
      const r = await withUsage([...usages]);
      assert.equal(r.ok, false, shown);
      const message = failed(r)[0]!.message;
      const expected = `certificate of ${BUILDER} is restricted to extended key usage ${shown}; a signer's chain must allow serverAuth or any usage, as in-toto-golang requires`;
      assert.ok(message.includes(expected), message);
    }
    // an intermediate restricted to codeSigning restricts the leaves below it too
    const codeCa = await makeIntermediate(root, 'code signing', { extKeyUsages: [CODE_SIGNING] });
    const below = await withUsage(undefined, codeCa, [codeCa]);
    assert.equal(below.ok, false);
    assert.match(
      failed(below)[0]!.message,
      /issuer \(.*code signing intermediate CA\) of the certificate of .* is restricted to extended key usage codeSigning/,
    );
  });

  it('a DSSE envelope signed by an SVID verifies the same way', async () => {
    const s = certSigner(await svid(BUILDER));
    const env = signLinkEnvelope(buildLink(), [s]);
    const r = await run(mixedLayout(), files({ [`build.${s.keyid.slice(0, 8)}.link`]: env }));
    assert.equal(r.ok, true, formatReport(r));
    const rogue = certSigner(await svid('spiffe://corp.example/ci/rogue'));
    const bad = await run(mixedLayout(), files({ [`build.${rogue.keyid.slice(0, 8)}.link`]: signLinkEnvelope(buildLink(), [rogue]) }));
    assert.match(failed(bad)[0]!.message, /link by spiffe:\/\/corp\.example\/ci\/rogue does not satisfy build's constraints/);
  });

  it('in-toto-golang CA entries: "public": "" beside the certificate, the keyid over the certificate\'s key', async () => {
    // in-toto-golang's own demo.layout writes rootcas/intermediatecas this way, and accepts it
    const golangStyle = (c: TestCert) => {
      const e = caEntry(c);
      const dict = e.dict as unknown as KeyDict;
      return [e.keyid, { ...dict, keyval: { public: '', certificate: dict.keyval.certificate! } }] as const;
    };
    const leaf = await svid(BUILDER, inter);
    const l = mixedLayout();
    l.rootcas = Object.fromEntries([golangStyle(root)]);
    l.intermediatecas = Object.fromEntries([golangStyle(inter)]);
    const r = await run(l, files(Object.fromEntries([certLink(leaf)])));
    assert.equal(r.ok, true, formatReport(r));
    // the keyid is still checked: listed under another keyid, the entry is refused
    l.rootcas = { ['ab'.repeat(32)]: { ...golangStyle(root)[1], keyid: 'ab'.repeat(32) } };
    await assert.rejects(run(l, files({})), /rootcas\["abab.*"\]\.keyid: is abab.*, but the key's computed keyid is /);
  });
});
