/**
 * Python's str ordering: by code point. JavaScript's default sort compares UTF-16 code units, which
 * differs only where a surrogate (a character beyond U+FFFF) meets U+E000–U+FFFF. Code units are
 * compared first (fast, no allocation); at the first difference involving a surrogate the code points
 * decide. The reference sorts artifact names and canonical JSON keys this way.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    if (ca < 0xd800 && cb < 0xd800) return ca - cb;
    return (a.codePointAt(i) as number) - (b.codePointAt(i) as number);
  }
  return a.length - b.length;
}
