import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isEvidentError } from '../../../src/errors.js';
import { collectArtifacts } from '../../../src/intoto/record/index.js';
import { makeTree, mkfifo, removeDir, sha256, tempDir } from './helpers.js';

describe('collectArtifacts: names', () => {
  let root: string;
  before(() => {
    root = tempDir();
    makeTree(root, { 'a.txt': 'a', 'dir/b.txt': 'b', 'dir/sub/c.txt': 'c', 'empty/': '' });
  });
  after(() => removeDir(root));

  test('normalized relative POSIX paths, as Python normpath gives them', async () => {
    const map = await collectArtifacts(['./a.txt', 'dir/../a.txt', 'dir/', 'empty'], { basePath: root });
    assert.deepEqual(map, {
      'a.txt': { sha256: sha256('a') },
      'dir/b.txt': { sha256: sha256('b') },
      'dir/sub/c.txt': { sha256: sha256('c') },
    });
    assert.deepEqual(Object.keys(map), ['a.txt', 'dir/b.txt', 'dir/sub/c.txt'], 'keys inserted in sorted order');
  });

  test('the base path itself ("." and "") records everything below it without a ./ prefix', async () => {
    const dot = await collectArtifacts(['.'], { basePath: root });
    assert.deepEqual(Object.keys(dot), ['a.txt', 'dir/b.txt', 'dir/sub/c.txt']);
    assert.deepEqual(await collectArtifacts([''], { basePath: root }), dot);
  });

  test('absolute paths stay absolute; paths outside the base keep their ../', async () => {
    const abs = await collectArtifacts([join(root, 'dir')], { basePath: join(root, 'empty') });
    assert.deepEqual(Object.keys(abs), [join(root, 'dir/b.txt'), join(root, 'dir/sub/c.txt')]);
    const outside = await collectArtifacts(['../a.txt', '../dir/sub'], { basePath: join(root, 'dir') });
    assert.deepEqual(Object.keys(outside), ['../a.txt', '../dir/sub/c.txt']);
  });

  test('no paths, no artifacts; a missing path is skipped with a warning', async () => {
    assert.deepEqual(await collectArtifacts([], { basePath: root }), {});
    const warnings: string[] = [];
    const map = await collectArtifacts(['nope', 'a.txt'], { basePath: root, onWarning: (w) => warnings.push(w) });
    assert.deepEqual(Object.keys(map), ['a.txt']);
    assert.deepEqual(warnings, ['nope: does not exist, skipping']);
  });

  test('a base path that is not a directory is a one-line input error', async () => {
    await assert.rejects(collectArtifacts(['.'], { basePath: join(root, 'a.txt') }), (e) => {
      return isEvidentError(e) && e.code === 'BAD_INPUT' && /as base path/.test(e.message);
    });
  });

  test('unicode names, sorted by code point as Python sorts them', async () => {
    const dir = tempDir();
    try {
      makeTree(dir, { 'ünï/çødé 文件.txt': 'u', 'z\u{1F600}.txt': 'astral', 'z\uFB01.txt': 'bmp' });
      const map = await collectArtifacts(['.'], { basePath: dir });
      // U+1F600 sorts after U+FB01 by code point (UTF-16 order would put it first).
      assert.deepEqual(Object.keys(map), ['z\uFB01.txt', 'z\u{1F600}.txt', 'ünï/çødé 文件.txt']);
      assert.equal(map['ünï/çødé 文件.txt']!.sha256, sha256('u'));
    } finally {
      removeDir(dir);
    }
  });
});

describe('collectArtifacts: excludes', () => {
  let root: string;
  before(() => {
    root = tempDir();
    makeTree(root, {
      'src/m.py': 'py',
      'src/m.pyc': 'pyc',
      '.git/HEAD': 'ref',
      'sub/.git/config': 'c',
      'build.abcdef12.link': '{}',
      'notes~': 'n',
      'build/out.o': 'o',
      'build/keep.o': 'k',
      'docs/a.md': 'a',
    });
  });
  after(() => removeDir(root));

  test('the reference default excludes apply when no patterns are given', async () => {
    const map = await collectArtifacts(['.'], { basePath: root });
    assert.deepEqual(Object.keys(map), ['build/keep.o', 'build/out.o', 'docs/a.md', 'src/m.py']);
  });

  test('given patterns replace the defaults (as in the reference)', async () => {
    const map = await collectArtifacts(['.'], { basePath: root, excludePatterns: ['build/', 'docs'] });
    assert.deepEqual(Object.keys(map), ['.git/HEAD', 'build.abcdef12.link', 'notes~', 'src/m.py', 'src/m.pyc', 'sub/.git/config']);
  });

  test('*.pyc, dir/ and negation', async () => {
    const map = await collectArtifacts(['src', 'build'], {
      basePath: root,
      excludePatterns: ['*.pyc', 'build/', '!build/keep.o'],
    });
    assert.deepEqual(Object.keys(map), ['build/keep.o', 'src/m.py']);
  });

  test('excludes apply to the paths given, too', async () => {
    const map = await collectArtifacts(['src/m.pyc', 'notes~', 'docs'], { basePath: root });
    assert.deepEqual(Object.keys(map), ['docs/a.md']);
  });
});

describe('collectArtifacts: lstrip', () => {
  let root: string;
  before(() => {
    root = tempDir();
    makeTree(root, { 'out/dist/app.js': 'app', 'out/dist/lib/x.js': 'x', 'app.js': 'top' });
  });
  after(() => removeDir(root));

  test('strips the first matching prefix (a plain string prefix)', async () => {
    const map = await collectArtifacts(['out'], { basePath: root, lstripPaths: ['out/dist/'] });
    assert.deepEqual(Object.keys(map), ['app.js', 'lib/x.js']);
    const noSlash = await collectArtifacts(['out'], { basePath: root, lstripPaths: ['out/dist'] });
    assert.deepEqual(Object.keys(noSlash), ['/app.js', '/lib/x.js']);
  });

  test('a collision after stripping names both paths', async () => {
    await assert.rejects(collectArtifacts(['.'], { basePath: root, lstripPaths: ['out/dist/'] }), (e) => {
      return (
        isEvidentError(e) && e.code === 'ARTIFACT_COLLISION' && e.message.includes("'app.js'") && e.message.includes("'out/dist/app.js'")
      );
    });
  });

  test('prefixes where one is a prefix of another are refused', async () => {
    await assert.rejects(
      collectArtifacts(['.'], { basePath: root, lstripPaths: ['out/', 'out/dist/'] }),
      (e) => isEvidentError(e) && e.code === 'ARTIFACT_COLLISION' && /prefix of the other/.test(e.message),
    );
  });
});

describe('collectArtifacts: symlinks and special files', () => {
  let root: string;
  before(() => {
    root = tempDir();
    makeTree(root, {
      'real/f.txt': 'f',
      'tree/file-link': '-> ../real/f.txt',
      'tree/dir-link': '-> ../real',
      'tree/dangling': '-> ../nowhere',
      'tree/plain.txt': 'p',
    });
  });
  after(() => removeDir(root));

  test('a symlink to a file is recorded under its own name with the target content', async () => {
    const map = await collectArtifacts(['tree/file-link'], { basePath: root });
    assert.deepEqual(map, { 'tree/file-link': { sha256: sha256('f') } });
  });

  test('symlinked directories are not followed by default (as record_artifacts_as_dict), only when asked', async () => {
    const warnings: string[] = [];
    const followed = await collectArtifacts(['tree'], { basePath: root, followSymlinkDirs: true, onWarning: (w) => warnings.push(w) });
    assert.deepEqual(Object.keys(followed), ['tree/dir-link/f.txt', 'tree/file-link', 'tree/plain.txt']);
    assert.deepEqual(warnings, ['tree/dangling: dangling symlink, skipping']);
    const notFollowed = await collectArtifacts(['tree'], { basePath: root });
    assert.deepEqual(Object.keys(notFollowed), ['tree/file-link', 'tree/plain.txt']);
    const given = await collectArtifacts(['tree/dir-link'], { basePath: root, followSymlinkDirs: false });
    assert.deepEqual(Object.keys(given), ['tree/dir-link/f.txt'], 'a symlink given explicitly is walked');
  });

  test('a symlink loop is an error, found quickly', async () => {
    const dir = tempDir();
    try {
      makeTree(dir, { 'a/x.txt': 'x', 'a/up': '-> ..' });
      const start = Date.now();
      await assert.rejects(collectArtifacts(['.'], { basePath: dir, followSymlinkDirs: true }), (e) => {
        return isEvidentError(e) && e.code === 'SYMLINK_LOOP' && e.file === 'a/up';
      });
      assert.ok(Date.now() - start < 5000);
      // Not followed (the default), there is no loop: the reference lists it and moves on.
      assert.deepEqual(Object.keys(await collectArtifacts(['.'], { basePath: dir })), ['a/x.txt']);
    } finally {
      removeDir(dir);
    }
  });

  test('loops through two symlinks and self-referencing symlinks are errors too', async () => {
    const dir = tempDir();
    try {
      makeTree(dir, { 'a/l1': '-> ../b', 'b/l2': '-> ../a', 'b/f': 'f' });
      await assert.rejects(
        collectArtifacts(['a'], { basePath: dir, followSymlinkDirs: true }),
        (e) => isEvidentError(e) && e.code === 'SYMLINK_LOOP',
      );
      const self = tempDir();
      try {
        makeTree(self, { me: '-> me', 'ok.txt': 'ok' });
        await assert.rejects(collectArtifacts(['.'], { basePath: self }), (e) => {
          return isEvidentError(e) && e.code === 'SYMLINK_LOOP' && e.file === 'me';
        });
        const map = await collectArtifacts(['.'], { basePath: self, excludePatterns: ['me'] });
        assert.deepEqual(Object.keys(map), ['ok.txt'], 'an excluded loop is never looked at');
      } finally {
        removeDir(self);
      }
    } finally {
      removeDir(dir);
    }
  });

  test('a FIFO or socket is skipped with a warning and never opened', async () => {
    const dir = tempDir();
    try {
      makeTree(dir, { 'sub/f.txt': 'f' });
      mkfifo(join(dir, 'sub', 'pipe'));
      mkfifo(join(dir, 'top-pipe'));
      makeTree(dir, { 'sub/pipe-link': '-> pipe' });
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(join(dir, 'sub', 'sock'), resolve));
      const warnings: string[] = [];
      try {
        const map = await collectArtifacts(['sub', 'top-pipe'], { basePath: dir, onWarning: (w) => warnings.push(w) });
        assert.deepEqual(Object.keys(map), ['sub/f.txt']);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
      assert.deepEqual(warnings.sort(), [
        'sub/pipe-link: is a FIFO, not a regular file, skipping',
        'sub/pipe: is a FIFO, not a regular file, skipping',
        'sub/sock: is a socket, not a regular file, skipping',
        'top-pipe: is a FIFO, not a regular file, skipping',
      ]);
    } finally {
      removeDir(dir);
    }
  });
});

describe('collectArtifacts: hashing', () => {
  let root: string;
  before(() => {
    root = tempDir();
  });
  after(() => removeDir(root));

  test('empty files and empty directories', async () => {
    makeTree(root, { 'e/empty.txt': '', 'e/deep/deeper/': '' });
    assert.deepEqual(await collectArtifacts(['e'], { basePath: root }), { 'e/empty.txt': { sha256: sha256('') } });
  });

  test('files bigger than the read chunk, in the hashing threads, equal the one-shot hash', async () => {
    const files: Record<string, Buffer> = {};
    // More files than are hashed without threads (512).
    for (let i = 0; i < 600; i++) files[`many/f${String(i).padStart(3, '0')}.bin`] = randomBytes((i * 97) % 20000);
    // Bigger than a read (1 MiB), and big enough to be sent back from its batch and hashed on its own.
    files['many/big.bin'] = randomBytes(3 * 1024 * 1024 + 12345);
    files['many/bigger.bin'] = randomBytes(5 * 1024 * 1024 + 7);
    makeTree(root, files);
    let last: [number, number] = [0, 0];
    const map = await collectArtifacts(['many'], { basePath: root, onProgress: (d, t) => (last = [d, t]) });
    assert.equal(Object.keys(map).length, 602);
    for (const [name, data] of Object.entries(files)) assert.equal(map[name]!.sha256, sha256(data), name);
    assert.deepEqual(last, [602, 602], 'progress ends at done = total');
  });

  test('the same on the main thread (the measured alternative)', async () => {
    const big = randomBytes(2 * 1024 * 1024 + 1);
    makeTree(root, { 'main/big.bin': big });
    const map = await collectArtifacts(['main'], { basePath: root, hashIn: 'main' });
    assert.equal(map['main/big.bin']!.sha256, sha256(big));
  });

  test('several algorithms; an unsupported one is refused', async () => {
    makeTree(root, { 'algs/x': 'x' });
    const map = await collectArtifacts(['algs'], { basePath: root, hashAlgorithms: ['sha256', 'sha512'] });
    assert.deepEqual(Object.keys(map['algs/x']!), ['sha256', 'sha512']);
    assert.match(map['algs/x']!.sha512!, /^[0-9a-f]{128}$/);
    await assert.rejects(
      collectArtifacts(['algs'], { basePath: root, hashAlgorithms: ['blake2b-256'] }),
      (e) => isEvidentError(e) && e.code === 'UNSUPPORTED',
    );
  });

  test('normalizeLineEndings hashes CRLF and CR as LF, across read chunks', async () => {
    const chunk = 1024 * 1024;
    const pad = Buffer.alloc(chunk - 1, 'a');
    // A CR ends the first read, its LF starts the second.
    const content = Buffer.concat([pad, Buffer.from('\r\nx\ry\r\r\nz\n')]);
    const normalized = Buffer.concat([pad, Buffer.from('\nx\ny\n\nz\n')]);
    mkdirSync(join(root, 'eol'), { recursive: true });
    writeFileSync(join(root, 'eol', 'text'), content);
    for (const hashIn of ['workers', 'main'] as const) {
      const map = await collectArtifacts(['eol/text'], { basePath: root, normalizeLineEndings: true, hashIn });
      assert.equal(map['eol/text']!.sha256, sha256(normalized), hashIn);
    }
    const raw = await collectArtifacts(['eol/text'], { basePath: root });
    assert.equal(raw['eol/text']!.sha256, sha256(content));
  });
});
