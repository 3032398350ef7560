import { EvidentError } from '../../errors.js';

/**
 * OpenPGP framing as RFC 4880 lays it out: packets (§4.2), signature subpackets (§5.2.3.1) and
 * multiprecision integers (§3.2). Only what the reference's GPG support reads (securesystemslib.gpg):
 * definite lengths, old and new packet headers. Partial and indeterminate lengths, which `gpg --export`
 * and `gpg --detach-sign` never write, are refused as the reference refuses them.
 */

/** One packet: its tag, the whole packet as it lies in the data (header included), and its body. */
export interface Packet {
  readonly tag: number;
  readonly packet: Buffer;
  readonly body: Buffer;
}

export const PACKET = { signature: 2, publicKey: 6, userId: 13, publicSubkey: 14, userAttribute: 17 } as const;

/** Thrown for data that is not well-formed OpenPGP; callers say what the data was. */
export function malformed(problem: string): EvidentError {
  return new EvidentError('BAD_INPUT', `OpenPGP data: ${problem}`);
}

/** The packet that starts at `at`. */
export function readPacket(data: Buffer, at: number): Packet {
  const first = byteAt(data, at);
  if ((first & 0x80) === 0) throw malformed(`byte ${at} is not a packet header`);
  let tag: number;
  let headerLength: number;
  let bodyLength: number;
  if (first & 0x40) {
    // new format: the tag in six bits, then a one-, two- or five-octet length
    tag = first & 0x3f;
    const l0 = byteAt(data, at + 1);
    if (l0 < 192) [headerLength, bodyLength] = [2, l0];
    else if (l0 <= 223) [headerLength, bodyLength] = [3, ((l0 - 192) << 8) + byteAt(data, at + 2) + 192];
    else if (l0 === 255) [headerLength, bodyLength] = [6, uint32(data, at + 2)];
    else throw malformed('partial body lengths are not supported');
  } else {
    // old format: the tag in four bits, the length in one, two or four octets
    tag = (first >> 2) & 0x0f;
    const lengthType = first & 0x03;
    if (lengthType === 0) [headerLength, bodyLength] = [2, byteAt(data, at + 1)];
    else if (lengthType === 1) [headerLength, bodyLength] = [3, uint16(data, at + 1)];
    else if (lengthType === 2) [headerLength, bodyLength] = [5, uint32(data, at + 1)];
    else throw malformed('packets of indeterminate length are not supported');
  }
  const end = at + headerLength + bodyLength;
  if (end > data.length) throw malformed(`a packet at byte ${at} runs past the end of the data`);
  return { tag, packet: data.subarray(at, end), body: data.subarray(at + headerLength, end) };
}

/** A key packet's body as signatures and fingerprints hash it (RFC 4880 §5.2.4, §12.2): 0x99, its length in two octets, the body. */
export function keyPacketAsHashed(body: Buffer): Buffer {
  const head = Buffer.alloc(3);
  head[0] = 0x99;
  head.writeUInt16BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** Every packet of `data`, in order. */
export function readPackets(data: Buffer): Packet[] {
  const out: Packet[] = [];
  for (let at = 0; at < data.length;) {
    const packet = readPacket(data, at);
    out.push(packet);
    at += packet.packet.length;
  }
  return out;
}

/** A signature subpacket: its type (the critical bit cleared) and its body. */
export interface Subpacket {
  readonly type: number;
  readonly body: Buffer;
}

export const SUBPACKET = { creationTime: 2, keyExpiration: 9, issuer: 16, primaryUserId: 25, issuerFingerprint: 33 } as const;

/** The subpackets of a hashed or unhashed subpacket area. */
export function readSubpackets(area: Buffer): Subpacket[] {
  const out: Subpacket[] = [];
  for (let at = 0; at < area.length;) {
    const l0 = byteAt(area, at);
    let lengthOctets: number;
    let length: number;
    if (l0 < 192) [lengthOctets, length] = [1, l0];
    else if (l0 < 255) [lengthOctets, length] = [2, ((l0 - 192) << 8) + byteAt(area, at + 1) + 192];
    else [lengthOctets, length] = [5, uint32(area, at + 1)];
    // the length counts the type octet
    if (length < 1 || at + lengthOctets + length > area.length) throw malformed('a signature subpacket runs past its area');
    out.push({ type: byteAt(area, at + lengthOctets) & 0x7f, body: area.subarray(at + lengthOctets + 1, at + lengthOctets + length) });
    at += lengthOctets + length;
  }
  return out;
}

/** The multiprecision integer at `at` (its value octets, as written: no leading zero octets) and where the next field starts. */
export function readMpi(data: Buffer, at: number): { value: Buffer; next: number } {
  const bits = uint16(data, at);
  const length = (bits + 7) >> 3;
  if (at + 2 + length > data.length) throw malformed('a multiprecision integer is truncated');
  return { value: data.subarray(at + 2, at + 2 + length), next: at + 2 + length };
}

export function uint16(data: Buffer, at: number): number {
  if (at + 2 > data.length) throw malformed('truncated data');
  return data.readUInt16BE(at);
}

export function uint32(data: Buffer, at: number): number {
  if (at + 4 > data.length) throw malformed('truncated data');
  return data.readUInt32BE(at);
}

function byteAt(data: Buffer, at: number): number {
  const b = data[at];
  if (b === undefined) throw malformed('truncated data');
  return b;
}
