import { EvidentError } from '../../errors.js';
import { compareCodePoints } from '../../util/code-points.js';

/**
 * JSON exactly as the reference writes metadata files: Python's `json.dumps(obj, indent=1,
 * separators=(",", ": "), sort_keys=True)` with its default `ensure_ascii=True`. So keys are sorted by
 * code point, every nesting level indents by one space, empty containers stay `{}`/`[]`, and every
 * character outside printable ASCII is a `\uXXXX` escape (astral characters as surrogate pairs).
 */
export function pythonJsonDumps(value: unknown): string {
  // Fast path for big links: when every object already enumerates its keys in sorted order (as any
  // file the reference wrote does), the engine's JSON.stringify gives the same layout, and only the
  // non-ASCII characters need escaping afterwards.
  if (inOrder(value)) return JSON.stringify(value, null, 1).replace(NON_ASCII, escapeUnit);
  return write(value, 0);
}

/** Whether `value` holds only JSON data whose object keys enumerate in code-point order. */
function inOrder(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new EvidentError('BAD_INPUT', `metadata may hold integers only, not ${value}`);
    return true;
  }
  if (typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.every(inOrder);
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return false;
  const obj = value as Record<string, unknown>;
  let previous: string | undefined;
  for (const key in obj) {
    const item = obj[key];
    if (item === undefined) continue;
    if (previous !== undefined && compareCodePoints(previous, key) >= 0) return false;
    if (!inOrder(item)) return false;
    previous = key;
  }
  return true;
}

// Strings are built with `+=`: V8 concatenates into ropes, far cheaper than a join of millions of parts.
function write(value: unknown, depth: number): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value)) throw new EvidentError('BAD_INPUT', `metadata may hold integers only, not ${value}`);
      return String(value);
    case 'object':
      return Array.isArray(value) ? writeArray(value, depth) : writeObject(value as Record<string, unknown>, depth);
    default:
      throw new EvidentError('INTERNAL', `cannot write a ${typeof value} as JSON`);
  }
}

function writeArray(value: unknown[], depth: number): string {
  if (value.length === 0) return '[]';
  const inner = indent(depth + 1);
  let out = '[';
  for (let i = 0; i < value.length; i++) out += (i === 0 ? inner : `,${inner}`) + write(value[i], depth + 1);
  return `${out}${indent(depth)}]`;
}

function writeObject(value: Record<string, unknown>, depth: number): string {
  const keys = Object.keys(value).filter((k) => value[k] !== undefined);
  if (keys.length === 0) return '{}';
  // metadata read from a file is already in order: check in one pass before paying for a sort
  let sorted = true;
  for (let i = 1; i < keys.length && sorted; i++) sorted = compareCodePoints(keys[i - 1]!, keys[i]!) < 0;
  if (!sorted) keys.sort(compareCodePoints);
  const inner = indent(depth + 1);
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    out += `${i === 0 ? inner : `,${inner}`}${quote(key)}: ${write(value[key], depth + 1)}`;
  }
  return `${out}${indent(depth)}}`;
}

const INDENTS: string[] = [];

function indent(depth: number): string {
  return (INDENTS[depth] ??= `\n${' '.repeat(depth)}`);
}

const ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };
// per UTF-16 code unit, as Python's ensure_ascii escapes astral characters as surrogate pairs
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\uffff]/;
// eslint-disable-next-line no-control-regex
const ESCAPE_ALL = /["\\\u0000-\u001f\u007f-\uffff]/g;

const NON_ASCII = /[\u007f-\uffff]/g;

function escapeUnit(c: string): string {
  return ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

function quote(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  return `"${s.replace(ESCAPE_ALL, escapeUnit)}"`;
}
