// Verifying at the signing time (docs/trusted-time.md): RFC 3161 tokens on link signatures, made by a real
// TSA over HTTP (startTsaServer + requestTimestamp) at a chosen genTime, checked against the layout's
// timestampauthorities. A token from a TSA the layout trusts lets a short-lived certificate's link verify
// after the certificate expired; anything wrong with the token is named in the reason.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyDict } from '../../../src/crypto/key-dict.js';
import type { DsseEnvelope } from '../../../src/crypto/dsse.js';
import { timestampedBytes } from '../../../src/crypto/signature-timestamps.js';
import { signLinkEnvelope, signMetablock } from '../../../src/intoto/models/metablock.js';
import { parseLayout } from '../../../src/intoto/models/layout.js';
import { pythonJsonDumps } from '../../../src/intoto/models/python-json.js';
import type { Layout, Metablock, Signature, Step } from '../../../src/intoto/models/types.js';
import { formatReport, verify, type VerificationReport } from '../../../src/intoto/verify/index.js';
import { loadSignedMetadata } from '../../../src/intoto/verify/metadata.js';
import { layoutTimestampTrust, signatureTimestamps } from '../../../src/intoto/verify/signature-time.js';
import { requestTimestamp } from '../../../src/time/client.js';
import { startTsaServer, type TsaServer } from '../../../src/time/http.js';
import { ManualClock } from '../../../src/util/clock.js';
import { caEntry, certSigner, makeCert, makeRoot, T0, uriConstraint, type TestCert } from '../../helpers/pki.js';
import { tsaPki, type TsaPki } from '../../time/helpers.js';
import { alice, chainLinks, owner } from './chain.js';
import { layout, linkName, sign, step } from './fixtures.js';

const BUILDER = 'spiffe://corp.example/ci/builder';
const MINUTE = 60_000;
/** The builder's certificate lives five minutes: T0 - 1 min to T0 + 5 min. */
const EXPIRES = new Date(T0.getTime() + 5 * MINUTE);
/** Well after the certificate expired, when the links are verified. */
const LATER = new Date(T0.getTime() + 60 * MINUTE);

let signerRoot: TestCert;
let leaf: TestCert;
let pki: TsaPki;
let rogue: TsaPki;
let tsa: { server: TsaServer; clock: ManualClock };
let rogueTsa: { server: TsaServer; clock: ManualClock };

async function serve(p: TsaPki): Promise<{ server: TsaServer; clock: ManualClock }> {
  const clock = new ManualClock(T0.getTime());
  const server = await startTsaServer({ authority: p.authority({ clock }) });
  return { server, clock };
}

before(async () => {
  signerRoot = await makeRoot('corp');
  leaf = await makeCert({
    subject: 'O=corp',
    issuer: signerRoot,
    uris: [BUILDER],
    notBefore: new Date(T0.getTime() - MINUTE),
    notAfter: EXPIRES,
  });
  pki = await tsaPki(T0);
  rogue = await tsaPki(T0);
  tsa = await serve(pki);
  rogueTsa = await serve(rogue);
});

after(async () => {
  await tsa?.server.close();
  await rogueTsa?.server.close();
});

const dict = (c: TestCert) => caEntry(c).dict as unknown as KeyDict;

/** code by alice's static key; build by the SPIFFE builder's certificate; the TSA root trusted for time-stamps. */
function tsLayout(o: { require?: 'code' | 'build'; tsaRoots?: TestCert[] } = {}): Layout {
  const code: Step = step({ name: 'code', keys: [alice()], products: ['CREATE src/*', 'DISALLOW *'] });
  const build: Step = {
    ...step({
      name: 'build',
      keys: [],
      materials: ['MATCH src/* WITH PRODUCTS FROM code', 'DISALLOW *'],
      products: ['CREATE hello', 'DISALLOW *'],
    }),
    cert_constraints: [uriConstraint(BUILDER, [caEntry(signerRoot).keyid])],
  };
  if (o.require === 'code') code.require_timestamps = true;
  if (o.require === 'build') build.require_timestamps = true;
  const l = layout([code, build], [alice()]);
  l.rootcas = { [caEntry(signerRoot).keyid]: dict(signerRoot) };
  const tsaRoots = o.tsaRoots ?? [pki.root];
  if (tsaRoots.length > 0) l.timestampauthorities = Object.fromEntries(tsaRoots.map((r) => [caEntry(r).keyid, dict(r)]));
  return l;
}

/** A token over a signature's bytes from `from`, its clock at `at`. */
async function token(sig: string, encoding: 'hex' | 'base64', at: Date, from = tsa): Promise<string> {
  from.clock.set(at.getTime());
  return (await requestTimestamp(from.server.url, timestampedBytes(sig, encoding))).toString('base64');
}

/** The builder's metablock link, its signature carrying tokens made at each of `times` (by the trusted TSA unless given). */
async function buildLink(times: Array<Date | { at: Date; from: typeof tsa }> = [new Date(T0.getTime() + MINUTE)]): Promise<Metablock> {
  const doc = signMetablock(chainLinks().build!, [certSigner(leaf)]);
  const s = doc.signatures[0]!;
  s.timestamps = [];
  for (const t of times) {
    const { at, from } = t instanceof Date ? { at: t, from: tsa } : t;
    s.timestamps.push({ type: 'tsp', data: await token(s.sig!, 'hex', at, from) });
  }
  if (s.timestamps.length === 0) delete s.timestamps;
  return doc;
}

function codeLink(withToken?: { at: Date; from?: typeof tsa }): Promise<Metablock> | Metablock {
  const doc = sign(chainLinks().code!, [alice()]);
  if (withToken === undefined) return doc;
  const s = doc.signatures[0]!;
  return token(s.sig!, 'hex', withToken.at, withToken.from).then((data) => {
    s.timestamps = [{ type: 'tsp', data }];
    return doc;
  });
}

async function run(l: Layout, build: object, o: { at?: Date; code?: object } = {}): Promise<VerificationReport> {
  return verify({
    layout: sign(l, [owner()]),
    layoutKeys: [owner().publicKey],
    links: { [linkName('code', alice())]: o.code ?? (await codeLink()), 'build.builder.link': build },
    runInspections: false,
    verifyTime: o.at ?? LATER,
  });
}

const stepLine = (r: VerificationReport, name: string) => r.checks.find((c) => c.id === 'step-links' && c.step === name)!;

describe('verify: link signatures with RFC 3161 timestamps', () => {
  it('a token from a trusted TSA made while the certificate was valid: the link verifies after it expired, and the report says when and by whom', async () => {
    const r = await run(tsLayout(), await buildLink());
    const text = formatReport(r);
    assert.equal(r.ok, true, text);
    assert.match(
      text,
      /^✓ build: 1 of 1 link signed by spiffe:\/\/corp\.example\/ci\/builder \(timestamped 2026-03-01T12:01:00Z by O=evident, CN=test TSA\)$/m,
    );
    assert.match(
      text,
      /^✓ certificates checked at the genTime of a valid timestamp on their signature, else at 2026-03-01T13:00:00Z \(--verify-time\)$/m,
    );
    // the static-key step's line is as it always was
    assert.match(text, /^✓ code: 1 of 1 required link by distinct authorized functionaries \([0-9a-f]{8}\)$/m);
    const details = stepLine(r, 'build').details as { certificates: { checkedAt: string }[]; timestamps: Record<string, unknown>[] };
    assert.equal(details.certificates[0]!.checkedAt, '2026-03-01T12:01:00.000Z');
    assert.deepEqual(
      { ...details.timestamps[0], serial: undefined },
      {
        signer: BUILDER,
        timestamp: 1,
        genTime: '2026-03-01T12:01:00.000Z',
        tsa: 'O=evident, CN=test TSA',
        root: caEntry(pki.root).keyid,
        serial: undefined,
        policy: '2.999.3161.1',
        file: 'build.builder.link',
      },
    );
  });

  it('the same link as a file (its canonical text, read packed) verifies too', async () => {
    const r = await run(tsLayout(), pythonJsonDumps(await buildLink()) as unknown as object);
    assert.equal(r.ok, true, formatReport(r));
    assert.match(formatReport(r), /timestamped 2026-03-01T12:01:00Z/);
  });

  it('with the token removed it fails: the certificate expired', async () => {
    const r = await run(tsLayout(), await buildLink([]));
    assert.equal(r.ok, false);
    assert.match(
      stepLine(r, 'build').message,
      /^0 of 1 link signed by an authorized functionary; build\.builder\.link: certificate of spiffe:\/\/corp\.example\/ci\/builder is not valid: leaf certificate expired at 2026-03-01T12:05:00\.000Z \(certificates checked at 2026-03-01T13:00:00Z\)$/,
    );
  });

  it('with the token altered it fails, naming the token', async () => {
    const doc = await buildLink();
    const t = doc.signatures[0]!.timestamps![0]!;
    const der = Buffer.from(t.data, 'base64');
    der[der.length - 3]! ^= 0x01; // inside the TSA's signature, the last field of the token
    t.data = der.toString('base64');
    const r = await run(tsLayout(), doc);
    assert.equal(r.ok, false);
    assert.match(
      stepLine(r, 'build').message,
      /certificate of spiffe:\/\/corp\.example\/ci\/builder is not valid: leaf certificate expired at .* \(certificates checked at 2026-03-01T13:00:00Z\); timestamp 1 of signature by spiffe:\/\/corp\.example\/ci\/builder: is not a valid token, it may have been altered \(the token's signature does not verify with the TSA certificate's key\)$/,
    );
  });

  it('a token that is not a token at all is named too', async () => {
    const doc = await buildLink();
    doc.signatures[0]!.timestamps = [{ type: 'tsp', data: Buffer.from('not DER').toString('base64') }];
    const r = await run(tsLayout(), doc);
    assert.equal(r.ok, false);
    assert.match(
      stepLine(r, 'build').message,
      /timestamp 1 of signature by spiffe:\/\/corp\.example\/ci\/builder: is not a readable RFC 3161 time-stamp token/,
    );
  });

  it('a token from a TSA the layout does not trust fails, naming it', async () => {
    const r = await run(tsLayout(), await buildLink([{ at: new Date(T0.getTime() + MINUTE), from: rogueTsa }]));
    assert.equal(r.ok, false);
    assert.match(
      stepLine(r, 'build').message,
      /; timestamp 1 of signature by spiffe:\/\/corp\.example\/ci\/builder: not signed by a TSA the layout trusts \(the TSA certificate is not trusted at genTime 2026-03-01T12:01:00\.000Z: certificate signed by unknown authority\)$/,
    );
  });

  it('a token over another signature (copied from another link) fails: its imprint is not this signature', async () => {
    const other = await buildLink();
    const doc = await buildLink([]);
    doc.signatures[0]!.timestamps = other.signatures[0]!.timestamps!;
    assert.notEqual(doc.signatures[0]!.sig, other.signatures[0]!.sig); // ECDSA: every signature differs
    const r = await run(tsLayout(), doc);
    assert.equal(r.ok, false);
    assert.match(stepLine(r, 'build').message, /timestamp 1 of signature by spiffe:\/\/\S+: time-stamps other bytes than this signature/);
  });

  it('an untrusted token and a trusted one: the trusted one counts, and the report names it', async () => {
    const doc = await buildLink([
      { at: new Date(T0.getTime() + MINUTE), from: rogueTsa },
      { at: new Date(T0.getTime() + 2 * MINUTE), from: tsa },
    ]);
    const r = await run(tsLayout(), doc);
    assert.equal(r.ok, true, formatReport(r));
    assert.match(formatReport(r), /builder \(timestamped 2026-03-01T12:02:00Z by O=evident, CN=test TSA\)$/m);
    assert.equal((stepLine(r, 'build').details as { timestamps: { timestamp: number }[] }).timestamps[0]!.timestamp, 2);
  });

  it('back-dating with an expired key: a real token made after the certificate expired is refused', async () => {
    // whoever holds the expired key signs now and asks an honest TSA: the genTime is after the expiry
    const r = await run(tsLayout(), await buildLink([new Date(EXPIRES.getTime() + 5 * MINUTE)]));
    assert.equal(r.ok, false);
    assert.match(
      stepLine(r, 'build').message,
      /certificate of spiffe:\/\/corp\.example\/ci\/builder is not valid: leaf certificate expired at 2026-03-01T12:05:00\.000Z \(certificates checked at 2026-03-01T12:10:00Z, the genTime of timestamp 1 by O=evident, CN=test TSA\); nor: leaf certificate expired at 2026-03-01T12:05:00\.000Z \(certificates checked at 2026-03-01T13:00:00Z\)$/,
    );
  });

  it('a layout that trusts no TSA ignores tokens: the certificate is checked at verification time, as before', async () => {
    const expired = await run(tsLayout({ tsaRoots: [] }), await buildLink());
    assert.equal(expired.ok, false);
    assert.match(
      stepLine(expired, 'build').message,
      /is not valid: leaf certificate expired .* \(certificates checked at 2026-03-01T13:00:00Z\)$/,
    );
    const valid = await run(tsLayout({ tsaRoots: [] }), await buildLink(), { at: T0 });
    assert.equal(valid.ok, true, formatReport(valid));
    assert.match(formatReport(valid), /^✓ build: 1 of 1 link signed by spiffe:\/\/corp\.example\/ci\/builder$/m);
    assert.match(formatReport(valid), /links carry no attested signing time/);
  });

  describe('require_timestamps', () => {
    it('a certificate signature without a token is refused, even while the certificate is valid', async () => {
      const r = await run(tsLayout({ require: 'build' }), await buildLink([]), { at: T0 });
      assert.equal(r.ok, false);
      assert.match(
        stepLine(r, 'build').message,
        /build\.builder\.link: build requires timestamps and the signature by spiffe:\/\/corp\.example\/ci\/builder has none$/,
      );
    });

    it('with an untrusted token only, the reason names the token', async () => {
      const r = await run(tsLayout({ require: 'build' }), await buildLink([{ at: T0, from: rogueTsa }]), { at: T0 });
      assert.equal(r.ok, false);
      assert.match(
        stepLine(r, 'build').message,
        /build requires timestamps and the signature by spiffe:\/\/corp\.example\/ci\/builder has no valid one; timestamp 1 of signature by spiffe:\/\/corp\.example\/ci\/builder: not signed by a TSA the layout trusts/,
      );
    });

    it('with a trusted token it verifies', async () => {
      const r = await run(tsLayout({ require: 'build' }), await buildLink());
      assert.equal(r.ok, true, formatReport(r));
    });

    it('--verify-time replays the verdict as of T: a token made after T did not exist then', async () => {
      const at = new Date(T0.getTime() + 30_000);
      const r = await run(tsLayout({ require: 'build' }), await buildLink([new Date(T0.getTime() + MINUTE)]), { at });
      assert.equal(r.ok, false);
      assert.match(
        stepLine(r, 'build').message,
        /timestamp 1 of signature by spiffe:\/\/\S+: its genTime 2026-03-01T12:01:00Z is after the verification time 2026-03-01T12:00:30Z \(--verify-time\), when it did not exist yet$/,
      );
      // without the requirement the certificate is simply checked at T, when it was valid
      assert.equal((await run(tsLayout(), await buildLink([new Date(T0.getTime() + MINUTE)]), { at })).ok, true);
    });

    it('a static key: counted with a valid token (the report says when), refused without one', async () => {
      const build = await buildLink();
      const withToken = await run(tsLayout({ require: 'code' }), build, { code: await codeLink({ at: T0 }) });
      assert.equal(withToken.ok, true, formatReport(withToken));
      const keyid = alice().keyid.slice(0, 8);
      assert.match(
        formatReport(withToken),
        new RegExp(
          `^✓ code: 1 of 1 required link by distinct authorized functionaries \\(${keyid} \\(timestamped 2026-03-01T12:00:00Z by O=evident, CN=test TSA\\)\\)$`,
          'm',
        ),
      );
      const without = await run(tsLayout({ require: 'code' }), build);
      assert.equal(without.ok, false);
      assert.match(stepLine(without, 'code').message, new RegExp(`code requires timestamps and the signature by key ${keyid} has none$`));
      const untrusted = await run(tsLayout({ require: 'code' }), build, { code: await codeLink({ at: T0, from: rogueTsa }) });
      assert.equal(untrusted.ok, false);
      assert.match(
        stepLine(untrusted, 'code').message,
        new RegExp(`timestamp 1 of signature by ${keyid}: not signed by a TSA the layout trusts`),
      );
    });
  });

  it('static-key signatures with tokens verify as before when their step does not require them (tokens unchecked)', async () => {
    const r = await run(tsLayout(), await buildLink(), { code: await codeLink({ at: T0, from: rogueTsa }) });
    assert.equal(r.ok, true, formatReport(r));
    assert.match(formatReport(r), /^✓ code: 1 of 1 required link by distinct authorized functionaries \([0-9a-f]{8}\)$/m);
  });

  describe('DSSE links', () => {
    async function envelope(at: Date | undefined, from = tsa): Promise<DsseEnvelope> {
      const env = signLinkEnvelope(chainLinks().build!, [certSigner(leaf)]);
      const s = env.signatures[0]!;
      if (at !== undefined) s.timestamps = [{ type: 'tsp', data: await token(s.sig, 'base64', at, from) }];
      return env;
    }

    it('a token over the base64-decoded signature: verifies after the certificate expired', async () => {
      const r = await run(tsLayout(), await envelope(new Date(T0.getTime() + MINUTE)));
      assert.equal(r.ok, true, formatReport(r));
      assert.match(formatReport(r), /builder \(timestamped 2026-03-01T12:01:00Z by O=evident, CN=test TSA\)$/m);
    });

    it('without it, or with a token over the signature read as hex, it fails', async () => {
      assert.equal((await run(tsLayout(), await envelope(undefined))).ok, false);
      const env = await envelope(undefined);
      const s = env.signatures[0]! as Signature;
      // hex-decoding base64 gives other bytes: the imprint is not this signature's
      s.timestamps = [{ type: 'tsp', data: await token(s.sig, 'hex', new Date(T0.getTime() + MINUTE)) }];
      const r = await run(tsLayout(), env);
      assert.equal(r.ok, false);
      assert.match(stepLine(r, 'build').message, /timestamp 1 of signature by \S+: time-stamps other bytes than this signature/);
    });

    it('tokens on another signature entry of the envelope (by another key) do not count for this one', async () => {
      const env = await envelope(undefined);
      const other = signLinkEnvelope(chainLinks().build!, [alice()]);
      const s = other.signatures[0]!;
      s.timestamps = [{ type: 'tsp', data: await token(s.sig, 'base64', new Date(T0.getTime() + MINUTE)) }];
      // no keyid: DSSE then tries the entry with every key, and only its signature says whose it is
      env.signatures.push({ ...s, keyid: '' });
      const r = await run(tsLayout(), env);
      assert.equal(r.ok, false);
      assert.match(
        stepLine(r, 'build').message,
        /is not valid: leaf certificate expired at \S+ \(certificates checked at 2026-03-01T13:00:00Z\)$/,
      );
    });
  });
});

describe('signatureTimestamps', () => {
  it('verifies each token once per layout: a link read again has its verdict from the cache', async () => {
    const l = parseLayout(tsLayout());
    const trust = layoutTimestampTrust(l)!;
    const doc = await buildLink([new Date(T0.getTime() + MINUTE), { at: T0, from: rogueTsa }]);
    const key = certSigner(leaf).publicKey;
    const at = { time: LATER, given: true };
    const first = signatureTimestamps(loadSignedMetadata(structuredClone(doc)), key, BUILDER, trust, at);
    assert.equal(trust.verdicts.size, 2);
    // the same file parsed again (new objects): the same verdicts, none verified anew
    const again = signatureTimestamps(loadSignedMetadata(structuredClone(doc)), key, BUILDER, trust, at);
    assert.equal(trust.verdicts.size, 2);
    assert.deepEqual(again, first);
    assert.equal(first.valid.length, 1);
    assert.match(
      first.problems[0]!,
      /^timestamp 2 of signature by spiffe:\/\/corp\.example\/ci\/builder: not signed by a TSA the layout trusts/,
    );
    // another key's signature: its tokens are not this signer's
    assert.deepEqual(signatureTimestamps(loadSignedMetadata(structuredClone(doc)), alice().publicKey, 'alice', trust, at), {
      valid: [],
      problems: [],
    });
  });
});

describe('layout: timestampauthorities and require_timestamps', () => {
  const parse = (l: unknown) => () => parseLayout(l, 'root.layout');

  it('a layout with both parses, and keeps them as written (false too)', () => {
    const l = tsLayout({ require: 'build' });
    l.steps[0]!.require_timestamps = false;
    const parsed = parseLayout(structuredClone(l));
    assert.deepEqual(parsed.timestampauthorities, l.timestampauthorities);
    assert.equal(parsed.steps[0]!.require_timestamps, false);
    assert.equal(parsed.steps[1]!.require_timestamps, true);
  });

  it('a TSA certificate (not a CA), a CA for other purposes, or a malformed certificate are refused, naming the field', async () => {
    const l = tsLayout();
    l.timestampauthorities = { [caEntry(pki.tsa).keyid]: dict(pki.tsa) };
    assert.throws(
      parse(l),
      new RegExp(
        `timestampauthorities\\["${caEntry(pki.tsa).keyid}"\\]\\.keyval\\.certificate: is a TSA's own certificate, not a CA certificate: give the CA that issues it`,
      ),
    );
    const webCa = await makeRoot('web', { extKeyUsages: ['1.3.6.1.5.5.7.3.1'] });
    l.timestampauthorities = { [caEntry(webCa).keyid]: dict(webCa) };
    assert.throws(
      parse(l),
      /keyval\.certificate: is a CA restricted to other extended key usages \(1\.3\.6\.1\.5\.5\.7\.3\.1\), which cannot issue a TSA's certificate/,
    );
    const broken = structuredClone(dict(pki.root));
    broken.keyval.certificate = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    l.timestampauthorities = { [caEntry(pki.root).keyid]: broken };
    assert.throws(parse(l), /timestampauthorities\[".*"\]\.keyval\.certificate: is not a PEM certificate/);
    l.timestampauthorities = [] as unknown as Layout['timestampauthorities'];
    assert.throws(parse(l), /timestampauthorities: must be an object of keyid → public key, not a list/);
  });

  it('require_timestamps must be a boolean, and needs a TSA to check against', () => {
    const l = tsLayout({ require: 'build', tsaRoots: [] });
    assert.throws(parse(l), /steps\[1\]\.require_timestamps: the layout trusts no time-stamping authority \(timestampauthorities\)/);
    const m = tsLayout();
    (m.steps[1] as unknown as Record<string, unknown>).require_timestamps = 'yes';
    assert.throws(parse(m), /steps\[1\]\.require_timestamps: must be true or false, not a string/);
  });
});
