import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo } from '../../src/demo/hello-world.js';

test('the demo: the honest pipeline passes and every attack is caught, each for its own reason', { timeout: 180_000 }, async (t) => {
  const workdir = await mkdtemp(join(tmpdir(), 'evident-demo-test-'));
  t.after(() => rm(workdir, { recursive: true, force: true }));
  const lines: string[] = [];
  const result = await runDemo({ workdir, log: (l) => lines.push(l) });
  const output = lines.join('\n');
  assert.ok(result.honestPassed, output);
  const byName = new Map(result.attacks.map((a) => [a.attack, a]));
  const expectations: [string, RegExp][] = [
    ['a one-line change to the source after the sign-off', /build.*MATCH src\/hello\.c WITH PRODUCTS FROM code/],
    ['a swapped binary inside the delivered archive', /unpack.*hello\.tar/],
    ['a build performed by a rogue runner with its own key', /build.*(threshold|no link|authorized)/i],
    ['a link edited after signing (the build product hash replaced)', /build.*(signature|threshold|no link)/i],
    ['an expired layout', /expired/i],
  ];
  assert.equal(result.attacks.length, expectations.length);
  for (const [name, reason] of expectations) {
    const outcome = byName.get(name);
    assert.ok(outcome, `attack '${name}' ran`);
    assert.ok(outcome.caught, `attack '${name}' was caught\n${output}`);
    assert.match(outcome.reason, reason, `attack '${name}' reason`);
  }
  assert.match(output, /== summary/);
});
