/**
 * The folders are the architecture (docs/ARCHITECTURE.md): an area imports from itself and from the areas
 * below it, never upward, and the agent and the server of the identity plane never import each other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

const SRC = join(import.meta.dirname, '..', '..', 'src');

const BASE = ['errors', 'util'];
/** Each area and the areas it may import; an area not listed here fails the test until it is placed. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  errors: [],
  util: ['errors'],
  crypto: BASE,
  intoto: [...BASE, 'crypto', 'time'],
  attestation: [...BASE, 'crypto', 'intoto'],
  spiffe: [...BASE, 'crypto'],
  time: [...BASE, 'crypto'],
  tpm: [...BASE, 'crypto'],
  sql: BASE,
  'identity/proto': [...BASE, 'crypto', 'spiffe'],
  'identity/common': [...BASE, 'crypto', 'spiffe', 'tpm', 'identity/proto'],
  'identity/server': [...BASE, 'sql', 'crypto', 'spiffe', 'time', 'tpm', 'identity/proto', 'identity/common'],
  'identity/agent': [...BASE, 'crypto', 'spiffe', 'tpm', 'identity/proto', 'identity/common'],
  oci: [...BASE, 'crypto'],
  sbom: [...BASE, 'oci'],
  scan: [...BASE, 'crypto', 'intoto', 'attestation', 'oci', 'sbom'],
  store: [...BASE, 'sql', 'crypto', 'intoto', 'attestation', 'spiffe', 'time'],
  gate: [...BASE, 'crypto', 'intoto', 'attestation', 'spiffe', 'time', 'store'],
  index: [...BASE, 'crypto', 'intoto', 'attestation', 'spiffe', 'identity/server', 'identity/agent', 'oci', 'sbom', 'scan'],
  demo: [
    ...BASE,
    'crypto',
    'intoto',
    'attestation',
    'spiffe',
    'identity/server',
    'identity/agent',
    'oci',
    'sbom',
    'scan',
    'time',
    'tpm',
    'store',
  ],
  cli: [
    ...BASE,
    'crypto',
    'intoto',
    'attestation',
    'spiffe',
    'time',
    'identity/common',
    'identity/server',
    'identity/agent',
    'oci',
    'sbom',
    'scan',
    'demo',
    'store',
    'gate',
  ],
};

function areaOf(path: string): string {
  const parts = path.replace(/\.(ts|js)$/, '').split('/');
  if (parts[0] === 'identity' && parts.length > 2) return `identity/${parts[1]}`;
  return parts[0]!;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(SRC, join(e.parentPath, e.name)));
}

const IMPORT = /(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g;

test('every import goes to the same area or one below it (no agent <-> server edge)', () => {
  const wrong: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = areaOf(file);
    const allowed = MAY_IMPORT[from];
    if (allowed === undefined) {
      wrong.push(`${file}: area '${from}' has no place in MAY_IMPORT (and docs/ARCHITECTURE.md)`);
      continue;
    }
    for (const [, spec] of readFileSync(join(SRC, file), 'utf8').matchAll(IMPORT)) {
      const to = areaOf(normalize(join(dirname(file), spec!)));
      if (to !== from && !allowed.includes(to)) wrong.push(`${file} imports ${spec} (${from} -> ${to})`);
    }
  }
  assert.deepEqual(wrong, []);
});
