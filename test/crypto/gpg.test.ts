/**
 * OpenPGP keys and signatures in the Python reference's form (crypto/gpg/): verification from the layout's
 * key dict alone, the dict as the reference exports it, and signatures as it writes them. The first tests
 * make their OpenPGP signatures here with node:crypto (no gpg, no reference); the others make keys with
 * gpg in a throwaway keyring and compare with the reference (securesystemslib.gpg).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createHash, generateKeyPairSync, sign as nodeSign, type KeyObject } from 'node:crypto';
import { canonicalJsonBytes } from '../../src/crypto/canonical-json.js';
import {
  exportGpgKey,
  gpgDetachSign,
  GpgPublicKey,
  openPgpKeyFromFile,
  type GpgKeyDict,
  type GpgSignature,
} from '../../src/crypto/gpg/index.js';
import { gpgFingerprint } from '../../src/crypto/gpg/key-material.js';
import { isEvidentError } from '../../src/errors.js';
import { GpgHome, gpgInstalled } from '../helpers/gpg.js';
import { referenceInstalled, runReferencePython } from '../helpers/reference.js';

const content = canonicalJsonBytes({ _type: 'link', name: 'build', note: 'the bytes a metablock signature is over ✓' });
const CREATED = 1_700_000_000;

/** A key made by node:crypto, as the reference's dict and the key that signs for it. */
function nodeKey(type: 'rsa' | 'eddsa', extra: Partial<GpgKeyDict> = {}): { dict: GpgKeyDict; privateKey: KeyObject } {
  const pair = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
  const jwk = pair.publicKey.export({ format: 'jwk' });
  const hex = (b64: string | undefined) => Buffer.from(b64 ?? '', 'base64url').toString('hex');
  const dict: GpgKeyDict = {
    keyid: '',
    type,
    method: type === 'rsa' ? 'pgp+rsa-pkcsv1.5' : 'pgp+eddsa-ed25519',
    hashes: ['pgp+SHA2'],
    keyval: { public: type === 'rsa' ? { e: hex(jwk.e), n: hex(jwk.n) } : { q: hex(jwk.x) }, private: '' },
    creation_time: CREATED,
    ...extra,
  };
  dict.keyid = gpgFingerprint(dict as GpgKeyDict & { creation_time: number });
  return { dict, privateKey: pair.privateKey };
}

/** A v4 binary-document signature over `data` as gpg makes one (RFC 4880 §5.2.3), in the reference's split form. */
function openPgpSign(key: { dict: GpgKeyDict; privateKey: KeyObject }, data: Buffer, options: { hashByte?: number } = {}): GpgSignature {
  const fingerprint = Buffer.from(key.dict.keyid, 'hex');
  const time = Buffer.alloc(4);
  time.writeUInt32BE(CREATED + 60);
  const hashed = Buffer.concat([Buffer.from([22, 0x21, 4]), fingerprint, Buffer.from([5, 2]), time]);
  const algorithm = key.dict.type === 'rsa' ? 1 : 22;
  const headers = Buffer.concat([Buffer.from([4, 0, algorithm, options.hashByte ?? 8, 0, hashed.length]), hashed]);
  const trailer = Buffer.from([4, 0xff, 0, 0, 0, headers.length]);
  const hashedData = Buffer.concat([data, headers, trailer]);
  const signature =
    key.dict.type === 'rsa'
      ? nodeSign('sha256', hashedData, { key: key.privateKey, padding: constants.RSA_PKCS1_PADDING })
      : nodeSign(null, createHash('sha256').update(hashedData).digest(), key.privateKey);
  return { keyid: key.dict.keyid, other_headers: headers.toString('hex'), signature: signature.toString('hex') };
}

describe('OpenPGP signatures in the reference form, made with node:crypto', () => {
  for (const type of ['rsa', 'eddsa'] as const) {
    it(`${type}: verifies from the dict alone; a changed byte of content, headers or signature does not`, () => {
      const key = nodeKey(type);
      const publicKey = GpgPublicKey.fromGpgDict(key.dict);
      const signature = openPgpSign(key, content);
      assert.equal(publicKey.signedMetablock([signature], content), true);
      const changed = Buffer.from(content);
      changed[5] ^= 1;
      assert.equal(publicKey.signedMetablock([signature], changed), false);
      const headers = Buffer.from(signature.other_headers, 'hex');
      headers[headers.length - 1] ^= 1; // the signature's creation time
      assert.equal(publicKey.signedMetablock([{ ...signature, other_headers: headers.toString('hex') }], content), false);
      const value = Buffer.from(signature.signature, 'hex');
      value[value.length - 1] ^= 1;
      assert.equal(publicKey.signedMetablock([{ ...signature, signature: value.toString('hex') }], content), false);
      // made by another key under this key's keyid
      const other = openPgpSign({ ...nodeKey(type), dict: { ...nodeKey(type).dict, keyid: key.dict.keyid } }, content);
      assert.equal(publicKey.signedMetablock([other], content), false);
    });
  }

  it('the first signature naming the key decides, and a key signature under its keyid is not one', () => {
    const key = nodeKey('eddsa');
    const publicKey = GpgPublicKey.fromGpgDict(key.dict);
    const good = openPgpSign(key, content);
    const broken = { ...good, signature: '00'.repeat(64) };
    assert.equal(publicKey.signedMetablock([broken, good], content), false);
    assert.equal(publicKey.signedMetablock([good, broken], content), true);
    assert.equal(publicKey.signedMetablock([{ keyid: key.dict.keyid, sig: good.signature } as never], content), false);
    assert.equal(publicKey.verify(content, good.signature), false, 'an OpenPGP key makes no hex `sig`');
  });

  it('stricter than the reference: headers that say another hash or document type are refused, even if the signature holds', () => {
    const key = nodeKey('rsa');
    // the reference hashes with SHA-256 whatever the headers say; gpg --digest-algo SHA256 never writes these
    const sha512Said = openPgpSign(key, content, { hashByte: 10 });
    assert.equal(GpgPublicKey.fromGpgDict(key.dict).signedMetablock([sha512Said], content), false);
  });

  it('a subkey signs for its primary key; an expired key or subkey (creation_time + validity_period) signs for nobody', () => {
    const sub = nodeKey('eddsa');
    const primary = nodeKey('eddsa');
    const dict: GpgKeyDict = { ...primary.dict, subkeys: { [sub.dict.keyid]: sub.dict } };
    const bySub = openPgpSign(sub, content);
    assert.equal(GpgPublicKey.fromGpgDict(dict).signedMetablock([bySub], content), true);
    const expiredSub = { ...dict, subkeys: { [sub.dict.keyid]: { ...sub.dict, validity_period: 3600 } } };
    const key = GpgPublicKey.fromGpgDict(expiredSub);
    assert.equal(key.signedMetablock([bySub], content), false);
    assert.match(key.expiryProblem([bySub]) ?? '', /OpenPGP subkey [0-9a-f]{16} expired at 2023-11-14T23:13:20\.000Z/);
    // still valid an hour after creation
    assert.equal(key.signedMetablock([bySub], content, new Date((CREATED + 1800) * 1000)), true);
    // a validity of 0 is gpg's "never", as the reference reads it
    const never = { ...dict, validity_period: 0 };
    assert.equal(GpgPublicKey.fromGpgDict(never).signedMetablock([bySub], content), true);
    // stricter than the reference: the primary key's expiry ends its subkeys too
    assert.equal(GpgPublicKey.fromGpgDict({ ...dict, validity_period: 60 }).signedMetablock([bySub], content), false);
  });

  it("a dict is checked strictly: its keyid must be the fingerprint its fields make, its fields the reference's", () => {
    const { dict } = nodeKey('rsa');
    const refused = (value: unknown): string => {
      try {
        GpgPublicKey.fromGpgDict(value, 'keys.x');
      } catch (e) {
        assert.ok(isEvidentError(e) && e.code === 'BAD_KEY');
        return e.message;
      }
      assert.fail('accepted');
    };
    assert.match(refused({ ...dict, keyid: 'ab'.repeat(20) }), /fingerprint/);
    assert.match(refused({ ...dict, creation_time: CREATED + 1 }), /fingerprint/);
    assert.match(refused({ ...dict, keyval: { ...dict.keyval, private: 'x' } }), /keyval\.private/);
    assert.match(refused({ ...dict, method: 'pgp+eddsa-ed25519' }), /method/);
    assert.match(refused({ ...dict, scheme: 'rsa' }), /keys\.x\.scheme: is not a field/);
    const ed = nodeKey('eddsa').dict;
    assert.match(refused({ ...dict, subkeys: { [ed.keyid]: ed } }), /subkeys of a rsa key must be rsa keys/);
    // without a creation time the fingerprint cannot be recomputed: taken as given, as the reference takes it
    const undated: Partial<GpgKeyDict> = { ...dict };
    delete undated.creation_time;
    assert.equal(GpgPublicKey.fromGpgDict(undated).keyid, dict.keyid);
  });
});

describe('OpenPGP keys from gpg, against the reference', { skip: !gpgInstalled && 'gpg is not installed' }, () => {
  let home: GpgHome;
  let rsa: string;
  let rsaSub: string;
  let ed: string;
  let dsa: string;
  let old: string;
  before(async () => {
    home = await GpgHome.create();
    rsa = home.generate('Alice <alice@example.com>', 'rsa2048', { usage: 'cert' });
    rsaSub = home.addSigningSubkey(rsa, 'rsa2048', { expire: '2y' });
    ed = home.generate('Bob <bob@example.com>', 'ed25519', { expire: '1y' });
    dsa = home.generate('Dave <dave@example.com>', 'dsa2048');
    old = home.generate('Old <old@example.com>', 'rsa2048', { expire: '1d', at: '20200101T000000' });
  });
  after(() => home.remove());

  const referenceExport = async (keyid: string): Promise<unknown> =>
    JSON.parse(
      await runReferencePython(
        `import json\nfrom securesystemslib.gpg.functions import export_pubkey\nprint(json.dumps(export_pubkey(${JSON.stringify(keyid)}, ${JSON.stringify(home.dir)})))`,
      ),
    );

  it(
    'exports RSA (with its signing subkey and expiry), DSA and expired keys exactly as export_pubkey',
    { skip: !referenceInstalled },
    async () => {
      for (const keyid of [rsa, dsa, old]) {
        const ours = exportGpgKey(keyid, { homedir: home.dir }).dict;
        assert.equal(canonicalJsonBytes(ours).toString(), canonicalJsonBytes((await referenceExport(keyid)) as object).toString(), keyid);
      }
      const dict = exportGpgKey(rsa, { homedir: home.dir }).dict;
      assert.deepEqual(Object.keys(dict.subkeys ?? {}), [rsaSub.toLowerCase()]);
      assert.ok((dict.subkeys![rsaSub.toLowerCase()]!.validity_period ?? 0) > 0);
      // a subkey's fingerprint selects the whole key, as in the reference
      assert.equal(exportGpgKey(rsaSub.slice(-16), { homedir: home.dir }).dict.keyid, rsa.toLowerCase());
    },
  );

  it(
    'an ed25519 key keeps the expiry the reference loses (it hashes short key packets wrongly)',
    { skip: !referenceInstalled },
    async () => {
      const ours = exportGpgKey(ed, { homedir: home.dir }).dict;
      const reference = (await referenceExport(ed)) as GpgKeyDict;
      assert.equal(reference.validity_period, undefined);
      assert.ok((ours.validity_period ?? 0) > 300 * 86400);
      const rest: Partial<GpgKeyDict> = { ...ours };
      delete rest.validity_period;
      assert.deepEqual(rest, reference);
    },
  );

  it('reads `gpg --export` files, binary and armored, as the keyring export', () => {
    for (const armor of [false, true]) {
      const key = openPgpKeyFromFile(home.export(rsa, armor));
      assert.deepEqual(key.toGpgDict(), exportGpgKey(rsa, { homedir: home.dir }).dict);
    }
  });

  for (const which of ['rsa', 'ed', 'dsa'] as const) {
    it(
      `${which}: a gpg --detach-sign signature verifies, and the reference verifies it too; the reference's verifies here`,
      { skip: !referenceInstalled },
      async () => {
        const keyid = { rsa, ed, dsa }[which];
        const key = GpgPublicKey.fromGpgDict(exportGpgKey(keyid, { homedir: home.dir }).dict);
        const ours = gpgDetachSign(content, keyid, { homedir: home.dir });
        if (which === 'rsa') assert.equal(ours.keyid, rsaSub.toLowerCase(), 'gpg signs with the signing subkey');
        assert.equal(key.signedMetablock([ours], content), true);
        const theirs = JSON.parse(
          await runReferencePython(
            [
              'import json, sys',
              'from securesystemslib.gpg.functions import create_signature, verify_signature, export_pubkey',
              `home = ${JSON.stringify(home.dir)}`,
              'data = sys.stdin.buffer.read()',
              `ours = json.loads(${JSON.stringify(JSON.stringify(ours))})`,
              `key = export_pubkey(${JSON.stringify(keyid)}, home)`,
              `print(json.dumps({"ok": verify_signature(ours, key, data), "sig": create_signature(data, ${JSON.stringify(keyid)}, home)}))`,
            ].join('\n'),
            { input: content.toString('utf8') },
          ),
        ) as { ok: boolean; sig: GpgSignature };
        assert.equal(theirs.ok, true);
        assert.deepEqual(Object.keys(theirs.sig).sort(), ['keyid', 'other_headers', 'signature']);
        assert.equal(key.signedMetablock([theirs.sig], content), true);
      },
    );
  }
});
