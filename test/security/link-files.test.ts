/**
 * Stray files in the link folder must not stop `verify`: a FIFO named like a link used to make it wait
 * forever for a writer (so did a FIFO given as a key file); a link nested a hundred thousand levels deep
 * overflowed the stack of the canonical-JSON scanner (or of the encoder, for a text not in canonical
 * order); a certificate with a malformed extension threw out of the certificate checks. Each ended as a
 * hang or as exit 70 with a stack trace. Each is now one failed check naming the file and the problem.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from '../helpers/child-process.js';
import { closeSync, constants, openSync, symlinkSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { canonicalJsonBytes } from '../../src/crypto/canonical-json.js';
import type { KeyDict } from '../../src/crypto/key-dict.js';
import { PrivateKey } from '../../src/crypto/keys.js';
import { saveKeyPair } from '../../src/crypto/key-files.js';
import { signMetablock } from '../../src/intoto/models/metablock.js';
import type { CertificateConstraint, Layout } from '../../src/intoto/models/types.js';
import { formatReport, verify, type VerificationReport } from '../../src/intoto/verify/index.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import {
  caEntry,
  certSigner,
  makeCert,
  makeIntermediate,
  makeRoot,
  T0,
  type RawExtension,
  type TestCert,
  uriConstraint,
} from '../helpers/pki.js';
import { bob, chainLinks, owner } from '../intoto/verify/chain.js';
import { layout, linkName, put, sign, step, tempDir, type TempDir } from '../intoto/verify/fixtures.js';

const WAIT_MS = 5000;
const TIMEOUT = { timeout: 30_000 };
const BUILDER = 'spiffe://corp.example/ci/builder';

/**
 * `work`, or a failure when it is still waiting after WAIT_MS. A reader blocked in open(2) on a FIFO
 * would keep the process alive for good: the FIFOs are then opened for writing (again and again, until
 * the work ends), which lets every blocked open return.
 */
async function promptly<T>(work: Promise<T>, fifos: readonly string[]): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), WAIT_MS)));
  const first = await Promise.race([work, hung]);
  clearTimeout(timer);
  if (first !== 'hung') return first;
  const unblock = setInterval(() => {
    for (const fifo of fifos) {
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // no reader waiting at this instant
      }
    }
  }, 20);
  try {
    await work.catch(() => {});
  } finally {
    clearInterval(unblock);
  }
  assert.fail(`still waiting after ${WAIT_MS} ms: it blocked opening a FIFO`);
}

function mkfifo(path: string): string {
  execFileSync('mkfifo', [path]);
  return path;
}

/** The step `build`, by bob's key, with no rules: only its link counts. */
const buildLayout = (): Layout => layout([step({ name: 'build', keys: [bob()] })], [bob()]);

const verifyDir = (l: Layout, linkDir: string, extra: { verifyTime?: Date } = {}) =>
  verify({ layout: sign(l, [owner()]), layoutKeys: [owner().publicKey], linkDir, runInspections: false, ...extra });

const failedLine = (r: VerificationReport, step: string) =>
  formatReport(r)
    .split('\n')
    .find((l) => l.startsWith(`✗ ${step}: `)) ?? formatReport(r);

/** The CLI on `dir` (root.layout, owner.pub); `extra` flags after them. */
async function cliVerify(dir: string, extra: string[] = []): Promise<CliResult> {
  return runCli(['verify', '-l', 'root.layout', '-k', 'owner.pub', ...extra], { cwd: dir });
}

async function writeRoot(dir: string, l: Layout): Promise<void> {
  await put(dir, 'root.layout', sign(l, [owner()]));
  await saveKeyPair(owner(), join(dir, 'owner'));
}

function assertNoCrash(r: CliResult): void {
  assert.doesNotMatch(r.stderr, /internal error|RangeError|\n\s+at /, r.stderr);
}

let tmp: TempDir;
before(async () => {
  tmp = await tempDir('evident-link-files-');
});
after(async () => {
  await tmp.cleanup();
});

describe('a FIFO, socket, device or folder named like a link', () => {
  it('a FIFO as the functionary link: verify returns at once, the step fails naming it', TIMEOUT, async () => {
    const dir = join(tmp.dir, 'fifo-keyed');
    await mkdir(dir);
    const fifo = mkfifo(join(dir, linkName('build', bob())));
    const r = await promptly(verifyDir(buildLayout(), dir), [fifo]);
    assert.equal(r.ok, false);
    assert.match(
      failedLine(r, 'build'),
      new RegExp(`0 of 1 .*${linkName('build', bob()).replace(/\./g, '\\.')}: is not a regular file \\(a FIFO\\)`),
    );
  });

  it('a FIFO among the candidates of a certificate step (build.ffffffff.link): reported, not waited on', TIMEOUT, async () => {
    const dir = join(tmp.dir, 'fifo-cert');
    await mkdir(dir);
    const root = await makeRoot('corp');
    const fifo = mkfifo(join(dir, 'build.ffffffff.link'));
    const r = await promptly(verifyDir(certLayout(root), dir, { verifyTime: T0 }), [fifo]);
    assert.equal(r.ok, false);
    assert.match(failedLine(r, 'build'), /build\.ffffffff\.link: is not a regular file \(a FIFO\)/);
  });

  it('a socket, a device and a folder: each reported as not a regular file', TIMEOUT, async () => {
    const dir = join(tmp.dir, 'others');
    await mkdir(dir);
    const l = layout([step({ name: 'a', keys: [bob()] }), step({ name: 'b', keys: [bob()] }), step({ name: 'c', keys: [bob()] })], [bob()]);
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(join(dir, linkName('a', bob())), resolve));
    try {
      symlinkSync('/dev/null', join(dir, linkName('b', bob())));
      await mkdir(join(dir, linkName('c', bob())));
      const r = await promptly(verifyDir(l, dir), []);
      assert.equal(r.ok, false);
      // open(2) of a socket fails (ENXIO) before it could be looked at
      assert.match(failedLine(r, 'a'), /a\.[0-9a-f]{8}\.link: (is not a regular file \(a socket\)|cannot be read \(ENXIO\))/);
      assert.match(failedLine(r, 'b'), /b\.[0-9a-f]{8}\.link: is not a regular file \(a character device\)/);
      assert.match(failedLine(r, 'c'), /c\.[0-9a-f]{8}\.link: is a directory, not a file/);
    } finally {
      server.close();
    }
  });

  it('evident verify: a FIFO link fails the step (exit 1), a FIFO key file is refused (exit 2)', TIMEOUT, async () => {
    const dir = join(tmp.dir, 'fifo-cli');
    await mkdir(dir);
    await writeRoot(dir, buildLayout());
    const link = mkfifo(join(dir, linkName('build', bob())));
    const r = await promptly(cliVerify(dir), [link]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /✗ build: .*is not a regular file \(a FIFO\)/);
    assertNoCrash(r);

    const key = mkfifo(join(dir, 'fifo.pub'));
    const k = await promptly(runCli(['verify', '-l', 'root.layout', '-k', 'fifo.pub'], { cwd: dir }), [key]);
    assert.equal(k.code, 2, k.stdout + k.stderr);
    assert.equal(k.stderr, 'evident: fifo.pub: is not a regular file (a FIFO)\n');
  });
});

describe('a link nested deeper than any link is', () => {
  const DEPTH = 100_000;
  /** In canonical order: the canonical-JSON scanner reads it. */
  const canonicalText = () => `{"signatures":[],"signed":${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}}`;
  /** Out of order (name before _type): parsed as JSON, then encoded to check bob's (claimed) signature. */
  const unorderedText = () =>
    `{"signed":{"name":"build","_type":"link","command":[],"materials":{},"products":{},"byproducts":{},` +
    `"environment":{"x":${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}}},"signatures":[{"keyid":"${bob().keyid}","sig":"00"}]}`;

  for (const [name, text] of [
    ['in canonical order', canonicalText],
    ['not in canonical order, with a signature entry naming the functionary', unorderedText],
  ] as const) {
    it(`${name}: the step fails, the link is malformed`, TIMEOUT, async () => {
      const dir = join(tmp.dir, `deep-${name.length}`);
      await put(dir, linkName('build', bob()), text());
      const r = await verifyDir(buildLayout(), dir);
      assert.equal(r.ok, false);
      assert.match(failedLine(r, 'build'), /is malformed: .*nested more than \d+ levels deep/);
    });
  }

  it('in memory, as bytes or as parsed JSON: the same', TIMEOUT, async () => {
    for (const doc of [Buffer.from(canonicalText()), JSON.parse(unorderedText()) as object]) {
      const r = await verify({
        layout: sign(buildLayout(), [owner()]),
        layoutKeys: [owner().publicKey],
        links: { [linkName('build', bob())]: doc },
      });
      assert.equal(r.ok, false);
      assert.match(failedLine(r, 'build'), /nested more than \d+ levels deep/);
    }
  });

  it('evident verify: exit 1, no stack trace', TIMEOUT, async () => {
    const dir = join(tmp.dir, 'deep-cli');
    await writeRoot(dir, buildLayout());
    await put(dir, linkName('build', bob()), unorderedText());
    const r = await cliVerify(dir);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /✗ build: .*nested more than \d+ levels deep/);
    assertNoCrash(r);
  });
});

const constraint = (uri: string): CertificateConstraint => uriConstraint(uri);

/** build may be signed by a certificate of `root` for BUILDER. */
function certLayout(root: TestCert): Layout {
  const l = layout([{ ...step({ name: 'build', keys: [] }), cert_constraints: [constraint(BUILDER)] }], []);
  const ca = caEntry(root);
  l.rootcas = { [ca.keyid]: ca.dict as unknown as KeyDict };
  return l;
}

describe('a certificate with a malformed extension', () => {
  let root: TestCert;
  before(async () => {
    root = await makeRoot('corp');
  });

  /** A subjectAltName whose SEQUENCE claims 10 bytes and holds 4. */
  const badSan = (): RawExtension => ({ oid: '2.5.29.17', value: Buffer.from('300a8608ffff', 'hex') });
  /** An authorityInfoAccess that is no SEQUENCE at all (OpenSSL does not read it; @peculiar/x509 does). */
  const badAia = (): RawExtension => ({ oid: '1.3.6.1.5.5.7.1.1', value: Buffer.from('0403ffffff', 'hex') });

  const cases: [string, () => Promise<TestCert>][] = [
    ['the leaf: its subjectAltName', () => makeCert({ subject: 'O=corp', issuer: root, extensions: [badSan()] })],
    [
      'a carried intermediate: its authorityInfoAccess',
      async () => {
        const inter = await makeIntermediate(root, 'ci', { extensions: [badAia()] });
        return makeCert({ subject: 'O=corp', issuer: inter, uris: [BUILDER], carried: [inter] });
      },
    ],
  ];

  for (const [name, make] of cases) {
    it(`in ${name}: the link does not count, the report names the problem`, TIMEOUT, async () => {
      const signer = certSigner(await make());
      const r = await verify({
        layout: sign(certLayout(root), [owner()]),
        layoutKeys: [owner().publicKey],
        links: { 'build.svid.link': signMetablock(chainLinks().build!, [signer]) },
        verifyTime: T0,
      });
      assert.equal(r.ok, false);
      assert.match(failedLine(r, 'build'), /build\.svid\.link: .*certificate #\d cannot be parsed \(.*extension .* is malformed/);
    });
  }

  it('evident verify: exit 1, no stack trace', TIMEOUT, async () => {
    const dir = join(tmp.dir, 'bad-cert-cli');
    await writeRoot(dir, certLayout(root));
    const signer = certSigner(await makeCert({ subject: 'O=corp', issuer: root, extensions: [badSan()] }));
    await put(dir, 'build.svid.link', signMetablock(chainLinks().build!, [signer]));
    const r = await cliVerify(dir, ['--verify-time', T0.toISOString()]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /✗ build: .*build\.svid\.link: .*cannot be parsed \(.*subjectAltName.* is malformed/);
    assertNoCrash(r);
  });
});

describe('an unsigned link that lists 300 000 malformed artifacts', () => {
  it('is reported in a bounded number of lines: the first 50 problems and a count of the rest', TIMEOUT, async () => {
    const dir = join(tmp.dir, 'many-problems');
    await writeRoot(dir, buildLayout());
    const n = 300_000;
    const materials = `{${Array.from({ length: n }, (_, i) => `"\\\\${i}": 0`).join(', ')}}`;
    const signed = `{"_type": "link", "byproducts": {}, "command": [], "environment": {}, "materials": ${materials}, "name": "build", "products": {}}`;
    await put(dir, linkName('build', bob()), `{"signatures": [], "signed": ${signed}}`);
    const r = await cliVerify(dir);
    assertNoCrash(r);
    assert.equal(r.code, 1);
    assert.ok(r.stdout.length < 64 * 1024, `the report is ${r.stdout.length} characters`);
    assert.match(r.stdout, /and \d+ more problems \(only the first 50 are shown\)/);
  });
});

describe('a link carrying the same certificate signature 20 000 times', () => {
  it('examines each signer once: one line for the repeats, one for the certificate that chains to no root', TIMEOUT, async () => {
    const root = await makeRoot('corp');
    const constraint = uriConstraint(BUILDER);
    const l: Layout = layout([{ ...step({ name: 'build', keys: [] }), cert_constraints: [constraint] }], []);
    const ca = caEntry(root);
    l.rootcas = { [ca.keyid]: ca.dict as unknown as KeyDict };
    // the attacker's own certificate (chaining to nothing) and a signature its key made, repeated
    const mine = await makeCert({ uris: [BUILDER] });
    const key = new PrivateKey(mine.key.privateKey);
    const build = chainLinks().build!;
    const signature = { keyid: key.keyid, sig: key.sign(canonicalJsonBytes(build)), cert: mine.pem };
    const text = JSON.stringify({ signatures: Array.from({ length: 20_000 }, () => signature), signed: build });
    const report = await verify({
      layout: sign(l, [owner()]),
      layoutKeys: [owner().publicKey],
      links: { 'build.ffffffff.link': text },
      verifyTime: T0,
      runInspections: false,
    });
    const shown = formatReport(report);
    assert.equal(report.ok, false);
    assert.match(shown, /carries 20000 signatures with certificates; only the first 1 distinct ones are examined/);
    assert.ok(shown.length < 8 * 1024, `the report is ${shown.length} characters`);
  });
});
