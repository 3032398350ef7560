import { EvidentError } from '../errors.js';
import { compareCodePoints } from '../util/code-points.js';
import { MAX_JSON_DEPTH, tooDeep } from '../util/strict-json.js';

/**
 * OLPC canonical JSON exactly as securesystemslib's `encode_canonical` writes it: object keys sorted by
 * code unit, no whitespace, strings with only `"` and `\` escaped (every other character, control
 * characters and non-ASCII included, is written raw), integers only. Signatures in in-toto metadata are
 * over these bytes, so a single differing byte breaks interoperability. The encoder recurses per level:
 * a value nested deeper than MAX_JSON_DEPTH is refused (BAD_INPUT) rather than overflow the stack.
 *
 * @example canonicalJson({ b: 1, a: 'x"y' }) === '{"a":"x\\"y","b":1}'
 */
export function canonicalJson(value: unknown): string {
  const sorted = sortedCopyForStringify(value);
  if (sorted !== SLOW) return JSON.stringify(sorted);
  const parts: string[] = [];
  try {
    encode(value, parts);
  } catch (e) {
    if (e instanceof Unencodable) throw new EvidentError('BAD_INPUT', `${pathTo(value, e.value)}: ${e.message}`);
    throw e;
  }
  return parts.join('');
}

/** Thrown deep inside the encoder; the path is worked out only then, so encoding builds no path strings. */
class Unencodable extends Error {
  constructor(
    message: string,
    readonly value: unknown,
  ) {
    super(message);
  }
}

/** The canonical JSON as UTF-8 bytes, ready to be signed or hashed. */
export function canonicalJsonBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}

function encode(value: unknown, out: string[], depth = 0): void {
  switch (typeof value) {
    case 'string':
      out.push(encodeString(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      if (!Number.isInteger(value)) {
        throw new Unencodable(`canonical JSON allows integers only, found ${String(value)}`, value);
      }
      if (!Number.isSafeInteger(value)) {
        // beyond 2^53 a JS number has already lost digits; refusing is the only honest answer
        throw new Unencodable(`integer ${String(value)} is too large to encode exactly`, value);
      }
      out.push(Object.is(value, -0) ? '0' : String(value));
      return;
    case 'bigint':
      out.push(value.toString());
      return;
    case 'object':
      if (value === null) {
        out.push('null');
        return;
      }
      if (depth >= MAX_JSON_DEPTH) throw tooDeep(undefined);
      if (Array.isArray(value)) {
        out.push('[');
        value.forEach((item, i) => {
          if (i > 0) out.push(',');
          encode(item, out, depth + 1);
        });
        out.push(']');
      } else {
        const obj = value as Record<string, unknown>;
        const keys = sortedKeys(obj);
        out.push('{');
        keys.forEach((key, i) => {
          if (i > 0) out.push(',');
          out.push(encodeString(key), ':');
          encode(obj[key], out, depth + 1);
        });
        out.push('}');
      }
      return;
    default:
      throw new Unencodable(`canonical JSON cannot encode a ${typeof value}`, value);
  }
}

function encodeString(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

const SLOW = Symbol('slow path');
/** Strings JSON.stringify would escape differently: control characters and (possibly lone) surrogates. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be found
const NEEDS_OWN_ESCAPING = /[\u0000-\u001f\ud800-\udfff]/;
/** Keys V8 orders numerically before all others, whatever order they were inserted in. */
const INDEX_LIKE = /^(?:0|[1-9]\d{0,9})$/;

/**
 * The fast path: for the common document (plain strings, integers, no index-like keys) canonical JSON is
 * exactly JSON.stringify of a copy whose keys were inserted in sorted order. Anything else returns SLOW
 * and goes through the careful encoder.
 */
function sortedCopyForStringify(value: unknown, depth = 0): unknown {
  switch (typeof value) {
    case 'string':
      return NEEDS_OWN_ESCAPING.test(value) ? SLOW : value;
    case 'boolean':
      return value;
    case 'number':
      return Number.isSafeInteger(value) && !Object.is(value, -0) ? value : SLOW;
    case 'object': {
      if (value === null) return null;
      if (depth >= MAX_JSON_DEPTH) throw tooDeep(undefined);
      if (Array.isArray(value)) {
        const out = new Array<unknown>(value.length);
        for (let i = 0; i < value.length; i++) {
          const v = sortedCopyForStringify(value[i], depth + 1);
          if (v === SLOW) return SLOW;
          out[i] = v;
        }
        return out;
      }
      const obj = value as Record<string, unknown>;
      const keys = sortedKeys(obj);
      const out: Record<string, unknown> = {};
      for (const key of keys) {
        if (INDEX_LIKE.test(key) || NEEDS_OWN_ESCAPING.test(key) || key === '__proto__') return SLOW;
        const v = sortedCopyForStringify(obj[key], depth + 1);
        if (v === SLOW) return SLOW;
        out[key] = v;
      }
      return out;
    }
    default:
      return SLOW;
  }
}

function sortedKeys(obj: Record<string, unknown>): string[] {
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined);
  let sorted = true;
  let surrogates = false;
  for (let i = 0; i < keys.length; i++) {
    if (i > 0 && keys[i - 1]! > keys[i]!) sorted = false;
    if (!surrogates && /[\ud800-\udfff]/.test(keys[i]!)) surrogates = true;
  }
  // code-unit order equals code-point order unless a key holds a surrogate pair
  if (surrogates) keys.sort(compareCodePoints);
  else if (!sorted) keys.sort();
  return keys;
}

/** Where `target` sits inside `root`, as `$.a.b[2]`, for error messages. */
function pathTo(root: unknown, target: unknown, path = '$'): string {
  if (Object.is(root, target)) return path;
  if (typeof root === 'object' && root !== null) {
    for (const [k, v] of Object.entries(root)) {
      const found = pathTo(v, target, Array.isArray(root) ? `${path}[${k}]` : `${path}.${k}`);
      if (found !== '') return found;
    }
  }
  return path === '$' ? '$' : '';
}
