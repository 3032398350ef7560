/** The gate's policy file: YAML or JSON, several policies, every error naming the file and the field. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EvidentError } from '../../src/errors.js';
import { imageGlob } from '../../src/gate/image-glob.js';
import { loadPolicyFile } from '../../src/gate/policy-file.js';
import { PolicyMatcher } from '../../src/gate/policy.js';
import { pageChain } from '../store/chain-fixtures.js';

describe('gate policy file', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'evident-gate-policy-'));
    const chain = pageChain(dir);
    copyFileSync(chain.layoutFile, join(dir, 'payments.layout'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const refusal = async (text: string, pattern: RegExp) => {
    const file = write('bad.yaml', text);
    await assert.rejects(loadPolicyFile(file, 'bad.yaml'), (e: unknown) => {
      assert.ok(e instanceof EvidentError);
      assert.equal(e.code, 'BAD_INPUT');
      assert.equal(e.file, 'bad.yaml');
      assert.match(e.message, pattern);
      return true;
    });
  };

  it('reads several policies from YAML, files relative to the policy file, in order', async () => {
    const file = write(
      'gate.yaml',
      [
        'policies:',
        '  - name: payments',
        '    layout: payments.layout',
        '    layoutKeys: [owner.pub]',
        '    namespaces: [payments]',
        '    images: ["registry.example/payments/**"]',
        '  - layout: root.layout',
        '    layoutKeys:',
        '      - owner.pub',
        '',
      ].join('\n'),
    );
    const policies = await loadPolicyFile(file, 'gate.yaml');
    assert.deepEqual(
      policies.map((p) => [p.name, p.namespaces, p.images, p.skipInspections]),
      [
        ['payments', ['payments'], ['registry.example/payments/**'], false],
        ['root.layout', [], [], false],
      ],
    );
    assert.equal(policies[0]!.keys.length, 1);
    assert.equal(policies[0]!.layout._type, 'layout');
  });

  it('reads JSON too', async () => {
    const file = write(
      'gate.json',
      JSON.stringify({ policies: [{ layout: 'root.layout', layoutKeys: ['owner.pub'], skipInspections: true }] }),
    );
    const [p] = await loadPolicyFile(file, 'gate.json');
    assert.equal(p!.skipInspections, true);
  });

  it('names the file and the field of every error', async () => {
    await refusal('policies: []\n', /^policies: the list is empty/);
    await refusal('layout: root.layout\n', /^policies: the file must have a list/);
    await refusal('policies:\n  - layoutKeys: [owner.pub]\n', /^policies\[0\]\.layout: the signed layout file is required/);
    await refusal('policies:\n  - layout: root.layout\n', /^policies\[0\]\.layoutKeys: must be a list/);
    await refusal(
      'policies:\n  - layout: root.layout\n    layoutKeys: [owner.pub, 7]\n',
      /^policies\[0\]\.layoutKeys\[1\]: must be a non-empty string/,
    );
    await refusal(
      'policies:\n  - layout: root.layout\n    layoutKeys: [owner.pub]\n    namespace: [x]\n',
      /^policies\[0\]\.namespace: unknown field/,
    );
    await refusal(
      'policies:\n  - layout: root.layout\n    layoutKeys: [owner.pub]\n    skipInspections: yes\n',
      /^policies\[0\]\.skipInspections: must be true or false/,
    );
    await refusal('policies: [\n', /^not YAML or JSON/);
  });

  it('names the layout or key file that cannot be read', async () => {
    const file = write('missing.yaml', 'policies:\n  - layout: root.layout\n    layoutKeys: [nobody.pub]\n');
    await assert.rejects(loadPolicyFile(file, 'conf/missing.yaml'), (e: unknown) => {
      assert.ok(e instanceof EvidentError);
      assert.equal(e.file, 'conf/nobody.pub');
      return true;
    });
    await assert.rejects(loadPolicyFile(join(dir, 'absent.yaml'), 'absent.yaml'), /cannot read the policy file: ENOENT/);
  });

  it('matches image names: * within a segment, ** across, everything else literal', () => {
    assert.ok(imageGlob('registry.example/team/*').test('registry.example/team/api'));
    assert.ok(!imageGlob('registry.example/team/*').test('registry.example/team/sub/api'));
    assert.ok(imageGlob('registry.example/**').test('registry.example/team/sub/api'));
    assert.ok(!imageGlob('registry.example/*').test('registryXexample/api'));
    const m = new PolicyMatcher({
      name: 'p',
      layout: undefined as never,
      document: undefined as never,
      keys: [],
      namespaces: [],
      images: ['a/*'],
      skipInspections: false,
    });
    assert.equal(m.applies(undefined, 'default'), false, 'a bare digest is covered only by a policy without image patterns');
    assert.equal(m.applies('a/b', undefined), true);
  });
});
