import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { folderSource, memorySource, type ReadResult } from '../../../src/intoto/verify/source.js';
import { tempDir } from './fixtures.js';

const text = (r: ReadResult) => (r.kind === 'bytes' ? r.bytes.toString('utf8') : r.kind);

test('folder source: a prefetched file is read once and handed to the next read; later reads read again', async () => {
  const tmp = await tempDir();
  try {
    await writeFile(join(tmp.dir, 'a.link'), '{"v": 1}');
    const source = folderSource(tmp.dir, 1024);
    source.prefetch!(['a.link', 'missing.link', 'a.link']);
    assert.equal(text(await source.read('a.link')), '{"v": 1}');
    await writeFile(join(tmp.dir, 'a.link'), '{"v": 2}');
    assert.equal(text(await source.read('a.link')), '{"v": 2}', 'the next read reads the file again');
    assert.equal((await source.read('missing.link')).kind, 'missing');
  } finally {
    await tmp.cleanup();
  }
});

test('folder source: limits, bad UTF-8 and non-files are reported, prefetched or not', async () => {
  const tmp = await tempDir();
  try {
    await writeFile(join(tmp.dir, 'big.link'), 'x'.repeat(2000));
    await writeFile(join(tmp.dir, 'latin1.link'), Buffer.from([0x7b, 0xe9, 0x7d]));
    await mkdir(join(tmp.dir, 'dir.link'));
    const source = folderSource(tmp.dir, 1024);
    source.prefetch!(['big.link', 'latin1.link', 'dir.link']);
    assert.deepEqual(await source.read('big.link'), { kind: 'too-large', size: 2000 });
    assert.deepEqual(await source.read('latin1.link'), { kind: 'malformed', reason: 'is not valid UTF-8' });
    assert.deepEqual(await source.read('dir.link'), { kind: 'not-regular', problem: 'is a directory, not a file' });
  } finally {
    await tmp.cleanup();
  }
});

test('memory source: bytes are handed out as a copy, since parsing rewrites them in place', async () => {
  const given = Buffer.from('{"v": 1}');
  const read = await memorySource({ 'a.link': given }, 1024).read('a.link');
  assert.equal(read.kind, 'bytes');
  if (read.kind === 'bytes') {
    read.bytes.fill(0x20);
    assert.equal(given.toString(), '{"v": 1}');
  }
});
