import { EvidentError } from '../errors.js';

/**
 * How deeply objects and lists may nest in metadata. What reads or writes metadata recurses per level
 * (validation, canonical JSON), and a document of 10^5 levels, a few hundred kB, would overflow the
 * stack there; in-toto metadata nests a handful of levels, and the reference (Python's json) stops near 1000.
 */
export const MAX_JSON_DEPTH = 512;

/** The error for a document nested deeper than MAX_JSON_DEPTH; `where` says where, when known. */
export function tooDeep(file: string | undefined, where?: string): EvidentError {
  return new EvidentError('BAD_INPUT', `${where !== undefined ? `${where}: ` : ''}nested more than ${MAX_JSON_DEPTH} levels deep`, {
    file,
  });
}

/**
 * Parses JSON for signed metadata. JSON.parse alone would turn `1.0` into `1` and `2^64` into a rounded
 * double, so a document could be re-encoded to different canonical bytes than the ones a signer saw;
 * securesystemslib refuses floats outright. Number tokens are therefore checked on the raw text first:
 * fractions, exponents and integers beyond 2^53 are refused with the position they occur at, and so is
 * nesting deeper than MAX_JSON_DEPTH.
 */
export function parseStrictJson(text: string, file?: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new EvidentError('BAD_INPUT', `malformed JSON: ${(e as Error).message}`, { file });
  }
  checkTokens(text, file);
  return value;
}

/**
 * Walks a text JSON.parse accepted and checks every number token and the depth of every bracket. Strings
 * are skipped by jumping from quote to quote: a regular expression over them backtracks per character and
 * overflows the stack on a string of ~10^7 characters, such as the payload of a DSSE envelope of a large link.
 */
function checkTokens(text: string, file: string | undefined): void {
  const n = text.length;
  let i = 0;
  let depth = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = afterString(text, i + 1);
      continue;
    }
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > MAX_JSON_DEPTH) throw tooDeep(file, where(text, i));
      i++;
      continue;
    }
    if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
      i++;
      continue;
    }
    if (c !== MINUS && !isDigit(c)) {
      i++;
      continue;
    }
    let end = i + 1;
    while (end < n && isNumberChar(text.charCodeAt(end))) end++;
    const token = text.slice(i, end);
    if (/[.eE]/.test(token)) {
      throw new EvidentError('BAD_INPUT', `${where(text, i)}: number ${token} is not an integer (canonical JSON allows integers only)`, {
        file,
      });
    }
    if (!Number.isSafeInteger(Number(token))) {
      throw new EvidentError('BAD_INPUT', `${where(text, i)}: integer ${token} is too large to represent exactly`, { file });
    }
    i = end;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/**
 * Refuses a value already parsed (handed over as an object, not as text) that nests deeper than
 * MAX_JSON_DEPTH, without recursing itself.
 *
 * @throws EvidentError BAD_INPUT
 */
export function checkJsonDepth(value: unknown, file?: string): void {
  const pending: [unknown, number][] = [[value, 1]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, depth] = next;
    if (typeof item !== 'object' || item === null) continue;
    if (depth > MAX_JSON_DEPTH) throw tooDeep(file);
    for (const child of Array.isArray(item) ? item : Object.values(item)) {
      if (typeof child === 'object' && child !== null) pending.push([child, depth + 1]);
    }
  }
}

/** The index after the string whose contents start at `i`: the first quote not escaped by an odd run of backslashes. */
function afterString(text: string, i: number): number {
  for (;;) {
    const quote = text.indexOf('"', i);
    if (quote === -1) return text.length;
    let backslashes = 0;
    while (quote - backslashes - 1 >= i && text.charCodeAt(quote - backslashes - 1) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    i = quote + 1;
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isNumberChar(c: number): boolean {
  return isDigit(c) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === MINUS;
}

function where(text: string, index: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return `line ${line} column ${index - lineStart + 1}`;
}
