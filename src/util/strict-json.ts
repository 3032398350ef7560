import { EvidentError } from '../errors.js';

/**
 * Parses JSON for signed metadata. JSON.parse alone would turn `1.0` into `1` and `2^64` into a rounded
 * double, so a document could be re-encoded to different canonical bytes than the ones a signer saw;
 * securesystemslib refuses floats outright. Number tokens are therefore checked on the raw text first:
 * fractions, exponents and integers beyond 2^53 are refused with the position they occur at.
 */
export function parseStrictJson(text: string, file?: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new EvidentError('BAD_INPUT', `malformed JSON: ${(e as Error).message}`, { file });
  }
  checkNumbers(text, file);
  return value;
}

/**
 * Walks a text JSON.parse accepted and checks every number token. Strings are skipped by jumping from
 * quote to quote: a regular expression over them backtracks per character and overflows the stack on a
 * string of ~10^7 characters, such as the payload of a DSSE envelope of a large link.
 */
function checkNumbers(text: string, file: string | undefined): void {
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = afterString(text, i + 1);
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
      throw new EvidentError('BAD_INPUT', `${where(text, i)}: number ${token} is not an integer (canonical JSON allows integers only)`, { file });
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
