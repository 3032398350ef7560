// Which preliminary links `recordStop` finishes, on a frozen clock: its own key's; for an SVID, an earlier
// SVID of the same SPIFFE ID under the same trust bundle, valid when it signed and expired less than the
// longest step ago, even under an intermediate CA that rotated since. Every refusal says which it is.
// The same with the real server and agent: test/cli/record-svid-renewal.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePrivateKey } from '../../src/crypto/key-files.js';
import { PrivateKey } from '../../src/crypto/keys.js';
import { CertificateSigner, type Signer } from '../../src/crypto/signer.js';
import type { Link, Metablock } from '../../src/intoto/models/types.js';
import { recordStart, recordStop } from '../../src/intoto/runlib/record-step.js';
import { SpiffeId } from '../../src/spiffe/spiffeid/index.js';
import { svidIdentity } from '../../src/spiffe/x509svid/signer-identity.js';
import { HOUR, makeCa, makeCert, makeIntermediate, T0, type TestCa, type TestCert } from '../helpers/pki.js';

const EDITOR = 'spiffe://corp.example/ci/editor';
const at = (hours: number): Date => new Date(T0.getTime() + hours * HOUR);

let dir: string;
let ca: TestCa;
let inter1: TestCert;
let inter2: TestCert;
/** The SVID of record start: T0 to T0+1h under the first intermediate (which expires at T0+2h). */
let first: TestCert;
/** The SVID it was renewed to, under the intermediate that replaced the first. */
let renewed: TestCert;
let n = 0;

function svid(issuer: TestCert, from: number, to: number, id = EDITOR): Promise<TestCert> {
  return makeCert({ subject: 'CN=svid', issuer, uris: [id], notBefore: at(from), notAfter: at(to), carried: [issuer] });
}

/** Signs as the SVID would have, a second after it was issued. */
function signerOf(c: TestCert): CertificateSigner {
  return new CertificateSigner(
    new PrivateKey(c.key.privateKey),
    c.chainPem,
    c.cert.notAfter,
    () => new Date(c.cert.notBefore.getTime() + 1000),
  );
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'evident-record-stop-'));
  ca = await makeCa('corp.example', at(-2));
  inter1 = await makeIntermediate(ca, 'corp.example', { notBefore: at(-1), notAfter: at(2) });
  inter2 = await makeIntermediate(ca, 'corp.example', { notBefore: at(1), notAfter: at(5) });
  first = await svid(inter1, 0, 1);
  renewed = await svid(inter2, 1, 3);
});
after(() => rm(dir, { recursive: true, force: true }));

/** A fresh step folder with a preliminary link signed by `starter`. */
async function started(starter: Signer): Promise<string> {
  const step = join(dir, `step-${++n}`);
  await mkdir(step);
  await writeFile(join(step, 'input.txt'), 'materials\n');
  await recordStart({ name: 'edit', signer: starter, materials: ['input.txt'], collect: {}, cwd: step });
  return step;
}

const stopAsSvid = (step: string, starter: Signer, now: Date, maxStepDurationMs?: number): Promise<string> =>
  recordStop({
    name: 'edit',
    signer: signerOf(renewed),
    identity: svidIdentity(SpiffeId.parse(EDITOR), ca.bundle),
    preliminaryKeyid: starter.keyid,
    cwd: step,
    products: ['input.txt'],
    collect: {},
    now: () => now,
    ...(maxStepDurationMs ? { maxStepDurationMs } : {}),
  });

const refusal = (pattern: RegExp) => (e: Error & { code?: string }) => e.code === 'BAD_SIGNATURE' && pattern.test(e.message);

describe('recordStop with an SVID renewed since record start', () => {
  it('finishes the link of the earlier SVID after it and its intermediate expired', async () => {
    const step = await started(signerOf(first));
    const path = await stopAsSvid(step, signerOf(first), at(3));
    const link = JSON.parse(await readFile(path, 'utf8')) as Metablock<Link>;
    assert.equal(link.signatures[0]!.keyid, signerOf(renewed).keyid);
    assert.ok(link.signed.materials['input.txt']);
    assert.deepEqual(
      (await readdir(step)).filter((f) => f.endsWith('.link-unfinished')),
      [],
    );
  });

  it('refuses it when the earlier SVID expired longer ago than a step may take (24h unless told)', async () => {
    const step = await started(signerOf(first));
    await assert.rejects(
      stopAsSvid(step, signerOf(first), at(1 + 24 + 0.01)),
      refusal(/signed by a certificate that expired at 2026-03-01T13:00:00.000Z, more than 24h ago: longer than a step may take/),
    );
    await stopAsSvid(step, signerOf(first), at(1 + 24 + 0.01), 48 * HOUR);
  });

  it('refuses an SVID whose chain was never valid all at once (its intermediate expired before it began)', async () => {
    const late = await svid(inter1, 2.5, 3.5);
    const step = await started(signerOf(late));
    await assert.rejects(
      stopAsSvid(step, signerOf(late), at(4)),
      refusal(/: its certificate is not a valid X509-SVID \(.*not valid before/),
    );
  });

  it('refuses an SVID that is not valid yet', async () => {
    const future = await svid(inter2, 4, 4.5);
    const step = await started(signerOf(future));
    await assert.rejects(
      stopAsSvid(step, signerOf(future), at(3)),
      refusal(/its certificate is not a valid X509-SVID \(.*not valid before/),
    );
  });

  it("refuses an SVID of the same path in another trust domain, naming it, even when it chains to the bundle's CA", async () => {
    const foreign = await svid(inter1, 0, 1, 'spiffe://other.example/ci/editor');
    const step = await started(signerOf(foreign));
    await assert.rejects(
      stopAsSvid(step, signerOf(foreign), at(0.5)),
      refusal(
        /^the preliminary link is not signed by an SVID of spiffe:\/\/corp\.example\/ci\/editor: its certificate names spiffe:\/\/other\.example\/ci\/editor$/,
      ),
    );
  });

  it('refuses a preliminary link whose signature is not by the key of the certificate it carries', async () => {
    const step = await started(signerOf(first));
    const file = (await readdir(step)).find((f) => f.endsWith('.link-unfinished'))!;
    const mb = JSON.parse(await readFile(join(step, file), 'utf8')) as Metablock<Link>;
    mb.signatures[0]!.cert = renewed.chainPem; // a valid certificate of the identity, but not the signer's
    await writeFile(join(step, file), JSON.stringify(mb));
    await assert.rejects(stopAsSvid(step, signerOf(first), at(1.5)), refusal(/changed after record start: its signature does not verify/));
  });
});

describe('recordStop with a static key', () => {
  it('refuses a preliminary link signed by another key, naming both', async () => {
    const mine = generatePrivateKey('ed25519');
    const theirs = generatePrivateKey('ed25519');
    const step = await started(theirs);
    await assert.rejects(
      recordStop({ name: 'edit', signer: mine, preliminaryKeyid: theirs.keyid, cwd: step, products: [], collect: {} }),
      refusal(new RegExp(`not signed by this key \\(${mine.keyid.slice(0, 8)}\\) but by ${theirs.keyid.slice(0, 8)}`)),
    );
  });
});
