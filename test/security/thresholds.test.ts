/**
 * One key meeting a threshold of two. A keyid is the hash of the key's text (securesystemslib's rule), and
 * the same key has many texts: its PEM wrapped at another line length, its EC point compressed, its RSA key
 * as PKCS#1, an ECDSA keytype spelled as the scheme. A layout listing one functionary's key under two such
 * keyids had two links by that one key counted as two functionaries. Such a layout is now refused as
 * malformed, naming both keyids, and thresholds count distinct key material, certificate signers included.
 * (An Ed25519 key has one text, 64 lowercase hex digits with a fixed keytype and scheme, so one keyid.)
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, KeyObject } from 'node:crypto';
import { join } from 'node:path';
import type { KeyDict } from '../../src/crypto/key-dict.js';
import { generatePrivateKey, saveKeyPair } from '../../src/crypto/key-files.js';
import { PrivateKey, PublicKey } from '../../src/crypto/keys.js';
import { isEvidentError } from '../../src/errors.js';
import { signMetablock } from '../../src/intoto/models/metablock.js';
import type { CertificateConstraint, Layout } from '../../src/intoto/models/types.js';
import { formatReport, verify } from '../../src/intoto/verify/index.js';
import { runCli } from '../helpers/cli.js';
import { caEntry, uriConstraint, certSigner, makeCert, makeRoot, T0, type TestCert } from '../helpers/pki.js';
import { chainLinks, owner } from '../intoto/verify/chain.js';
import { layout, link, linkName, put, sign, step, tempDir } from '../intoto/verify/fixtures.js';

/** The same public key, its PEM's base64 wrapped at `width` characters a line instead of 64. */
function rewrapped(key: PublicKey, width: number): PublicKey {
  const pem = key.keyObject.export({ type: 'spki', format: 'pem' }) as string;
  const body = pem.replace(/-----[A-Z ]+-----|\s/g, '');
  const lines = body.match(new RegExp(`.{1,${width}}`, 'g'))!;
  return PublicKey.fromKeyObject(key.keyObject, { pemText: `-----BEGIN PUBLIC KEY-----\n${lines.join('\n')}\n-----END PUBLIC KEY-----` });
}

/** The same P-256 key with its point compressed: other DER, other PEM, same key. */
function compressed(key: PublicKey): PublicKey {
  const jwk = key.keyObject.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x!, 'base64url');
  const yOdd = (Buffer.from(jwk.y!, 'base64url').at(-1)! & 1) === 1;
  const der = Buffer.concat([Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex'), Buffer.from([yOdd ? 3 : 2]), x]);
  const pem = `-----BEGIN PUBLIC KEY-----\n${der.toString('base64')}\n-----END PUBLIC KEY-----`;
  return PublicKey.fromKeyObject(createPublicKey({ key: der, format: 'der', type: 'spki' }), { pemText: pem });
}

/** The same RSA key as a PKCS#1 `RSA PUBLIC KEY` block. */
function pkcs1(key: PublicKey): PublicKey {
  const pem = (key.keyObject.export({ type: 'pkcs1', format: 'pem' }) as string).trimEnd();
  return PublicKey.fromKeyObject(createPublicKey(pem), { pemText: pem });
}

/** The dict of `key` with the ECDSA keytype spelled as its scheme, which securesystemslib also accepts: another keyid. */
function schemeAsKeytype(key: PublicKey): { keyid: string; dict: KeyDict } {
  const dict: KeyDict = {
    keytype: key.scheme,
    scheme: key.scheme,
    keyid_hash_algorithms: ['sha256', 'sha512'],
    keyval: { public: key.publicValue },
  };
  const keyid = PublicKey.fromDict(dict).keyid;
  return { keyid, dict: { ...dict, keyid } };
}

/** `key` (the private half) signing as the given public text, so its signatures carry that text's keyid. */
const signingAs = (key: PrivateKey, as: PublicKey) => new PrivateKey(key.keyObject, { publicKey: as });

interface Twice {
  /** The layout: step `build`, threshold 2, its pubkeys the one key under two keyids. */
  layout: Layout;
  /** build's two links, each signed by the one key under one of its keyids. */
  links: Record<string, object>;
  keyids: [string, string];
}

function oneKeyTwice(key: PrivateKey, second: { keyid: string; dict: KeyDict }): Twice {
  const l = layout([step({ name: 'build', keys: [], threshold: 2 })], [key]);
  l.keys[second.keyid] = second.dict;
  l.steps[0]!.pubkeys = [key.keyid, second.keyid];
  const as = new PrivateKey(key.keyObject, { publicKey: PublicKey.fromDict(second.dict) });
  const build = link('build');
  return {
    layout: l,
    links: { [linkName('build', key)]: sign(build, [key]), [linkName('build', as)]: sign(build, [as]) },
    keyids: [key.keyid, second.keyid],
  };
}

const variants: [string, () => { key: PrivateKey; second: { keyid: string; dict: KeyDict } }][] = [
  ['ECDSA, PEM re-wrapped at 76 columns', () => ecdsa((k) => dictOf(rewrapped(k, 76)))],
  ['ECDSA, PEM as one line', () => ecdsa((k) => dictOf(rewrapped(k, 1000)))],
  ['ECDSA, point compressed', () => ecdsa((k) => dictOf(compressed(k)))],
  ['ECDSA, keytype spelled as the scheme', () => ecdsa(schemeAsKeytype)],
  ['RSA, PKCS#1 instead of SubjectPublicKeyInfo', () => rsa((k) => dictOf(pkcs1(k)))],
];

let ecdsaKey: PrivateKey;
let rsaKey: PrivateKey;
const ecdsa = (second: (k: PublicKey) => { keyid: string; dict: KeyDict }) => ({ key: ecdsaKey, second: second(ecdsaKey.publicKey) });
const rsa = (second: (k: PublicKey) => { keyid: string; dict: KeyDict }) => ({ key: rsaKey, second: second(rsaKey.publicKey) });
const dictOf = (k: PublicKey) => ({ keyid: k.keyid, dict: k.toDict() });

before(() => {
  ecdsaKey = generatePrivateKey('ecdsa');
  rsaKey = generatePrivateKey('rsa', { bits: 2048 });
});

describe('one key listed under two keyids', () => {
  for (const [name, make] of variants) {
    it(`${name}: the layout is refused, naming both keyids`, async () => {
      const { key, second } = make();
      assert.notEqual(second.keyid, key.keyid);
      const t = oneKeyTwice(key, second);
      await assert.rejects(
        verify({ layout: sign(t.layout, [owner()]), layoutKeys: [owner().publicKey], links: t.links }),
        (e) =>
          isEvidentError(e) &&
          e.code === 'BAD_INPUT' &&
          e.message.includes(t.keyids[0]) &&
          e.message.includes(t.keyids[1]) &&
          /same key/.test(e.message),
      );
    });
  }

  it('evident verify: exit 2, one line naming both keyids, no stack trace', async () => {
    const tmp = await tempDir();
    try {
      const t = oneKeyTwice(ecdsaKey, dictOf(rewrapped(ecdsaKey.publicKey, 76)));
      await put(tmp.dir, 'root.layout', sign(t.layout, [owner()]));
      for (const [file, doc] of Object.entries(t.links)) await put(tmp.dir, file, doc);
      await saveKeyPair(owner(), join(tmp.dir, 'owner'));
      const r = await runCli(['verify', '-l', 'root.layout', '-k', 'owner.pub'], { cwd: tmp.dir });
      assert.equal(r.code, 2, r.stdout + r.stderr);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      // the file lists keys in sorted order: the second of the two is named, with the first
      const [first, second] = [...t.keyids].sort();
      assert.match(lines[0]!, new RegExp(`^evident: root\\.layout: keys\\["${second}"\\]: is the same key as keys\\["${first}"\\]`));
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
    } finally {
      await tmp.cleanup();
    }
  });

  it('in a sublayout: its step fails, the check names both keyids', async () => {
    const signer = generatePrivateKey('ed25519');
    const t = oneKeyTwice(ecdsaKey, dictOf(rewrapped(ecdsaKey.publicKey, 76)));
    const root = layout([step({ name: 'pkg', keys: [signer] })], [signer]);
    const dir = `pkg.${signer.keyid.slice(0, 8)}`;
    const links: Record<string, object> = { [linkName('pkg', signer)]: sign(t.layout, [signer]) };
    for (const [file, doc] of Object.entries(t.links)) links[`${dir}/${file}`] = doc;
    const r = await verify({ layout: sign(root, [owner()]), layoutKeys: [owner().publicKey], links });
    const text = formatReport(r);
    assert.equal(r.ok, false, text);
    assert.match(text, new RegExp(`✗ pkg: .*is malformed: keys\\["${t.keyids[1]}"\\]: is the same key as keys\\["${t.keyids[0]}"\\]`));
  });
});

describe('thresholds count key material, certificate signers included', () => {
  const BUILDER = 'spiffe://corp.example/ci/builder';
  let root: TestCert;
  before(async () => {
    root = await makeRoot('corp');
  });

  const constraint = (uri: string): CertificateConstraint => uriConstraint(uri);

  function certLayout(pubkeys: PrivateKey[], constraints: CertificateConstraint[]): Layout {
    const l = layout([{ ...step({ name: 'build', keys: pubkeys, threshold: 2 }), cert_constraints: constraints }], pubkeys);
    const ca = caEntry(root);
    l.rootcas = { [ca.keyid]: ca.dict as unknown as KeyDict };
    return l;
  }

  const run = (l: Layout, links: Record<string, object>) =>
    verify({ layout: sign(l, [owner()]), layoutKeys: [owner().publicKey], links, verifyTime: T0, runInspections: false });

  it('two certificates of one key, with two identities, count once', async () => {
    const first = await makeCert({ issuer: root, uris: [BUILDER] });
    const second = await makeCert({ issuer: root, uris: [`${BUILDER}-2`], key: first.key });
    const build = chainLinks().build!;
    const r = await run(certLayout([], [constraint(BUILDER), constraint(`${BUILDER}-2`)]), {
      'build.first.link': signMetablock(build, [certSigner(first)]),
      'build.second.link': signMetablock(build, [certSigner(second)]),
    });
    const text = formatReport(r);
    assert.equal(r.ok, false, text);
    assert.match(
      text,
      /✗ build: 1 of 2 links signed by spiffe:\/\/corp\.example\/ci\/builder; .*is signed by the same key as spiffe:\/\/corp\.example\/ci\/builder .*which counts once/,
    );
  });

  it('a functionary key listed under another keyid than its certificate gives it: counted once', async () => {
    const cert = await makeCert({ issuer: root, uris: [BUILDER] });
    const key = new PrivateKey(cert.key.privateKey);
    const asListed = signingAs(key, rewrapped(key.publicKey, 76));
    assert.notEqual(asListed.keyid, key.keyid);
    const build = chainLinks().build!;
    const r = await run(certLayout([asListed], [constraint(BUILDER)]), {
      [linkName('build', asListed)]: sign(build, [asListed]),
      'build.svid.link': signMetablock(build, [certSigner(cert)]),
    });
    const text = formatReport(r);
    assert.equal(r.ok, false, text);
    assert.match(
      text,
      new RegExp(
        `✗ build: 1 of 2 links signed by ${asListed.keyid.slice(0, 8)}; .*is signed by the same key as ${asListed.keyid.slice(0, 8)} .*which counts once`,
      ),
    );
  });

  it('two distinct keys still meet a threshold of two', async () => {
    const first = await makeCert({ issuer: root, uris: [BUILDER] });
    const second = await makeCert({ issuer: root, uris: [`${BUILDER}-2`] });
    const build = chainLinks().build!;
    const r = await run(certLayout([], [constraint(BUILDER), constraint(`${BUILDER}-2`)]), {
      'build.first.link': signMetablock(build, [certSigner(first)]),
      'build.second.link': signMetablock(build, [certSigner(second)]),
    });
    assert.equal(r.ok, true, formatReport(r));
  });
});

// keep the helpers honest: the variants really are one key
it('every variant is the key it stands for', () => {
  for (const [, make] of variants) {
    const { key, second } = make();
    const der = (k: KeyObject) =>
      createPublicKey({ key: k.export({ format: 'jwk' }), format: 'jwk' }).export({ type: 'spki', format: 'der' });
    assert.deepEqual(der(PublicKey.fromDict(second.dict).keyObject), der(key.publicKey.keyObject));
  }
});
