import { createHash } from 'node:crypto';
import { EvidentError } from '../../errors.js';
import { ED25519_OID, gpgKeyObject } from './key-material.js';
import { GPG_HASHES, GPG_KEY_TYPES, type GpgKeyDict } from './key-dict.js';
import { keyPacketAsHashed, malformed, PACKET, readMpi, readPackets, SUBPACKET, type Packet } from './packets.js';
import { gpgKeyTypeOf, readSignaturePacket, verifySelfSignature, type GpgVerificationKey, type ParsedSignature } from './signature.js';

/**
 * The reference's `export_pubkey` (securesystemslib.gpg.common.get_pubkey_bundle) over what `gpg --export`
 * writes: the primary key with the expiry its self-certifications give it, and every subkey bound to it by
 * exactly one valid binding signature, with the expiry that signature gives. Where this departs from the
 * reference, on purpose (docs/interop.md):
 * - self-signatures are checked over the key as RFC 4880 §5.2.4 hashes it (0x99 and a two-octet length),
 *   also for key packets under 256 octets: the reference hashes those with their one-octet header, so
 *   every check fails and an ed25519 key loses its expiry and every ed25519 subkey is left out;
 * - only hashed subpackets give an expiry (an unhashed one is not signed);
 * - a revoked primary key is refused, and revoked subkeys are left out (the reference ignores revocations);
 * - a subkey of another type than its primary key is left out, since the reference's schema refuses it.
 */

export interface ExportedKey {
  readonly dict: GpgKeyDict;
  /** Subkeys left out, and why, for the user to hear. */
  readonly notes: readonly string[];
}

const SIGNATURE_TYPE = { certifications: [0x10, 0x11, 0x12, 0x13], subkeyBinding: 0x18, keyRevocation: 0x20, subkeyRevocation: 0x28 };

interface Node {
  readonly packet: Packet;
  readonly signatures: Packet[];
}

/**
 * The key dict of the one key in `data` (binary OpenPGP, as `gpg --export` writes it). With `keyid` (hex,
 * a fingerprint or its end), the primary key or one of its subkeys must have it, as in the reference,
 * which then exports the whole key.
 *
 * @throws EvidentError BAD_KEY for data that is not one supported, unrevoked key (or not the one asked for)
 */
export function exportedKeyDict(data: Buffer, keyid?: string): ExportedKey {
  let packets: Packet[];
  try {
    packets = readPackets(data);
  } catch (e) {
    throw new EvidentError('BAD_KEY', `not an OpenPGP public key: ${(e as Error).message}`);
  }
  const first = packets[0];
  if (first === undefined)
    throw new EvidentError('BAD_KEY', keyid === undefined ? 'no OpenPGP key in the data' : `no OpenPGP key ${keyid}`);
  if (first.tag !== PACKET.publicKey)
    throw new EvidentError('BAD_KEY', `not an OpenPGP public key: it starts with packet type ${first.tag}`);
  const primary: Node = { packet: first, signatures: [] };
  const userIds: Node[] = [];
  const userAttributes: Node[] = [];
  const subkeys: Node[] = [];
  for (const packet of packets.slice(1)) {
    if (packet.tag === PACKET.publicKey)
      throw new EvidentError('BAD_KEY', 'the data holds more than one OpenPGP key; export one (gpg --export KEYID)');
    if (packet.tag === PACKET.userId) userIds.push({ packet, signatures: [] });
    else if (packet.tag === PACKET.userAttribute) userAttributes.push({ packet, signatures: [] });
    else if (packet.tag === PACKET.publicSubkey) subkeys.push({ packet, signatures: [] });
    else if (packet.tag === PACKET.signature) {
      // a signature belongs to the packet before it, in the order of RFC 4880 §11.1: subkeys come last
      const owner = subkeys.at(-1) ?? userAttributes.at(-1) ?? userIds.at(-1) ?? primary;
      owner.signatures.push(packet);
    }
  }
  const key = keyDictOf(first.body, 'the primary key');
  const signer: GpgVerificationKey = { dict: key, keyObject: gpgKeyObject(key) };
  const primaryHashed = keyPacketAsHashed(first.body);
  if (validSignatures(primary.signatures, [SIGNATURE_TYPE.keyRevocation], signer, primaryHashed).length > 0) {
    throw new EvidentError('BAD_KEY', `OpenPGP key ${key.keyid} is revoked`);
  }
  const validity = certifiedValidity(userIds, signer, primaryHashed);
  if (validity !== undefined) key.validity_period = validity;
  const notes: string[] = [];
  const bound: Record<string, GpgKeyDict> = {};
  for (const node of subkeys) {
    let sub: GpgKeyDict;
    try {
      sub = keyDictOf(node.packet.body, 'a subkey');
    } catch {
      continue; // an encryption subkey (ECDH, ElGamal): the reference skips what it cannot read
    }
    if (sub.type !== key.type) {
      notes.push(`subkey ${sub.keyid} left out: an ${sub.type} subkey of an ${key.type} key is not a key the reference's layouts can hold`);
      continue;
    }
    const content = Buffer.concat([primaryHashed, keyPacketAsHashed(node.packet.body)]);
    const bindings = parsedSignatures(node.signatures, [SIGNATURE_TYPE.subkeyBinding]);
    if (bindings.length !== 1 || !verifySelfSignature(bindings[0]!, signer, content)) continue; // as the reference: exactly one, valid
    if (validSignatures(node.signatures, [SIGNATURE_TYPE.subkeyRevocation], signer, content).length > 0) {
      notes.push(`subkey ${sub.keyid} left out: it is revoked`);
      continue;
    }
    const expiry = bindings[0]!.hashed.get(SUBPACKET.keyExpiration);
    if (expiry !== undefined && expiry.length === 4) sub.validity_period = expiry.readUInt32BE(0);
    bound[sub.keyid] = sub;
  }
  if (Object.keys(bound).length > 0) key.subkeys = bound;
  if (keyid !== undefined) {
    const wanted = keyid.toLowerCase();
    if (![key.keyid, ...Object.keys(bound)].some((k) => k.endsWith(wanted)))
      throw new EvidentError('BAD_KEY', `no OpenPGP key ${keyid} in the exported data`);
  }
  return { dict: key, notes };
}

/** A v4 public key packet's body (RFC 4880 §5.5.2) as the reference's dict, without expiry or subkeys. */
function keyDictOf(body: Buffer, what: string): GpgKeyDict {
  if (body[0] !== 4) throw new EvidentError('BAD_KEY', `${what}: key packet version ${String(body[0])} is not supported (only version 4)`);
  if (body.length < 6) throw new EvidentError('BAD_KEY', `${what}: truncated key packet`);
  const type = gpgKeyTypeOf(body[5]!);
  if (type === undefined)
    throw new EvidentError('BAD_KEY', `${what}: public-key algorithm ${String(body[5])} is not supported (RSA, DSA or EdDSA)`);
  let pub: Record<string, string>;
  try {
    pub = publicFields(type, body.subarray(6));
  } catch (e) {
    throw new EvidentError('BAD_KEY', `${what}: ${(e as Error).message}`);
  }
  return {
    method: GPG_KEY_TYPES[type].method,
    type,
    hashes: [GPG_HASHES],
    creation_time: body.readUInt32BE(1),
    keyid: createHash('sha1').update(keyPacketAsHashed(body)).digest('hex'),
    keyval: { private: '', public: pub },
  };
}

function publicFields(type: 'rsa' | 'dsa' | 'eddsa', data: Buffer): Record<string, string> {
  if (type === 'eddsa') {
    const oidLength = data[0] ?? 0;
    if (!data.subarray(1, 1 + oidLength).equals(ED25519_OID)) throw malformed('the EdDSA curve is not ed25519');
    const point = readMpi(data, 1 + oidLength).value;
    if (point.length !== 33 || point[0] !== 0x40) throw malformed('the ed25519 point is not 0x40 and 32 octets');
    return { q: point.subarray(1).toString('hex') };
  }
  const values: string[] = [];
  for (let at = 0, i = 0; i < (type === 'rsa' ? 2 : 4); i++) {
    const { value, next } = readMpi(data, at);
    values.push(value.toString('hex'));
    at = next;
  }
  const [a, b, c, d] = values as [string, string, string, string];
  return type === 'rsa' ? { e: b, n: a } : { g: c, p: a, q: b, y: d };
}

/** The signatures among `packets` of the given types that can be read; the others are skipped, as the reference skips them. */
function parsedSignatures(packets: readonly Packet[], types: readonly number[]): ParsedSignature[] {
  const out: ParsedSignature[] = [];
  for (const p of packets) {
    try {
      const parsed = readSignaturePacket(p.packet);
      if (types.includes(parsed.type)) out.push(parsed);
    } catch {
      continue;
    }
  }
  return out;
}

/** The signatures of those types made by the primary key `signer` over `content`. */
function validSignatures(
  packets: readonly Packet[],
  types: readonly number[],
  signer: GpgVerificationKey,
  content: Buffer,
): ParsedSignature[] {
  return parsedSignatures(packets, types).filter((s) => signer.dict.keyid.endsWith(s.issuer) && verifySelfSignature(s, signer, content));
}

/**
 * The primary key's validity period, as the reference chooses it among its valid self-certifications of
 * user IDs that state one: the most recent, and once a primary-user-ID certification was taken, only another such.
 */
function certifiedValidity(userIds: readonly Node[], signer: GpgVerificationKey, primaryHashed: Buffer): number | undefined {
  let validity: number | undefined;
  let fromPrimaryUser = false;
  let created: number | undefined;
  for (const uid of userIds) {
    const head = Buffer.alloc(5);
    head[0] = 0xb4;
    head.writeUInt32BE(uid.packet.body.length, 1);
    const content = Buffer.concat([primaryHashed, head, uid.packet.body]);
    for (const s of validSignatures(uid.signatures, SIGNATURE_TYPE.certifications, signer, content)) {
      const expiry = s.hashed.get(SUBPACKET.keyExpiration);
      if (expiry === undefined || expiry.length !== 4) continue;
      const primaryUser = (s.hashed.get(SUBPACKET.primaryUserId)?.[0] ?? 0) !== 0;
      if (fromPrimaryUser && !primaryUser) continue;
      if (created === undefined || created < s.created) {
        validity = expiry.readUInt32BE(0);
        fromPrimaryUser = primaryUser;
        created = s.created;
      }
    }
  }
  return validity;
}
