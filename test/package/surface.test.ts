import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PUBLIC_SURFACE } from './public-surface.js';

// The package imports itself by name (Node resolves a package's own `exports`), so this sees the compiled
// subpaths exactly as a consumer does; pack.test.ts checks the same from an installed tarball.
for (const [subpath, names] of Object.entries(PUBLIC_SURFACE)) {
  test(`the public surface of ${subpath} is pinned (a change here is an API change)`, async () => {
    const module = (await import(subpath)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(module).sort(), names);
  });
}

test('every subpath in package.json is pinned, and every pinned one is exported', async () => {
  const { default: pkg } = (await import('evident/package.json', { with: { type: 'json' } })) as {
    default: { exports: Record<string, unknown> };
  };
  const exported = Object.keys(pkg.exports)
    .filter((p) => p !== './package.json')
    .map((p) => (p === '.' ? 'evident' : `evident/${p.slice(2)}`));
  assert.deepEqual(exported.sort(), Object.keys(PUBLIC_SURFACE).sort());
});
