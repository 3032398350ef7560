import { EvidentError } from '../../errors.js';
import { exportedKeyDict } from './export.js';
import { GpgPublicKey } from './public-key.js';

/**
 * An OpenPGP public key file, as `gpg --export KEYID > key.gpg` or `gpg --export --armor KEYID > key.asc`
 * writes it: wherever evident takes a public key file (`verify -k`, a layout spec's `keys`), it takes one
 * of these too, and reads it as the reference's export_pubkey reads gpg's output (export.ts).
 */

const ARMOR_BEGIN = '-----BEGIN PGP PUBLIC KEY BLOCK-----';
const ARMOR_END = '-----END PGP PUBLIC KEY BLOCK-----';

/** Whether a key file's bytes are an OpenPGP public key: ASCII armor, or a binary public-key packet (tag 6, old or new format). */
export function isOpenPgpKeyFile(bytes: Buffer): boolean {
  const first = bytes[0];
  if (first === undefined) return false;
  if ((first & 0xc0) === 0xc0) return (first & 0x3f) === 6;
  if ((first & 0x80) !== 0) return ((first >> 2) & 0x0f) === 6;
  return bytes.subarray(0, 4096).toString('latin1').includes(ARMOR_BEGIN);
}

/** The key of an OpenPGP key file (isOpenPgpKeyFile), as a layout would store it. */
export function openPgpKeyFromFile(bytes: Buffer): GpgPublicKey {
  const { dict } = exportedKeyDict((bytes[0]! & 0x80) !== 0 ? bytes : dearmor(bytes.toString('latin1')));
  return GpgPublicKey.fromGpgDict(dict, `OpenPGP key ${dict.keyid}`);
}

/** The binary data of an ASCII-armored public key block (RFC 4880 §6.2): the base64 lines after the headers, before the checksum. */
function dearmor(text: string): Buffer {
  const start = text.indexOf(ARMOR_BEGIN);
  const end = text.indexOf(ARMOR_END, start);
  if (end < 0) throw new EvidentError('BAD_KEY', `the OpenPGP armor has no ${ARMOR_END} line`);
  const lines = text
    .slice(start + ARMOR_BEGIN.length, end)
    .split(/\r?\n/)
    .map((l) => l.trim());
  const blank = lines.indexOf('', 1);
  const body = lines.slice(blank < 0 ? 1 : blank + 1).filter((l) => l !== '' && !l.startsWith('='));
  const joined = body.join('');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(joined)) throw new EvidentError('BAD_KEY', 'the OpenPGP armor is not base64');
  return Buffer.from(joined, 'base64');
}
