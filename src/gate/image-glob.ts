/**
 * Image-name patterns of a gate policy: `*` matches within one path segment (`registry.example/team/*`),
 * `**` across segments (`registry.example/**`), `?` one character other than `/`. Everything else is
 * literal, so a pattern cannot be read as a regular expression by accident.
 */
export function imageGlob(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      out += '.*';
      i++;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}
