import { readFileSync, statSync } from 'node:fs';

/** `name:x:id:…` lines of /etc/passwd or /etc/group, as id → name (the first name wins, as getpwuid). */
export function parseIdFile(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [name, , id] = line.split(':');
    if (name === undefined || name === '' || id === undefined || !/^\d+$/.test(id)) continue;
    const n = Number(id);
    if (!out.has(n)) out.set(n, name);
  }
  return out;
}

/**
 * Names of users and groups from /etc/passwd and /etc/group, re-read only when a file changes (its
 * mtime, size or inode), and looked at no more than once per `recheckMs`, so attestation neither parses
 * nor stats them on every call. Small local files: read synchronously, like getpwuid(3).
 */
export class IdNames {
  private cache = new Map<string, { key: string; checkedAt: number; names: Map<number, string> }>();

  constructor(
    private readonly passwdPath = '/etc/passwd',
    private readonly groupPath = '/etc/group',
    private readonly recheckMs = 1000,
  ) {}

  user(uid: number): string | undefined {
    return this.load(this.passwdPath).get(uid);
  }

  group(gid: number): string | undefined {
    return this.load(this.groupPath).get(gid);
  }

  private load(path: string): Map<number, string> {
    const now = Date.now();
    const hit = this.cache.get(path);
    if (hit && now - hit.checkedAt < this.recheckMs) return hit.names;
    let key: string;
    try {
      const s = statSync(path, { bigint: true });
      key = `${s.ino}:${s.size}:${s.mtimeNs}`;
    } catch {
      return new Map(); // no such database: no names, ids still attest
    }
    if (hit && hit.key === key) {
      hit.checkedAt = now;
      return hit.names;
    }
    const names = parseIdFile(readFileSync(path, 'utf8'));
    this.cache.set(path, { key, checkedAt: now, names });
    return names;
  }
}
