/**
 * The artifact-name rule (docs/artifact-names.md), applied in one place: by recording, to each name
 * before it enters a link, and by verification, to each name a link lists.
 *
 * A name is the key a file's digests are recorded under, and rules match names, not files. Two files must
 * never be able to stand for one name, or a decoy's digest is recorded in place of the file a command
 * really used. The in-toto reference records a `\` in a name as `/` (its Windows fix, applied on every
 * platform), so on POSIX a file literally named `src\hello.c` would stand for `src/hello.c`; and Node
 * decodes a name that is not valid UTF-8 with U+FFFD, so two such names would read alike. Both are refused.
 */
/** What is wrong with `name` as an artifact name (the caller says where it stands), or undefined. */
export function artifactNameProblem(name: string): string | undefined {
  if (name === '') return 'an artifact name cannot be empty';
  if (name.includes('\\'))
    return "the name contains a backslash, which the in-toto reference records as '/': it could stand for another file";
  if (name.includes('\0')) return 'the name contains a NUL character';
  if (name.includes('\uFFFD')) return 'the name is not valid UTF-8 (it decodes to U+FFFD): two such names cannot be told apart';
  return undefined;
}
