/**
 * DER written by hand, for what is written on every request of a hot path: a TSA's tokens (time/) and a
 * CA's X509-SVIDs (spiffe/x509svid/issue.ts) are a few fixed pieces (encoded once, with the ASN.1
 * library) and a few that change per request, put together with tags and lengths. Encoding them through
 * the library's schemas cost about four times what the rest of a token does (`npm run bench -- tsa`) and
 * two thirds of a leaf (`npm run bench -- identity-server`). This writes only values this code builds
 * itself; what others send is read with the library.
 */

/** A tag-length-value: `tag` (one octet: class, constructed bit and a number below 31), DER's definite length, then `content`. */
export function tlv(tag: number, ...content: readonly Uint8Array[]): Buffer {
  let length = 0;
  for (const c of content) length += c.length;
  const head = length < 0x80 ? 2 : length < 0x100 ? 3 : length < 0x10000 ? 4 : 5;
  const out = Buffer.allocUnsafe(head + length);
  out[0] = tag;
  if (head === 2) out[1] = length;
  else {
    // long form: 0x80 | the number of length octets, then the length big-endian in as few octets as it takes
    out[1] = 0x80 | (head - 2);
    out.writeUIntBE(length, 2, head - 2);
  }
  let at = head;
  for (const c of content) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export const sequence = (...content: readonly Uint8Array[]): Buffer => tlv(0x30, ...content);

/** The members of a SET OF in DER's order (X.690 §11.6): by their encodings. */
export function setOrder<T extends Uint8Array>(members: readonly T[]): T[] {
  return [...members].sort(Buffer.compare);
}

export const octetString = (bytes: Uint8Array): Buffer => tlv(0x04, bytes);

/** An INTEGER whose content octets are given, already minimal (the caller's job). */
export const integer = (content: Uint8Array): Buffer => tlv(0x02, content);

/** A non-negative INTEGER from its big-endian magnitude: leading zeros dropped, one added where the high bit is set. */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const octets = magnitude.subarray(start);
  return octets.length === 0 || (octets[0]! & 0x80) !== 0 ? tlv(0x02, Buffer.from([0]), octets) : tlv(0x02, octets);
}

/** A small non-negative INTEGER (below 128: one content octet). */
export function smallInteger(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 127) throw new RangeError(`smallInteger: ${n}`);
  return Buffer.from([0x02, 0x01, n]);
}

/** `[n]` EXPLICIT, or an IMPLICIT one of a constructed type: context-specific, constructed. */
export const context = (n: number, ...content: readonly Uint8Array[]): Buffer => tlv(0xa0 | n, ...content);

/**
 * A GeneralizedTime in UTC as DER has it (X.690 §11.7): YYYYMMDDHHMMSS, then the milliseconds as a
 * fraction without trailing zeros (none, nor the point, when they are zero), then Z.
 */
export function generalizedTime(at: Date): Buffer {
  const year = at.getUTCFullYear();
  if (year < 0 || year > 9999) throw new RangeError(`generalizedTime: year ${year}`);
  const two = (n: number): string => (n < 10 ? `0${n}` : String(n));
  let text = `${String(year).padStart(4, '0')}${two(at.getUTCMonth() + 1)}${two(at.getUTCDate())}${two(at.getUTCHours())}${two(at.getUTCMinutes())}${two(at.getUTCSeconds())}`;
  const ms = at.getUTCMilliseconds();
  if (ms !== 0) text += `.${String(ms).padStart(3, '0').replace(/0+$/, '')}`;
  return tlv(0x18, Buffer.from(`${text}Z`, 'latin1'));
}

/**
 * A certificate's Time (RFC 5280 §4.1.2.5): UTCTime (YYMMDDHHMMSSZ) for 1950 through 2049, GeneralizedTime
 * (YYYYMMDDHHMMSSZ) otherwise; whole seconds, as the RFC requires (milliseconds are dropped).
 */
export function certificateTime(at: Date): Buffer {
  const year = at.getUTCFullYear();
  if (year < 0 || year > 9999) throw new RangeError(`certificateTime: year ${year}`);
  const two = (n: number): string => (n < 10 ? `0${n}` : String(n));
  const rest = `${two(at.getUTCMonth() + 1)}${two(at.getUTCDate())}${two(at.getUTCHours())}${two(at.getUTCMinutes())}${two(at.getUTCSeconds())}Z`;
  if (year >= 1950 && year < 2050) return tlv(0x17, Buffer.from(`${two(year % 100)}${rest}`, 'latin1'));
  return tlv(0x18, Buffer.from(`${String(year).padStart(4, '0')}${rest}`, 'latin1'));
}

/** A BIT STRING of whole octets (no unused bits), as signatures are carried. */
export const bitString = (bytes: Uint8Array): Buffer => tlv(0x03, Buffer.from([0]), bytes);
