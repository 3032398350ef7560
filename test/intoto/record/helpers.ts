import { execFileSync } from '../../helpers/child-process.js';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The Python interpreter that has the in-toto reference (not the pyenv `python3`). */
export const REFERENCE_PYTHON = '/usr/bin/python3';
export const referenceInstalled = existsSync('/usr/bin/in-toto-run') && existsSync(REFERENCE_PYTHON);

export function tempDir(prefix = 'evident-record-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Files (path → content) and symlinks (path → `-> target`) under `root`. */
export function makeTree(root: string, spec: Record<string, string | Buffer>): void {
  for (const [rel, content] of Object.entries(spec)) {
    const p = join(root, rel);
    mkdirSync(dirname(p), { recursive: true });
    if (typeof content === 'string' && content.startsWith('-> ')) symlinkSync(content.slice(3), p);
    else if (rel.endsWith('/')) mkdirSync(p, { recursive: true });
    else writeFileSync(p, content);
  }
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function mkfifo(path: string): void {
  execFileSync('mkfifo', [path]);
}
