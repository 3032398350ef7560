import { EvidentError } from '../errors.js';

/**
 * OLPC canonical JSON exactly as securesystemslib's `encode_canonical` writes it: object keys sorted by
 * code unit, no whitespace, strings with only `"` and `\` escaped (every other character, control
 * characters and non-ASCII included, is written raw), integers only. Signatures in in-toto metadata are
 * over these bytes, so a single differing byte breaks interoperability.
 *
 * @example canonicalJson({ b: 1, a: 'x"y' }) === '{"a":"x\\"y","b":1}'
 */
export function canonicalJson(value: unknown): string {
  const parts: string[] = [];
  encode(value, parts, '$');
  return parts.join('');
}

/** The canonical JSON as UTF-8 bytes, ready to be signed or hashed. */
export function canonicalJsonBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}

function encode(value: unknown, out: string[], path: string): void {
  switch (typeof value) {
    case 'string':
      out.push(encodeString(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      if (!Number.isInteger(value)) {
        throw new EvidentError('BAD_INPUT', `${path}: canonical JSON allows integers only, found ${String(value)}`);
      }
      if (!Number.isSafeInteger(value)) {
        // beyond 2^53 a JS number has already lost digits; refusing is the only honest answer
        throw new EvidentError('BAD_INPUT', `${path}: integer ${String(value)} is too large to encode exactly`);
      }
      out.push(Object.is(value, -0) ? '0' : String(value));
      return;
    case 'bigint':
      out.push(value.toString());
      return;
    case 'object':
      if (value === null) {
        out.push('null');
      } else if (Array.isArray(value)) {
        out.push('[');
        value.forEach((item, i) => {
          if (i > 0) out.push(',');
          encode(item, out, `${path}[${i}]`);
        });
        out.push(']');
      } else {
        const obj = value as Record<string, unknown>;
        const keys = Object.keys(obj).filter((k) => obj[k] !== undefined);
        keys.sort(compareCodePoints);
        out.push('{');
        keys.forEach((key, i) => {
          if (i > 0) out.push(',');
          out.push(encodeString(key), ':');
          encode(obj[key], out, `${path}.${key}`);
        });
        out.push('}');
      }
      return;
    default:
      throw new EvidentError('BAD_INPUT', `${path}: canonical JSON cannot encode a ${typeof value}`);
  }
}

function encodeString(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * Python sorts str keys by code point; JS's default sort compares UTF-16 code units, which differs for
 * characters beyond the BMP versus U+E000–U+FFFF. Compare code points to sort as the reference does.
 */
function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx - cy;
  }
}
