import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { EvidentError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { readRegularFile } from '../util/regular-file.js';
import { parseStrictJson } from '../util/strict-json.js';
import { isOpenPgpKeyFile, openPgpKeyFromFile } from './gpg/key-file.js';
import type { KeyDict, KeyType, Scheme } from './key-dict.js';
import { ed25519PrivateFromHex, PrivateKey, PublicKey } from './keys.js';

/** Key files are small; anything bigger is not a key and is refused before it is read whole. */
const MAX_KEY_FILE_BYTES = 1 << 20;

/**
 * Loads a public key from a PEM SubjectPublicKeyInfo file (what `evident keygen` and `in-toto-keygen -t
 * rsa` write) or a securesystemslib JSON key file (what `in-toto-keygen` writes for ed25519 and ecdsa),
 * or an OpenPGP public key as `gpg --export [--armor] KEYID` writes it (crypto/gpg/key-file.ts).
 */
export async function loadPublicKey(path: string): Promise<PublicKey> {
  const bytes = await readKeyBytes(path);
  try {
    if (isOpenPgpKeyFile(bytes)) return openPgpKeyFromFile(bytes);
    return parsePublicKey(bytes.toString('utf8'));
  } catch (e) {
    throw e instanceof EvidentError ? e.inFile(path) : e;
  }
}

export function parsePublicKey(text: string): PublicKey {
  if (text.trimStart().startsWith('{')) return PublicKey.fromDict(parseKeyDict(text), 'key');
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new EvidentError('BAD_KEY', 'this is a private key; give the public key (NAME.pub) here');
  }
  if (text.includes('-----BEGIN CERTIFICATE-----')) return certificatePublicKey(extractPem(text, 'CERTIFICATE'));
  const pem = extractPem(text, 'PUBLIC KEY');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw new EvidentError('BAD_KEY', `not a PEM public key (${(e as Error).message})`);
  }
  return PublicKey.fromKeyObject(key, { pemText: pem });
}

/**
 * The public key of a certificate, as in-toto-golang's LoadKey takes one where a key is asked for: its
 * keyid is over the key as PEM SubjectPublicKeyInfo with the key's default scheme, as for the bare key.
 */
function certificatePublicKey(pem: string): PublicKey {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (e) {
    throw new EvidentError('BAD_KEY', `not a PEM certificate (${(e as Error).message})`);
  }
  let key: KeyObject;
  try {
    key = cert.publicKey; // OpenSSL decodes the key only now: an EC point off its curve fails here
  } catch (e) {
    throw new EvidentError('BAD_KEY', `the certificate's public key cannot be read (${(e as Error).message})`);
  }
  return PublicKey.fromKeyObject(key);
}

/**
 * The password of an encrypted private key: given, or a function asked for it only when the key turns
 * out to be encrypted (a prompt on a terminal must not ask for the password of a key that has none).
 */
export type KeyPassword = string | (() => Promise<string | undefined>);

/**
 * Loads a private key: PEM (PKCS#8, PKCS#1 "RSA PRIVATE KEY", SEC1 "EC PRIVATE KEY", encrypted ones with
 * `password`) or an unencrypted securesystemslib JSON key file.
 */
export async function loadPrivateKey(path: string, options: { password?: KeyPassword } = {}): Promise<PrivateKey> {
  const text = await readKeyFile(path);
  try {
    const { password } = options;
    return parsePrivateKey(text, {
      password: typeof password === 'function' ? (isEncryptedKey(text) ? await password() : undefined) : password,
    });
  } catch (e) {
    throw e instanceof EvidentError ? e.inFile(path) : e;
  }
}

const ENCRYPTED_PEM = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/;

/** Whether a private key file's PEM (on its own, or inside a securesystemslib JSON key) is encrypted. */
export function isEncryptedKey(text: string): boolean {
  return ENCRYPTED_PEM.test(text);
}

export function parsePrivateKey(text: string, options: { password?: string } = {}): PrivateKey {
  if (text.trimStart().startsWith('{')) {
    const dict = parseKeyDict(text);
    const privateValue = dict.keyval.private;
    if (typeof privateValue !== 'string' || privateValue === '') {
      throw new EvidentError('BAD_KEY', 'this JSON key has no private part; give the private key file here');
    }
    const publicKey = PublicKey.fromDict(dict, 'key');
    const keyObject =
      publicKey.scheme === 'ed25519' ? ed25519PrivateFromHex(privateValue, 'key') : privateFromPem(privateValue, options.password);
    return checkSigns(new PrivateKey(keyObject, { publicKey }));
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    if (/-----BEGIN PUBLIC KEY-----/.test(text)) {
      throw new EvidentError('BAD_KEY', 'this is a public key; signing needs the private key');
    }
    if (/^[A-Za-z0-9+/=@\s]+$/.test(text)) {
      throw new EvidentError('BAD_KEY', 'an encrypted securesystemslib key file is not supported; re-export it as PEM');
    }
    throw new EvidentError('BAD_KEY', 'not a PEM private key or a securesystemslib JSON key');
  }
  return checkSigns(new PrivateKey(privateFromPem(text, options.password)));
}

const PROBE = Buffer.from('evident: can this key sign?');

/**
 * A key file that parses may still not sign: an RSA key whose CRT values disagree makes OpenSSL fail at
 * the first signature, or sign with a wrong exponent. One signature, checked with the public half, finds
 * out when the key is loaded, so the error names the key file instead of surfacing mid-command.
 */
function checkSigns(key: PrivateKey): PrivateKey {
  let problem: string | undefined;
  try {
    if (!key.publicKey.verifyRaw(PROBE, key.signRaw(PROBE))) problem = 'its signature does not verify with its own public key';
  } catch (e) {
    problem = (e as Error).message;
  }
  if (problem !== undefined)
    throw new EvidentError('BAD_KEY', `this private key cannot make a valid signature; its numbers are inconsistent (${problem})`);
  return key;
}

/** Generates a new signing key: ed25519, ECDSA (P-256 default, P-384 or P-521) or RSA (3072 bits default, ≥ 2048). */
export function generatePrivateKey(type: KeyType, options: { curve?: EcdsaCurve; bits?: number } = {}): PrivateKey {
  switch (type) {
    case 'ed25519':
      return new PrivateKey(generateKeyPairSync('ed25519').privateKey);
    case 'ecdsa':
      return new PrivateKey(generateKeyPairSync('ec', { namedCurve: CURVE_NAMES[options.curve ?? 'P-256'] }).privateKey);
    case 'rsa': {
      const bits = options.bits ?? 3072;
      if (bits < 2048) throw new EvidentError('BAD_USAGE', `RSA keys must have at least 2048 bits (asked for ${bits})`);
      return new PrivateKey(generateKeyPairSync('rsa', { modulusLength: bits }).privateKey);
    }
  }
}

export type EcdsaCurve = 'P-256' | 'P-384' | 'P-521';

/** The ECDSA curves keys are made on, by their NIST names (as `keygen --curve` takes them) and OpenSSL's. */
export const CURVE_NAMES: Readonly<Record<EcdsaCurve, string>> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' };

export function privateKeyPem(key: PrivateKey, password?: string): string {
  return key.keyObject.export(
    password ? { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: password } : { type: 'pkcs8', format: 'pem' },
  ) as string;
}

export function publicKeyPem(key: PublicKey): string {
  return key.scheme === 'ed25519' ? (key.keyObject.export({ type: 'spki', format: 'pem' }) as string) : `${key.publicValue}\n`;
}

/** The securesystemslib JSON key files `in-toto-keygen` writes (private one unencrypted). */
export function securesystemslibKeyFiles(key: PrivateKey): { privateJson: string; publicJson: string } {
  const pub = key.publicKey;
  const privateValue =
    pub.scheme === 'ed25519'
      ? Buffer.from(key.keyObject.export({ format: 'jwk' }).d as string, 'base64url').toString('hex')
      : (key.keyObject.export({ type: pub.scheme === 'rsassa-pss-sha256' ? 'pkcs1' : 'sec1', format: 'pem' }) as string);
  const base = { keytype: pub.keytype, scheme: pub.scheme, keyid_hash_algorithms: ['sha256', 'sha512'] };
  return {
    privateJson: JSON.stringify({ ...base, keyid: pub.keyid, keyval: { public: pub.publicValue, private: privateValue } }),
    publicJson: JSON.stringify({ ...base, keyval: { public: pub.publicValue } }),
  };
}

/** Writes `path` (private, mode 0600) and `path.pub`, each atomically. */
export async function saveKeyPair(
  key: PrivateKey,
  path: string,
  options: { format?: 'pem' | 'securesystemslib'; password?: string } = {},
): Promise<void> {
  if (options.format === 'securesystemslib') {
    if (options.password) throw new EvidentError('BAD_USAGE', 'securesystemslib JSON keys are written unencrypted; use PEM for a password');
    const files = securesystemslibKeyFiles(key);
    await writeFileAtomic(path, files.privateJson, 0o600);
    await writeFileAtomic(`${path}.pub`, files.publicJson, 0o644);
    return;
  }
  await writeFileAtomic(path, privateKeyPem(key, options.password), 0o600);
  await writeFileAtomic(`${path}.pub`, publicKeyPem(key.publicKey), 0o644);
}

async function readKeyFile(path: string): Promise<string> {
  return (await readKeyBytes(path)).toString('utf8');
}

async function readKeyBytes(path: string): Promise<Buffer> {
  const read = await readRegularFile(path, MAX_KEY_FILE_BYTES);
  if (read.kind === 'not-regular') throw new EvidentError('BAD_KEY', read.problem, { file: path });
  if (read.kind === 'too-large') throw new EvidentError('BAD_KEY', `key file is larger than ${MAX_KEY_FILE_BYTES} bytes`, { file: path });
  return read.bytes;
}

function parseKeyDict(text: string): KeyDict {
  const value = parseStrictJson(text) as KeyDict;
  if (typeof value !== 'object' || value === null || typeof value.keyval !== 'object' || value.keyval === null) {
    throw new EvidentError('BAD_KEY', 'a JSON key needs keytype, scheme and keyval');
  }
  return value;
}

function privateFromPem(pem: string, password: string | undefined): KeyObject {
  try {
    return createPrivateKey({ key: pem, format: 'pem', passphrase: password });
  } catch (e) {
    const msg = (e as Error).message;
    // With a wrong password, CBC padding is valid by chance 1 time in 256 and OpenSSL then fails to
    // decode the garbage instead: for an encrypted key, any failure with a password is a wrong password.
    const encrypted = isEncryptedKey(pem);
    if (
      encrypted ||
      /passphrase|bad decrypt|interrupted or cancelled/i.test(msg) ||
      (e as { code?: string }).code === 'ERR_MISSING_PASSPHRASE'
    ) {
      throw new EvidentError('BAD_KEY', password ? 'wrong password for this encrypted key' : 'this key is encrypted; give its password');
    }
    throw new EvidentError('BAD_KEY', `not a usable PEM private key (${msg})`);
  }
}

/** The PEM block from its header to the end of its footer, as securesystemslib's extract_pem keeps it. */
function extractPem(text: string, label: string): string {
  const header = `-----BEGIN ${label}-----`;
  const footer = `-----END ${label}-----`;
  const start = text.indexOf(header);
  const end = text.indexOf(footer, start);
  if (start === -1 || end === -1) throw new EvidentError('BAD_KEY', `no '${header}' block found`);
  return text.slice(start, end + footer.length);
}

export type { Scheme };
