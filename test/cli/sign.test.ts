import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePrivateKey, saveKeyPair } from '../../src/crypto/key-files.js';
import { linkFileName } from '../../src/intoto/models/link.js';
import {
  loadMetadataFile,
  serializeMetablock,
  signLinkEnvelope,
  signMetablock,
  writeMetadataFile,
} from '../../src/intoto/models/metablock.js';
import { runCli } from '../helpers/cli.js';
import { alice, bob, json, validLayout, validLink, type Loose } from '../intoto/models/fixtures.js';

async function setup(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'evident-sign-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await saveKeyPair(alice, join(dir, 'alice'));
  await saveKeyPair(bob, join(dir, 'bob'));
  return dir;
}

async function writeBrokenLayout(dir: string, breakIt: (l: Loose) => void): Promise<void> {
  const layout = json(validLayout()) as Loose;
  breakIt(layout);
  await writeFile(join(dir, 'root.layout'), JSON.stringify({ signed: layout, signatures: [] }, null, 1));
}

test('each class of bad input: exit 2 and one line naming the file and the field', async (t) => {
  const dir = await setup(t);
  const cases: [string, (l: Loose) => void, string][] = [
    [
      'unknown field',
      (l) => (l.stepz = 1),
      'evident: root.layout: stepz: unknown field (expected one of: _type, expires, readme, keys, steps, inspect, rootcas, intermediatecas, timestampauthorities)',
    ],
    [
      'malformed rule',
      (l) => (l.steps[1].expected_materials[0] = ['MATCH', 'foo', 'WITH', 'BAR']),
      "evident: root.layout: steps[1].expected_materials[0]: MATCH needs WITH MATERIALS|PRODUCTS (found 'BAR'): MATCH <pattern> [IN <prefix>] WITH MATERIALS|PRODUCTS [IN <prefix>] FROM <step>; rule: MATCH foo WITH BAR",
    ],
    ['bad date', (l) => (l.expires = '2030-13-01T00:00:00Z'), 'evident: root.layout: expires: "2030-13-01T00:00:00Z" is not a real date'],
    [
      'threshold < 1',
      (l) => (l.steps[0].threshold = 0),
      'evident: root.layout: steps[0].threshold: must be at least 1, not 0 (a step needs evidence from someone)',
    ],
    [
      'duplicate step names',
      (l) => (l.steps[1].name = 'code'),
      "evident: root.layout: steps[1].name: 'code' is already the name of steps[0]; step and inspection names must be unique",
    ],
    [
      'name with /',
      (l) => (l.steps[0].name = 'a/b'),
      "evident: root.layout: steps[0].name: 'a/b' must not contain '/' (link files are named after it)",
    ],
    [
      'name ..',
      (l) => (l.steps[0].name = '..'),
      "evident: root.layout: steps[0].name: '..' is not a usable name (link files are named after it)",
    ],
  ];
  for (const [what, breakIt, line] of cases) {
    await writeBrokenLayout(dir, breakIt);
    const r = await runCli(['sign', '-k', 'alice', 'root.layout'], { cwd: dir });
    assert.equal(r.code, 2, what);
    assert.equal(r.stderr, `${line}\n`, what);
    assert.equal(r.stdout, '', what);
  }
});

test('floats, oversized and malformed files: exit 2, one line', async (t) => {
  const dir = await setup(t);
  await writeFile(join(dir, 'root.layout'), '{"signed": {"_type": "layout", "steps": [{"threshold": 1.5}]}, "signatures": []}');
  let r = await runCli(['sign', '-k', 'alice', 'root.layout'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'evident: root.layout: line 1 column 56: number 1.5 is not an integer (canonical JSON allows integers only)\n');
  // sparse: 257 MiB on paper, nothing on disk; refused by its size before any read
  const handle = await open(join(dir, 'big.link'), 'w');
  await handle.truncate(257 * 1024 * 1024);
  await handle.close();
  r = await runCli(['sign', '-k', 'alice', 'big.link'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `evident: big.link: is ${257 * 1024 * 1024} bytes, more than the ${256 * 1024 * 1024} bytes metadata may have\n`);
  await writeFile(join(dir, 'bad.json'), '{"signed": ');
  r = await runCli(['sign', '-k', 'alice', 'bad.json'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^evident: bad\.json: malformed JSON: .*\n$/);
  r = await runCli(['sign', '-k', 'nokey', 'bad.json'], { cwd: dir });
  assert.equal(r.code, 2);
});

test('several problems: one line each, each prefixed', async (t) => {
  const dir = await setup(t);
  await writeBrokenLayout(dir, (l) => {
    l.expires = 'soon';
    l.steps[0].threshold = 0;
  });
  const r = await runCli(['sign', '-k', 'alice', 'root.layout'], { cwd: dir });
  assert.equal(r.code, 2);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2);
  assert.ok(
    lines.every((l) => l.startsWith('evident: root.layout: ')),
    r.stderr,
  );
});

test('sign a layout (overwrites), --append, --verify', async (t) => {
  const dir = await setup(t);
  const file = join(dir, 'root.layout');
  await writeMetadataFile(file, signMetablock(validLayout(), [bob]));
  let r = await runCli(['sign', '-k', 'alice', 'root.layout'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  let loaded = await loadMetadataFile(file);
  assert.deepEqual(loaded.format === 'metablock' && loaded.metablock.signatures.map((s) => s.keyid), [alice.keyid], 'replaced');
  r = await runCli(['sign', 'root.layout', '-k', 'bob', '--append'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  loaded = await loadMetadataFile(file);
  assert.deepEqual(loaded.format === 'metablock' && loaded.metablock.signatures.map((s) => s.keyid), [alice.keyid, bob.keyid]);
  r = await runCli(['sign', '--verify', '-k', 'alice.pub', 'bob.pub', 'root.layout'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`root.layout: signature by ${alice.keyid} \\(alice.pub\\): valid`));
  const carol = generatePrivateKey('rsa', { bits: 2048 });
  await saveKeyPair(carol, join(dir, 'carol'));
  r = await runCli(['sign', '--verify', '-k', 'alice.pub', 'carol.pub', 'root.layout', '--json'], { cwd: dir });
  assert.equal(r.code, 1);
  assert.deepEqual(
    JSON.parse(r.stdout).signatures.map((s: { valid: boolean }) => s.valid),
    [true, false],
  );
  // a changed layout no longer verifies
  const text = await readFile(file, 'utf8');
  await writeFile(file, text.replace('"readme": "demo"', '"readme": "demo!"'));
  r = await runCli(['sign', '--verify', '-k', 'alice.pub', 'root.layout'], { cwd: dir });
  assert.equal(r.code, 1);
  r = await runCli(['sign', '-k', 'alice', 'root.layout', '-o', 'out.layout'], { cwd: dir });
  assert.equal(r.code, 0);
  assert.ok((await readdir(dir)).includes('out.layout'));
});

test('sign a link: <step>.<keyid[:8]>.link, one key, no --append', async (t) => {
  const dir = await setup(t);
  await writeFile(join(dir, 'unsigned.link'), serializeMetablock({ signed: validLink(), signatures: [] }));
  let r = await runCli(['sign', '-k', 'bob', 'unsigned.link'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const name = linkFileName('build', bob.keyid);
  assert.ok((await readdir(dir)).includes(name));
  r = await runCli(['sign', '--verify', '-k', 'bob.pub', name], { cwd: dir });
  assert.equal(r.code, 0);
  r = await runCli(['sign', '-k', 'alice', 'bob', 'unsigned.link'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /a link is evidence of one functionary and is signed by one key/);
  r = await runCli(['sign', '-k', 'alice', '--append', 'unsigned.link'], { cwd: dir });
  assert.equal(r.code, 2);
});

test('DSSE links are re-signed and verified on the envelope', async (t) => {
  const dir = await setup(t);
  await writeMetadataFile(join(dir, 'build.dsse'), signLinkEnvelope(validLink(), [bob]));
  let r = await runCli(['sign', '--verify', '-k', 'bob.pub', 'build.dsse'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  r = await runCli(['sign', '-k', 'alice', 'build.dsse', '-o', 'a.dsse'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  r = await runCli(['sign', '--verify', '-k', 'alice.pub', 'a.dsse'], { cwd: dir });
  assert.equal(r.code, 0);
  r = await runCli(['sign', '--verify', '-k', 'bob.pub', 'a.dsse'], { cwd: dir });
  assert.equal(r.code, 1, 'replaced, not appended');
});
