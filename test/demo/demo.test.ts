import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo } from '../../src/demo/hello-world.js';

test('the demo: the honest pipeline passes and every attack is caught, each for its own reason', { timeout: 300_000 }, async (t) => {
  const workdir = await mkdtemp(join(tmpdir(), 'evident-demo-test-'));
  t.after(() => rm(workdir, { recursive: true, force: true }));
  const lines: string[] = [];
  const result = await runDemo({ workdir, log: (l) => lines.push(l) });
  const output = lines.join('\n');
  assert.ok(result.honestPassed, output);
  assert.ok(result.honestLaterPassed, output);
  const byName = new Map(result.attacks.map((a) => [a.attack, a]));
  const expectations: [string, RegExp][] = [
    [
      'a one-line change to the source after the sign-off',
      /build: materials: MATCH src\/hello\.c WITH PRODUCTS FROM code: src\/hello\.c sha256/,
    ],
    ['a swapped binary inside the delivered image', /unpack: materials: MATCH hello-image\.tar WITH PRODUCTS FROM package/],
    [
      'a build performed by a workload without the builder identity (a rogue runner)',
      /build: .*spiffe:\/\/demo\.evident\/ci\/scanner does not satisfy build's constraints/,
    ],
    ['a link edited after signing (the build product hash replaced)', /build: .*signature does not verify/],
    ['an expired layout', /layout expired 2020-01-31/],
    [
      'a build link signed with a stolen builder key after its SVID expired, back-dated',
      /build: .*timestamp 1 of signature by spiffe:\/\/demo\.evident\/ci\/builder: not signed by a TSA the layout trusts/,
    ],
    [
      'a backdoored library behind a backslash-named decoy of it',
      /refused to record the package step: .*vendor\/zlib-1\.3\.1\\libz\.so\.1: cannot be recorded: .*backslash[^]*then the deployer: ✗ package: 0 of 1 link/,
    ],
    [
      'a library with a known critical advisory added to the image',
      /scan-policy: .*exited with 1.*at or above high.*\n.*│ ✗ zlib 1\.2\.11: EVD-2022-0001 \[CVE-2022-37434\] \(critical\)/,
    ],
  ];
  assert.equal(result.attacks.length, expectations.length);
  for (const [name, reason] of expectations) {
    const outcome = byName.get(name);
    assert.ok(outcome, `attack '${name}' ran`);
    assert.ok(outcome.caught, `attack '${name}' was caught\n${output}`);
    assert.match(outcome.reason, reason, `attack '${name}' reason`);
  }
  assert.match(output, /== later: every SVID that signed the honest pipeline has expired\n.*build: 1 of 1 link signed by .*\(timestamped /);
  assert.match(output, /== summary/);
  assert.match(output, /✓ build: 1 of 1 link signed by spiffe:\/\/demo\.evident\/ci\/builder \(timestamped \S+ by CN=evident TSA/);
  assert.match(output, /✓ scan: 1 of 1 link signed by spiffe:\/\/demo\.evident\/ci\/scanner/);
});
