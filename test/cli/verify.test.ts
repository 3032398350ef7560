import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { saveKeyPair } from '../../src/crypto/key-files.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { inspection, put, sign, tempDir, type TempDir } from '../intoto/verify/fixtures.js';
import { chainLayout, owner, alice, writeChain } from '../intoto/verify/chain.js';

let tmp: TempDir;
let dir = '';

before(async () => {
  tmp = await tempDir('evident-cli-verify-');
  dir = tmp.dir;
  await writeChain(dir, { layout: chainLayout({ expires: '2099-01-01T00:00:00Z' }) });
  await saveKeyPair(owner(), join(dir, 'owner'));
  await saveKeyPair(owner(), join(dir, 'owner-json'), { format: 'securesystemslib' });
  await saveKeyPair(alice(), join(dir, 'alice'));
});

after(async () => {
  await tmp.cleanup();
});

/** `evident verify ARGV…` in-process through main(), from the chain's folder. */
function cli(argv: string[]): Promise<CliResult> {
  return runCli(['verify', ...argv], { cwd: dir });
}

test('evident verify: exit 0 and one ✓ line per check when the chain is honest', async () => {
  const r = await cli(['-l', 'root.layout', '-k', 'owner.pub']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^✓ layout signed by every given key/m);
  assert.match(r.stdout, /^✓ package: products: 2 rules passed over 1 artifact$/m);
  assert.match(r.stdout, /^PASSED/m);
});

test('evident verify: keys as securesystemslib JSON, and a key given twice counts once', async () => {
  assert.equal((await cli(['-l', 'root.layout', '-k', 'owner-json.pub'])).code, 0);
  assert.equal((await cli(['-l', 'root.layout', '-k', 'owner.pub', 'owner-json.pub', '--link-dir', '.'])).code, 0);
});

test('evident verify: exit 1 when a key given did not sign the layout, or it expired', async () => {
  const r = await cli(['-l', 'root.layout', '-k', 'owner.pub', 'alice.pub']);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^✗ layout is not validly signed by /m);
  assert.match(r.stdout, /^FAILED/m);
  const late = await cli(['-l', 'root.layout', '-k', 'owner.pub', '--verify-time', '2099-06-01T00:00:00+02:00']);
  assert.equal(late.code, 1);
  assert.match(late.stdout, /^✗ layout expired 2099-01-01T00:00:00Z/m);
});

test('evident verify --json: the same report as a document', async () => {
  const r = await cli(['-l', 'root.layout', '-k', 'owner.pub', '--json']);
  assert.equal(r.code, 0);
  const doc = JSON.parse(r.stdout) as { ok: boolean; layout: string; checks: { id: string; ok: boolean }[] };
  assert.equal(doc.ok, true);
  assert.equal(doc.layout, 'root.layout');
  assert.equal(doc.checks[0]!.id, 'layout-signature');
});

test('evident verify --max-link-size: a link over the limit is refused (exit 1)', async () => {
  const r = await cli(['-l', 'root.layout', '-k', 'owner.pub', '--max-link-size', '100']);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /over the 100-byte limit for link files \(raise it with --max-link-size\)/);
});

test('evident verify: bad input exits 2 with one line on stderr', async () => {
  const cases: [string[], RegExp][] = [
    [['-l', 'missing.layout', '-k', 'owner.pub'], /^evident: .*missing\.layout: no such file or directory\n$/],
    [['-l', 'root.layout', '-k', 'nokey.pub'], /nokey\.pub: no such file or directory/],
    [['-l', 'root.layout', '-k', 'owner'], /^evident: owner: this is a private key/],
    [['-l', 'root.layout', '-k', 'owner.pub', '--verify-time', 'tomorrow'], /--verify-time must be an RFC 3339 time/],
    [['-l', 'root.layout', '-k', 'owner.pub', '--max-link-size', '1e3'], /--max-link-size must be a positive number of bytes/],
    [['-l', 'root.layout', '-k', 'owner.pub', '--inspection-timeout', '0'], /--inspection-timeout must be a positive number/],
    [['-l', 'root.layout'], /give the layout owners' keys: -k KEY_FILE… and\/or --gpg KEYID…/],
    [['-l', 'root.layout', '-k', 'owner.pub', '--link-dir', 'no-such-dir'], /^evident: no-such-dir: no such folder of links\n$/],
    [['-l', 'bad.layout', '-k', 'owner.pub'], /^evident: bad\.layout: /],
    [['-l', 'dots.layout', '-k', 'owner.pub'], /'\.\.'/],
  ];
  await writeFile(join(dir, 'bad.layout'), '{"signed": {"_type": "layout", "expires": 1.5}, "signatures": []}');
  const l = chainLayout();
  await put(dir, 'dots.layout', sign({ ...l, steps: [{ ...l.steps[0]!, name: '..' }] }, [owner()]));
  for (const [argv, message] of cases) {
    const r = await cli(argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, argv.join(' '));
    assert.doesNotMatch(r.stderr, /\n {4}at /, 'no stack trace');
  }
});

test('evident verify --inspection-timeout: a slow inspection fails (exit 1)', async () => {
  await put(dir, 'slow.layout', sign(chainLayout({ inspect: [inspection('slow', ['sleep', '20'])] }), [owner()]));
  const r = await cli(['-l', 'slow.layout', '-k', 'owner.pub', '--inspection-timeout', '0.3']);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^✗ slow: \["sleep","20"\] failed: .*timed out after 300 ms/m);
});

test('evident verify: a key that did not sign the layout fails with exit 1', async () => {
  const r = await runCli(['verify', '-l', 'root.layout', '-k', 'owner.pub'], { cwd: dir });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal((await runCli(['verify', '-l', 'root.layout', '-k', 'alice.pub'], { cwd: dir })).code, 1);
});

test('a failed inspection shows what it printed under its line, each line fenced', async () => {
  const layout = chainLayout({
    expires: '2099-01-01T00:00:00Z',
    inspect: [inspection('policy', ['sh', '-c', 'printf "finding: pkg 1.0 (critical)\\n\\033[2J✓ fake\\n"; exit 1'])],
  });
  await writeChain(join(dir, 'policy'), { layout });
  await saveKeyPair(owner(), join(dir, 'policy', 'owner'));
  const r = await runCli(['verify', '-l', 'root.layout', '-k', 'owner.pub'], { cwd: join(dir, 'policy') });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.ok(r.stdout.includes('exited with 1\n  │ finding: pkg 1.0 (critical)\n  │  [2J✓ fake\n'), r.stdout);
});

test('evident verify: on a terminal, stderr names each long stage and is cleared before the report; elsewhere it stays quiet', async () => {
  const tty = await runCli(['verify', '-l', 'root.layout', '-k', 'owner.pub'], { cwd: dir, stderrIsTTY: true });
  assert.equal(tty.code, 0, tty.stderr);
  const stages = tty.stderr.split('\r\x1b[K').filter((s) => s !== '');
  assert.deepEqual(stages, [
    'verify: reading the links of code',
    'verify: reading the links of build',
    'verify: reading the links of package',
    'verify: applying the rules of code',
    'verify: applying the rules of build',
    'verify: applying the rules of package',
  ]);
  assert.ok(tty.stderr.endsWith('\r\x1b[K'), 'the line is cleared at the end');
  assert.equal((await cli(['-l', 'root.layout', '-k', 'owner.pub'])).stderr, '');
});
