import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReport, verify } from '../../../src/intoto/verify/index.js';
import type { Layout } from '../../../src/intoto/models/types.js';
import { artifacts, layout, link, linkName, put, sign, step, tempDir } from './fixtures.js';
import { alice, bob, carol, mallory, owner, SOURCES } from './chain.js';

const OUT = { out: 'packaged' };

/** root: code (alice) → pkg, a sublayout by bob whose step `deep` is a sublayout by carol with one step `leaf` (alice). */
async function writeNested(
  dir: string,
  options: { deepExpires?: string; pkgSigner?: typeof bob; leafProducts?: Record<string, string> } = {},
): Promise<Layout> {
  const root = layout(
    [
      step({ name: 'code', keys: [alice()], products: ['CREATE src/*', 'DISALLOW *'] }),
      step({
        name: 'pkg',
        keys: [bob()],
        materials: ['MATCH src/* WITH PRODUCTS FROM code', 'DISALLOW *'],
        products: ['ALLOW out', 'DISALLOW *'],
      }),
    ],
    [alice(), bob()],
  );
  const pkg = layout([step({ name: 'deep', keys: [carol()], products: ['ALLOW *'] })], [carol()]);
  const deep = layout([step({ name: 'leaf', keys: [alice()], products: ['CREATE out', 'DISALLOW *'] })], [alice()], {
    expires: options.deepExpires,
  });
  await put(dir, linkName('code', alice()), sign(link('code', { products: artifacts(SOURCES) }), [alice()]));
  const pkgDir = `pkg.${bob().keyid.slice(0, 8)}`;
  await put(dir, linkName('pkg', bob()), sign(pkg, [(options.pkgSigner ?? bob)()]));
  await put(dir, `${pkgDir}/${linkName('deep', carol())}`, sign(deep, [carol()]));
  const leaf = link('leaf', { materials: artifacts(SOURCES), products: artifacts(options.leafProducts ?? OUT), command: ['make'] });
  await put(dir, `${pkgDir}/deep.${carol().keyid.slice(0, 8)}/${linkName('leaf', alice())}`, sign(leaf, [alice()]));
  return root;
}

async function check(options: Parameters<typeof writeNested>[1], expect: (text: string, ok: boolean) => void): Promise<void> {
  const tmp = await tempDir();
  try {
    const root = await writeNested(tmp.dir, options);
    const report = await verify({
      layout: sign(root, [owner()]),
      layoutKeys: [owner().publicKey],
      linkDir: tmp.dir,
      verifyTime: new Date('2030-01-01T00:00:00Z'),
    });
    expect(formatReport(report), report.ok);
  } finally {
    await tmp.cleanup();
  }
}

test("sublayouts: two levels deep verify with each sublayout's own keys and summarize upwards", async () => {
  await check({}, (text, ok) => {
    assert.equal(ok, true, text);
    assert.match(text, /^✓ pkg: sublayout signed by every given key \(/m);
    assert.match(text, /^✓ pkg\/deep: sublayout signed by every given key/m);
    assert.match(text, /^✓ pkg\/deep\/leaf: products: 2 rules passed over 1 artifact$/m);
    // pkg's own rules saw the summary: materials of the first step, products of the last
    assert.match(text, /^✓ pkg: materials: 2 rules passed over 2 artifacts$/m);
  });
});

test('sublayouts: an expired sublayout fails the verification', async () => {
  await check({ deepExpires: '2029-01-01T00:00:00Z' }, (text, ok) => {
    assert.equal(ok, false);
    assert.match(text, /^✗ pkg\/deep: sublayout expired 2029-01-01T00:00:00Z/m);
  });
});

test("sublayouts: a sublayout not signed by the step's functionary does not count", async () => {
  await check({ pkgSigner: mallory }, (text, ok) => {
    assert.equal(ok, false);
    assert.match(text, /^✗ pkg: 0 of 1 required link/m);
  });
});

test('sublayouts: a rule violation deep inside fails the whole chain', async () => {
  await check({ leafProducts: { out: 'packaged', stray: 'x' } }, (text, ok) => {
    assert.equal(ok, false);
    assert.match(text, /^✗ pkg\/deep\/leaf: products: DISALLOW \*: stray not allowed by any earlier rule$/m);
  });
});
