import { EvidentError } from '../../errors.js';

/**
 * Splits a string into words the way Python's `shlex.split` does (POSIX mode, no comments), which is
 * how the reference turns rule and command strings into lists: whitespace separates words; '…' keeps
 * everything literally; "…" keeps everything except that \" and \\ are escapes; outside quotes a
 * backslash makes the next character literal. So a pattern with a space is written 'my file' or
 * my\ file.
 *
 * @example shellSplit(`MATCH 'a b' WITH PRODUCTS FROM x`) // ['MATCH', 'a b', 'WITH', 'PRODUCTS', 'FROM', 'x']
 */
export function shellSplit(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) word += text[++i];
      else word += c;
      continue;
    }
    if (c === '\\') {
      if (i + 1 >= text.length) throw new EvidentError('BAD_INPUT', `no character after the final backslash in: ${text}`);
      word += text[++i];
      inWord = true;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== undefined) throw new EvidentError('BAD_INPUT', `unclosed ${quote === '"' ? 'double' : 'single'} quote in: ${text}`);
  if (inWord) words.push(word);
  return words;
}

/** The inverse for display: words joined by spaces, quoted when they would not survive a split. */
export function shellJoin(words: readonly string[]): string {
  return words.map((w) => (w !== '' && /^[A-Za-z0-9_@%+=:,./*?[\]!{}^~-]+$/.test(w) ? w : `'${w.replace(/'/g, `'"'"'`)}'`)).join(' ');
}
