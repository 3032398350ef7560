import { createHash } from 'node:crypto';

/**
 * The gitoid Archivista names an upload by: the git object id of the bytes as a blob, in git's sha256
 * object format, as lowercase hex (what `git hash-object` prints in a sha256 repository). Archivista's
 * upload handler (in-toto/archivista pkg/server/server.go, `Upload`) computes
 * `gitoid.New(bytes.NewReader(payload), gitoid.WithContentLength(len), gitoid.WithSha256())` and answers
 * `gid.String()`; edwarnicke/gitoid hashes the header `blob <len>\0` then the content, and `String()` is
 * `%x` of the hash.
 */
export function gitoidSha256(bytes: Uint8Array): string {
  return createHash('sha256').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}
