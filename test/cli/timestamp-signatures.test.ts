/**
 * `--timestamp-server` on the commands that sign (run, record stop, sign, layout create): each new signature
 * carries an RFC 3161 token from each TSA, over its raw bytes, that verifyTimestampToken accepts under that
 * TSA's root; a TSA that is down or refuses stops the command before a file is written (exit 3) unless
 * --timestamp-optional; and the Python reference still verifies a layout and link that carry tokens.
 * Real TSAs on 127.0.0.1 (startTsaServer), real keys, the reference's in-toto-verify.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { X509Certificate } from '../../src/crypto/x509/x509.js';
import { generatePrivateKey, loadPublicKey, saveKeyPair } from '../../src/crypto/key-files.js';
import { parseEnvelope, verifyEnvelope, type DsseEnvelope } from '../../src/crypto/dsse.js';
import { timestampedBytes } from '../../src/crypto/signature-timestamps.js';
import { loadMetadataFile, verifyMetablockSignature } from '../../src/intoto/models/metablock.js';
import type { Metablock, MetablockSignature } from '../../src/intoto/models/types.js';
import { startTsaServer, type TsaServer } from '../../src/time/http.js';
import { verifyTimestampToken } from '../../src/time/verify.js';
import { runCli } from '../helpers/cli.js';
import { runReferenceCli, skipUnlessReference } from '../helpers/reference.js';
import { tsaPki, type TsaPki } from '../time/helpers.js';

const DAY = 86_400_000;

let root: string;
/** Two TSAs under two roots, so a token shows which TSA made it. */
let pkiA: TsaPki;
let pkiB: TsaPki;
let tsaA: TsaServer;
let tsaB: TsaServer;
/** A TSA whose certificate has expired: it refuses every request (systemFailure). */
let refusing: TsaServer;
/** Where nothing listens. */
let down: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'evident-tsp-'));
  [pkiA, pkiB] = await Promise.all([tsaPki(), tsaPki()]);
  const expired = await tsaPki(new Date(Date.now() - 3 * DAY));
  [tsaA, tsaB, refusing] = await Promise.all([
    startTsaServer({ authority: pkiA.authority() }),
    startTsaServer({ authority: pkiB.authority() }),
    startTsaServer({ authority: expired.authority() }),
  ]);
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  down = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/tsa`;
  await new Promise((resolve) => probe.close(resolve));
});
after(async () => {
  await Promise.all([tsaA.close(), tsaB.close(), refusing.close()]);
  await rm(root, { recursive: true, force: true });
});

let counter = 0;
/** A fresh project folder with a source file and an ed25519 key `key` (PEM, `key.pub`). */
async function project(): Promise<string> {
  const dir = join(root, `p${++counter}`);
  await mkdir(join(dir, 'src'), { recursive: true });
  await writeFile(join(dir, 'src', 'main.c'), 'int main(void) { return 0; }\n');
  await saveKeyPair(generatePrivateKey('ed25519'), join(dir, 'key'));
  return dir;
}

/** The only file in `dir` whose name ends with `suffix`. */
async function onlyFile(dir: string, suffix: string): Promise<string> {
  const found = (await readdir(dir)).filter((f) => f.endsWith(suffix));
  assert.equal(found.length, 1, `one *${suffix} in ${dir}: ${found.join(', ')}`);
  return join(dir, found[0]!);
}

/**
 * Each token on `signature` verifies under the matching root, and its message imprint is the hash of the
 * signature's raw bytes (verifyTimestampToken checks it against the bytes given): the bytes signed over
 * do not match it, nor does another TSA's root.
 */
function assertTokens(
  entry: MetablockSignature | DsseEnvelope['signatures'][number],
  encoding: 'hex' | 'base64',
  roots: readonly X509Certificate[],
): void {
  assert.ok(entry.sig !== undefined, 'a key signature, not an OpenPGP one');
  const signature = entry as { sig: string; timestamps?: typeof entry.timestamps };
  const tokens = signature.timestamps ?? [];
  assert.equal(tokens.length, roots.length, `tokens: ${JSON.stringify(tokens).slice(0, 200)}`);
  const raw = timestampedBytes(signature.sig, encoding);
  for (const [i, t] of tokens.entries()) {
    assert.equal(t.type, 'tsp');
    const token = Buffer.from(t.data, 'base64');
    const ok = verifyTimestampToken(token, raw, [roots[i]!]);
    assert.ok(ok.ok, `token ${i}: ${ok.ok ? '' : `${ok.reason}: ${ok.message}`}`);
    assert.ok(Math.abs(ok.genTime.getTime() - Date.now()) < 60_000, 'genTime is now');
    const other = verifyTimestampToken(token, Buffer.from(signature.sig), [roots[i]!]);
    assert.equal(other.ok ? 'ok' : other.reason, 'MESSAGE_IMPRINT', 'the imprint is of the decoded signature, not its text');
    const stranger = roots.find((r) => r !== roots[i]) ?? (roots[i] === pkiA.root.cert ? pkiB.root.cert : pkiA.root.cert);
    const untrusted = verifyTimestampToken(token, raw, [stranger]);
    assert.equal(untrusted.ok ? 'ok' : untrusted.reason, 'UNTRUSTED');
  }
}

async function readMetablock(path: string): Promise<Metablock> {
  const loaded = await loadMetadataFile(path);
  assert.equal(loaded.format, 'metablock');
  return loaded.metablock;
}

async function readEnvelope(path: string): Promise<DsseEnvelope> {
  return parseEnvelope(JSON.parse(await readFile(path, 'utf8')));
}

describe('run --timestamp-server', () => {
  it('puts a token from each TSA on the link signature, in the order given, over the hex-decoded signature', async () => {
    const dir = await project();
    const r = await runCli(
      [
        'run',
        '-n',
        'build',
        '-k',
        'key',
        '-m',
        'src',
        '-p',
        'out',
        '--timestamp-server',
        tsaA.url,
        tsaB.url,
        '--',
        'sh',
        '-c',
        'echo x > out',
      ],
      { cwd: dir },
    );
    assert.equal(r.code, 0, r.stderr);
    const mb = await readMetablock(await onlyFile(dir, '.link'));
    assert.equal(mb.signatures.length, 1);
    assertTokens(mb.signatures[0]!, 'hex', [pkiA.root.cert, pkiB.root.cert]);
    // the signature itself is what it was: over the link, by the key
    assert.ok(verifyMetablockSignature(mb, await loadPublicKey(join(dir, 'key.pub'))));
  });

  it('takes the flag repeated too, and time-stamps a DSSE envelope signature over its base64-decoded bytes', async () => {
    const dir = await project();
    const r = await runCli(
      ['run', '-n', 'build', '-k', 'key', '--use-dsse', '--timestamp-server', tsaB.url, '--timestamp-server', tsaA.url, '-x', '-m', 'src'],
      { cwd: dir },
    );
    assert.equal(r.code, 0, r.stderr);
    const envelope = await readEnvelope(await onlyFile(dir, '.link'));
    assert.equal(envelope.signatures.length, 1);
    assertTokens(envelope.signatures[0]!, 'base64', [pkiB.root.cert, pkiA.root.cert]);
    assert.equal(verifyEnvelope(envelope, [await loadPublicKey(join(dir, 'key.pub'))]).length, 1);
  });

  it('a TSA that is down: exit 3, one line naming it, no link (nor a temporary file) left; the command did run', async () => {
    const dir = await project();
    const r = await runCli(['run', '-n', 'build', '-k', 'key', '--timestamp-server', tsaA.url, down, '--', 'sh', '-c', 'echo x > out'], {
      cwd: dir,
    });
    assert.equal(r.code, 3);
    assert.equal(
      r.stderr,
      `evident: timestamp server ${down}: cannot be reached (ECONNREFUSED); the command ran, but no link was written (--timestamp-optional makes this a warning)\n`,
    );
    assert.deepEqual((await readdir(dir)).sort(), ['key', 'key.pub', 'out', 'src']);
  });

  it('a TSA that refuses the request is the same error, with its reason', async () => {
    const dir = await project();
    const r = await runCli(['run', '-n', 'build', '-k', 'key', '--timestamp-server', refusing.url, '-x', '-m', 'src'], { cwd: dir });
    assert.equal(r.code, 3);
    assert.match(
      r.stderr,
      /^evident: timestamp server http:\/\/127\.0\.0\.1:\d+\/tsa: refused the request \(status 2, systemFailure.*\); no link written \(--timestamp-optional makes this a warning\)\n$/,
    );
    assert.deepEqual((await readdir(dir)).sort(), ['key', 'key.pub', 'src']);
  });

  it('--timestamp-optional: a warning per TSA that failed, and the link with the tokens obtained', async () => {
    const dir = await project();
    const r = await runCli(
      ['run', '-n', 'build', '-k', 'key', '--timestamp-optional', '--timestamp-server', down, tsaA.url, refusing.url, '-x', '-m', 'src'],
      { cwd: dir },
    );
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 3, r.stderr);
    assert.equal(
      lines[0],
      `evident: warning: timestamp server ${down}: cannot be reached (ECONNREFUSED); the signature goes without its token (--timestamp-optional)`,
    );
    assert.match(lines[1]!, new RegExp(`^evident: warning: timestamp server ${refusing.url}: refused the request`));
    assert.match(lines[2]!, /^evident: wrote build\.[0-9a-f]{8}\.link$/);
    const mb = await readMetablock(await onlyFile(dir, '.link'));
    assertTokens(mb.signatures[0]!, 'hex', [pkiA.root.cert]);
  });

  it('--timestamp-optional with every TSA down: the link is written without a timestamps field', async () => {
    const dir = await project();
    const r = await runCli(['run', '-n', 'build', '-k', 'key', '--timestamp-server', down, '--timestamp-optional', '-x', '-m', 'src'], {
      cwd: dir,
    });
    assert.equal(r.code, 0, r.stderr);
    const mb = await readMetablock(await onlyFile(dir, '.link'));
    assert.equal('timestamps' in mb.signatures[0]!, false);
  });

  it('a URL that is not http(s), or --timestamp-optional alone: exit 2 before the command runs', async () => {
    const dir = await project();
    for (const [flags, message] of [
      [
        ['--timestamp-server', 'ftp://tsa.example/tsa'],
        'evident: timestamp server ftp://tsa.example/tsa: only http and https URLs are supported\n',
      ],
      [['--timestamp-server', 'tsa.example'], "evident: timestamp server 'tsa.example' is not a URL\n"],
      [['--timestamp-optional'], 'evident: --timestamp-optional says what a failing TSA means: it needs --timestamp-server\n'],
      [
        ['--timestamp-server', ...Array.from({ length: 9 }, () => tsaA.url)],
        'evident: 9 timestamp servers given; a signature carries at most 8 tokens\n',
      ],
    ] as const) {
      const r = await runCli(['run', '-n', 'build', '-k', 'key', ...flags, '--', 'sh', '-c', 'echo ran > ran'], { cwd: dir });
      assert.equal(r.code, 2, flags.join(' '));
      assert.equal(r.stderr, message);
    }
    assert.deepEqual((await readdir(dir)).sort(), ['key', 'key.pub', 'src']);
  });
});

describe('record stop --timestamp-server', () => {
  it('time-stamps the final link (metablock and DSSE); the preliminary link, signed earlier, is not', async () => {
    for (const format of ['link', 'dsse'] as const) {
      const dir = await project();
      assert.equal((await runCli(['record', 'start', '-n', 'edit', '-k', 'key', '-m', 'src'], { cwd: dir })).code, 0);
      const stop = await runCli(
        ['record', 'stop', '-n', 'edit', '-k', 'key', '-p', 'src', '--format', format, '--timestamp-server', tsaA.url, tsaB.url],
        { cwd: dir },
      );
      assert.equal(stop.code, 0, stop.stderr);
      const path = await onlyFile(dir, '.link');
      const signature = format === 'dsse' ? (await readEnvelope(path)).signatures[0]! : (await readMetablock(path)).signatures[0]!;
      assertTokens(signature, format === 'dsse' ? 'base64' : 'hex', [pkiA.root.cert, pkiB.root.cert]);
      assert.deepEqual(
        (await readdir(dir)).filter((f) => f.endsWith('.link-unfinished')),
        [],
      );
    }
  });

  it('a TSA that is down: exit 3, no link, the preliminary link kept so that record stop can be run again', async () => {
    const dir = await project();
    assert.equal((await runCli(['record', 'start', '-n', 'edit', '-k', 'key', '-m', 'src'], { cwd: dir })).code, 0);
    const preliminary = await onlyFile(dir, '.link-unfinished');
    const before = await readFile(preliminary, 'utf8');
    const failed = await runCli(['record', 'stop', '-n', 'edit', '-k', 'key', '-p', 'src', '--timestamp-server', down], { cwd: dir });
    assert.equal(failed.code, 3);
    assert.equal(
      failed.stderr,
      `evident: timestamp server ${down}: cannot be reached (ECONNREFUSED); no link written, the preliminary link is kept (--timestamp-optional makes this a warning)\n`,
    );
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.includes('.link')),
      [preliminary.slice(dir.length + 1)],
    );
    assert.equal(await readFile(preliminary, 'utf8'), before);
    const retry = await runCli(['record', 'stop', '-n', 'edit', '-k', 'key', '-p', 'src', '--timestamp-server', tsaA.url], { cwd: dir });
    assert.equal(retry.code, 0, retry.stderr);
    assertTokens((await readMetablock(await onlyFile(dir, '.link'))).signatures[0]!, 'hex', [pkiA.root.cert]);
  });

  it('--timestamp-optional: a warning, the link written, the preliminary link removed', async () => {
    const dir = await project();
    assert.equal((await runCli(['record', 'start', '-n', 'edit', '-k', 'key', '-m', 'src'], { cwd: dir })).code, 0);
    const r = await runCli(['record', 'stop', '-n', 'edit', '-k', 'key', '-p', 'src', '--timestamp-server', down, '--timestamp-optional'], {
      cwd: dir,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /^evident: warning: timestamp server .*: cannot be reached \(ECONNREFUSED\); the signature goes without its token/,
    );
    assert.equal((await readMetablock(await onlyFile(dir, '.link'))).signatures[0]!.timestamps, undefined);
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.endsWith('.link-unfinished')),
      [],
    );
  });
});

const SPEC = `expires: 30d
readme: time-stamped
keys:
  builder: key.pub
steps:
  - name: build
    functionaries: [builder]
    command: sh -c "cp src/main.c hello"
    materials: [ALLOW src/main.c, DISALLOW *]
    products: [CREATE hello, DISALLOW *]
inspections:
  - name: check
    run: "true"
    materials: [MATCH hello WITH PRODUCTS FROM build, DISALLOW hello, ALLOW *]
    products: [ALLOW *]
`;

/** A project with the layout spec and two owner keys: `owner` (securesystemslib JSON, as the reference reads ed25519) and `owner2`. */
async function layoutProject(): Promise<string> {
  const dir = await project();
  await writeFile(join(dir, 'root.yaml'), SPEC);
  await saveKeyPair(generatePrivateKey('ed25519'), join(dir, 'owner'), { format: 'securesystemslib' });
  await saveKeyPair(generatePrivateKey('ecdsa'), join(dir, 'owner2'));
  return dir;
}

describe('layout create and sign --timestamp-server', () => {
  it('layout create time-stamps every owner signature; sign --append time-stamps only the new one, the old one kept as it was', async () => {
    const dir = await layoutProject();
    const created = await runCli(['layout', 'create', 'root.yaml', '-k', 'owner', '--timestamp-server', tsaA.url], { cwd: dir });
    assert.equal(created.code, 0, created.stderr);
    const first = await readMetablock(join(dir, 'root.layout'));
    assert.equal(first.signatures.length, 1);
    assertTokens(first.signatures[0]!, 'hex', [pkiA.root.cert]);
    // the file last, after the URLs: taken back from the variadic flag as it is from -k
    const appended = await runCli(['sign', '-a', '-k', 'owner2', '--timestamp-server', tsaB.url, 'root.layout'], { cwd: dir });
    assert.equal(appended.code, 0, appended.stderr);
    const both = await readMetablock(join(dir, 'root.layout'));
    assert.equal(both.signatures.length, 2);
    assert.deepEqual(both.signatures[0], first.signatures[0], 'the existing signature and its token are untouched');
    assertTokens(both.signatures[1]!, 'hex', [pkiB.root.cert]);
  });

  it('sign replacing the signatures time-stamps each new one, one token per TSA', async () => {
    const dir = await layoutProject();
    assert.equal((await runCli(['layout', 'create', 'root.yaml', '-k', 'owner'], { cwd: dir })).code, 0);
    const r = await runCli(['sign', 'root.layout', '-k', 'owner', 'owner2', '--timestamp-server', tsaA.url, tsaB.url], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const mb = await readMetablock(join(dir, 'root.layout'));
    assert.equal(mb.signatures.length, 2);
    for (const s of mb.signatures) assertTokens(s, 'hex', [pkiA.root.cert, pkiB.root.cert]);
  });

  it('sign on a DSSE link: the new signature gets its token, over its base64-decoded bytes', async () => {
    const dir = await project();
    await saveKeyPair(generatePrivateKey('ecdsa'), join(dir, 'key2'));
    await mkdir(join(dir, 'first'));
    assert.equal((await runCli(['run', '-n', 'build', '-k', 'key', '--use-dsse', '-x', '-m', 'src', '-d', 'first'], { cwd: dir })).code, 0);
    const path = await onlyFile(join(dir, 'first'), '.link');
    const r = await runCli(['sign', '-f', path, '-k', 'key2', '-o', 'signed.link', '--timestamp-server', tsaA.url], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const replaced = await readEnvelope(join(dir, 'signed.link'));
    assert.equal(replaced.signatures.length, 1);
    assertTokens(replaced.signatures[0]!, 'base64', [pkiA.root.cert]);
  });

  it('a TSA that is down: exit 3 and the file is not written (a layout signed in place is unchanged)', async () => {
    const dir = await layoutProject();
    const created = await runCli(['layout', 'create', 'root.yaml', '-k', 'owner', '--timestamp-server', down], { cwd: dir });
    assert.equal(created.code, 3);
    assert.equal(
      created.stderr,
      `evident: timestamp server ${down}: cannot be reached (ECONNREFUSED); root.layout not written (--timestamp-optional makes this a warning)\n`,
    );
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.includes('layout')),
      [],
    );
    assert.equal((await runCli(['layout', 'create', 'root.yaml', '-k', 'owner'], { cwd: dir })).code, 0);
    const unsigned = await readFile(join(dir, 'root.layout'), 'utf8');
    const signed = await runCli(['sign', 'root.layout', '-a', '-k', 'owner2', '--timestamp-server', down], { cwd: dir });
    assert.equal(signed.code, 3);
    assert.match(
      signed.stderr,
      /^evident: timestamp server .*: cannot be reached \(ECONNREFUSED\); root\.layout not written \(--timestamp-optional/,
    );
    assert.equal(await readFile(join(dir, 'root.layout'), 'utf8'), unsigned);
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.includes('layout')),
      ['root.layout'],
    );
    const optional = await runCli(['sign', 'root.layout', '-a', '-k', 'owner2', '--timestamp-server', down, '--timestamp-optional'], {
      cwd: dir,
    });
    assert.equal(optional.code, 0, optional.stderr);
    assert.equal((await readMetablock(join(dir, 'root.layout'))).signatures.length, 2);
  });

  it('bad usage: exit 2 (a URL that is not http(s); --verify, which signs nothing)', async () => {
    const dir = await layoutProject();
    assert.equal((await runCli(['layout', 'create', 'root.yaml', '-k', 'owner'], { cwd: dir })).code, 0);
    const before = await readFile(join(dir, 'root.layout'), 'utf8');
    const bad = await runCli(['sign', 'root.layout', '-k', 'owner2', '--timestamp-server', 'file:///tsa'], { cwd: dir });
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'evident: timestamp server file:///tsa: only http and https URLs are supported\n');
    const layoutBad = await runCli(
      ['layout', 'create', 'root.yaml', '-k', 'owner', '-o', 'other.layout', '--timestamp-server', 'ftp://x/'],
      {
        cwd: dir,
      },
    );
    assert.equal(layoutBad.code, 2);
    const verify = await runCli(['sign', 'root.layout', '--verify', '-k', 'owner.pub', '--timestamp-server', tsaA.url], { cwd: dir });
    assert.equal(verify.code, 2);
    assert.equal(verify.stderr, 'evident: sign: --timestamp-server time-stamps new signatures; --verify makes none\n');
    assert.equal(await readFile(join(dir, 'root.layout'), 'utf8'), before);
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.includes('layout')),
      ['root.layout'],
    );
  });
});

describe('the Python reference', () => {
  it('in-toto-verify accepts a layout and a static-key link whose signatures carry tokens', async (t) => {
    if (skipUnlessReference(t)) return;
    const dir = await layoutProject();
    const created = await runCli(['layout', 'create', 'root.yaml', '-k', 'owner', '--timestamp-server', tsaA.url, tsaB.url], { cwd: dir });
    assert.equal(created.code, 0, created.stderr);
    const ran = await runCli(
      [
        'run',
        '-n',
        'build',
        '-k',
        'key',
        '-m',
        'src/main.c',
        '-p',
        'hello',
        '--timestamp-server',
        tsaA.url,
        '--',
        'sh',
        '-c',
        'cp src/main.c hello',
      ],
      { cwd: dir },
    );
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal((await readMetablock(join(dir, 'root.layout'))).signatures[0]!.timestamps?.length, 2);
    assert.equal((await readMetablock(await onlyFile(dir, '.link'))).signatures[0]!.timestamps?.length, 1);
    const verify = await runReferenceCli(
      'in-toto-verify',
      ['--layout', 'root.layout', '--layout-keys', 'owner.pub', '--key-types', 'ed25519'],
      {
        cwd: dir,
      },
    );
    assert.equal(verify.code, 0, `in-toto-verify refused:\n${verify.stdout}\n${verify.stderr}`);
    // and it still checks: a product changed after the fact fails
    await writeFile(join(dir, 'hello'), 'tampered\n');
    const tampered = await runReferenceCli(
      'in-toto-verify',
      ['--layout', 'root.layout', '--layout-keys', 'owner.pub', '--key-types', 'ed25519'],
      {
        cwd: dir,
      },
    );
    assert.notEqual(tampered.code, 0);
  });
});
