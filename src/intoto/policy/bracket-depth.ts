/**
 * How deep the brackets `(`, `[` and `{` of a rule's text nest, outside its string literals, and the
 * offset of the first bracket that nests deeper than `limit`. Counted before parsing because @bufbuild/cel's parser takes time cubic in
 * the nesting of parentheses (256 nested: 80 ms; the 2 000 that fit in a rule: about 40 s), while
 * parentheses leave no trace in the parsed expression for the depth bound to catch afterwards.
 */
export function bracketDepth(text: string, limit = Infinity): { depth: number; beyond?: number } {
  let depth = 0;
  let deepest = 0;
  let beyond: number | undefined;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"' || c === "'") {
      i = afterString(text, i);
      continue;
    }
    if (c === '(' || c === '[' || c === '{') {
      depth++;
      deepest = Math.max(deepest, depth);
      if (depth > limit) beyond ??= i;
    } else if (c === ')' || c === ']' || c === '}') {
      depth = Math.max(0, depth - 1);
    }
    i++;
  }
  return beyond === undefined ? { depth: deepest } : { depth: deepest, beyond };
}

/** Where the string literal opening at `start` ends: '…', "…", '''…''', """…""", with an r/R prefix raw (no escapes). */
function afterString(text: string, start: number): number {
  const quote = text[start]!;
  const raw = start > 0 && (text[start - 1] === 'r' || text[start - 1] === 'R');
  const triple = text.startsWith(quote.repeat(3), start);
  const close = triple ? quote.repeat(3) : quote;
  let i = start + close.length;
  while (i < text.length) {
    if (!raw && text[i] === '\\') {
      i += 2;
      continue;
    }
    if (text.startsWith(close, i)) return i + close.length;
    if (!triple && text[i] === '\n') return i;
    i++;
  }
  return text.length;
}
