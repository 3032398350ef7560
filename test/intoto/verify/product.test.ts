/**
 * `verify({product})`: the final product a verification (and a VSA written of it) vouches for must be one
 * of the products of the root layout's steps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReport, verify } from '../../../src/intoto/verify/index.js';
import { artifacts, layout, link, sha256, sign, step, testKey } from './fixtures.js';

const owner = () => testKey(50);
const alice = () => testKey(51);

async function run(product: string) {
  const l = layout(
    [
      step({ name: 'build', keys: [alice()], products: ['CREATE app', 'CREATE app.tar', 'DISALLOW *'] }),
      step({ name: 'test', keys: [alice()], materials: ['MATCH app WITH PRODUCTS FROM build', 'DISALLOW *'] }),
    ],
    [alice()],
  );
  const links = {
    [`build.${alice().keyid.slice(0, 8)}.link`]: sign(link('build', { products: artifacts({ app: 'app\n', 'app.tar': 'tarball\n' }) }), [
      alice(),
    ]),
    [`test.${alice().keyid.slice(0, 8)}.link`]: sign(link('test', { materials: artifacts({ app: 'app\n' }) }), [alice()]),
  };
  return verify({ layout: sign(l, [owner()]), layoutKeys: [owner().publicKey], links, product });
}

test('product: a product of a step passes, naming the artifact and the step that made it', async () => {
  const report = await run(`sha256:${sha256('tarball\n')}`);
  assert.equal(report.ok, true, formatReport(report));
  assert.match(
    formatReport(report),
    new RegExp(`^✓ the product sha256:${sha256('tarball\n').slice(0, 12)}… is app\\.tar, made by build$`, 'm'),
  );
});

test('product: an artifact no step made fails the verification', async () => {
  const report = await run(`sha256:${sha256('something else\n')}`);
  assert.equal(report.ok, false);
  assert.match(
    formatReport(report),
    /^✗ the product sha256:[0-9a-f]{12}… is none of the products of the layout's steps: the links say nothing of it$/m,
  );
  await assert.rejects(run('sha256:ABC'), /product must be sha256: and 64 lowercase hex digits/);
});
