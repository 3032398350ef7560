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
  const numberOrString = /"(?:[^"\\]|\\.)*"|-?\d[\d.eE+-]*/g;
  for (let m = numberOrString.exec(text); m !== null; m = numberOrString.exec(text)) {
    const token = m[0];
    if (token.charCodeAt(0) === 34 /* " */) continue;
    if (/[.eE]/.test(token)) {
      throw new EvidentError('BAD_INPUT', `${where(text, m.index)}: number ${token} is not an integer (canonical JSON allows integers only)`, { file });
    }
    if (!Number.isSafeInteger(Number(token))) {
      throw new EvidentError('BAD_INPUT', `${where(text, m.index)}: integer ${token} is too large to represent exactly`, { file });
    }
  }
  return value;
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
