/**
 * A step's `vsa:` in a layout spec (docs/policy.md, "A VSA as a step's evidence"): compiled into the step's
 * `expected_vsa`, the policy file hashed, the duration in seconds; every mistake reported with its line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePrivateKey, saveKeyPair } from '../../../src/crypto/key-files.js';
import { compileLayoutSpec } from '../../../src/intoto/layout-spec/compile.js';
import { ValidationError } from '../../../src/intoto/models/problems.js';

const NOW = new Date('2026-01-31T10:20:30.456Z');
const DIGEST = 'ef'.repeat(32);

async function specDir(t: { after: (fn: () => Promise<void>) => void }, yaml: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'evident-spec-vsa-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await saveKeyPair(generatePrivateKey('ed25519'), join(dir, 'verifier'));
  await saveKeyPair(generatePrivateKey('ed25519'), join(dir, 'builder'));
  await writeFile(join(dir, 'team-a.layout'), '{"signed": "team A\'s layout"}');
  await writeFile(join(dir, 'root.yaml'), yaml);
  return dir;
}

const spec = (vsa: string, extra = '') => `keys: {verifier: verifier.pub, builder: builder.pub}
steps:
  - name: lib
    functionaries: [verifier]
${vsa}
    products: [CREATE lib.tar, DISALLOW *]${extra}
  - name: build
    functionaries: [builder]
    materials: [MATCH lib.tar WITH PRODUCTS FROM lib, DISALLOW *]
`;

async function problemsOf(dir: string): Promise<string[]> {
  try {
    await compileLayoutSpec(join(dir, 'root.yaml'), { displayName: 'root.yaml', now: NOW });
  } catch (e) {
    assert.ok(e instanceof ValidationError, String(e));
    return [...e.problems];
  }
  assert.fail('the spec compiled');
}

test('vsa: compiles into expected_vsa: the policy file hashed, digests kept, max_age in seconds', async (t) => {
  const dir = await specDir(
    t,
    spec(`    vsa:
      policy: [team-a.layout, "sha256:${DIGEST}"]
      verifier_id: spiffe://team-a.example/verifier
      resource_uri: lib.tar
      verified_levels: [EVIDENT_LAYOUT_VERIFIED]
      max_age: 1w2d`),
  );
  const layout = await compileLayoutSpec(join(dir, 'root.yaml'), { now: NOW });
  const layoutHash = createHash('sha256').update('{"signed": "team A\'s layout"}').digest('hex');
  assert.deepEqual(layout.steps[0]!.expected_vsa, {
    policy: [{ sha256: layoutHash }, { sha256: DIGEST }],
    verifier_id: 'spiffe://team-a.example/verifier',
    resource_uri: 'lib.tar',
    verified_levels: ['EVIDENT_LAYOUT_VERIFIED'],
    max_age: 9 * 86_400,
  });
  assert.deepEqual(layout.steps[0]!.expected_command, []);
  assert.equal(Object.hasOwn(layout.steps[1]!, 'expected_vsa'), false);
  // one policy as a plain string; `vsa: true` pins nothing
  const one = await specDir(t, spec('    vsa: {policy: team-a.layout}'));
  assert.deepEqual((await compileLayoutSpec(join(one, 'root.yaml'), { now: NOW })).steps[0]!.expected_vsa, {
    policy: [{ sha256: layoutHash }],
  });
  const on = await specDir(t, spec('    vsa: true'));
  assert.deepEqual((await compileLayoutSpec(join(on, 'root.yaml'), { now: NOW })).steps[0]!.expected_vsa, {});
});

test('vsa: every mistake is reported with its line', async (t) => {
  const dir = await specDir(
    t,
    spec(
      `    vsa:
      policy: [missing.layout, "sha256:abc", ""]
      verifier: x
      verified_levels: []
      max_age: soon`,
      '\n    command: make',
    ),
  );
  const problems = await problemsOf(dir);
  const expected = [
    /^root\.yaml:6: steps\[0\]\.vsa\.policy\[0\]: missing\.layout: no such file \(paths are relative to the spec\)$/,
    /^root\.yaml:6: steps\[0\]\.vsa\.policy\[1\]: sha256 is 64 hex digits, not 3$/,
    /^root\.yaml:7: steps\[0\]\.vsa\.verifier: unknown key \(expected one of: policy, verifier_id, resource_uri, verified_levels, max_age\)$/,
    /^root\.yaml:8: steps\[0\]\.vsa\.verified_levels: is empty: leave verified_levels out to require no level$/,
    /^root\.yaml:9: steps\[0\]\.vsa\.max_age: "soon" is not a duration \(7d, 12h, 30m; units w, d, h, m\)$/,
    /^root\.yaml:11: steps\[0\]\.command: a step whose evidence is a VSA \(vsa\) runs no command: leave command out$/,
  ];
  for (const re of expected)
    assert.ok(
      problems.some((p) => re.test(p)),
      `${re} in:\n${problems.join('\n')}`,
    );
  const off = await specDir(t, spec('    vsa: false'));
  assert.deepEqual(await problemsOf(off), ['root.yaml:5: steps[0].vsa: leave vsa out for a step whose evidence is links']);
  const zero = await specDir(t, spec('    vsa: {max_age: 0d}'));
  assert.deepEqual(await problemsOf(zero), ['root.yaml:5: steps[0].vsa.max_age: a max_age of zero would refuse every VSA']);
});
