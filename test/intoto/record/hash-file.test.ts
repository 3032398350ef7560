import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CHUNK_SIZE, LineEndingNormalizer, hashFileSync } from '../../../src/intoto/record/hash-file.js';
import { mkfifo, removeDir, sha256, tempDir } from './helpers.js';

test('hashFileSync streams through one reused buffer and equals the one-shot hash', () => {
  const dir = tempDir();
  try {
    const data = randomBytes(2 * CHUNK_SIZE + 3);
    writeFileSync(join(dir, 'f'), data);
    const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
    assert.deepEqual(hashFileSync(join(dir, 'f'), ['sha256'], false, buffer), { ok: { sha256: sha256(data) } });
    assert.deepEqual(hashFileSync(join(dir, 'f'), ['sha256'], false, buffer, 2 * CHUNK_SIZE), { defer: true });
    assert.ok('ok' in hashFileSync(join(dir, 'f'), ['sha256'], false, buffer, 3 * CHUNK_SIZE));
    assert.deepEqual(hashFileSync(join(dir, 'gone'), ['sha256'], false, buffer), { skip: 'disappeared while recording' });
  } finally {
    removeDir(dir);
  }
});

test("a FIFO that took a file's place is skipped, not waited on", () => {
  const dir = tempDir();
  try {
    mkfifo(join(dir, 'p'));
    const r = hashFileSync(join(dir, 'p'), ['sha256'], false, Buffer.allocUnsafe(CHUNK_SIZE));
    assert.deepEqual(r, { skip: 'not a regular file' });
  } finally {
    removeDir(dir);
  }
});

test('a device is never hashed to no end', () => {
  const r = hashFileSync('/dev/zero', ['sha256'], false, Buffer.allocUnsafe(CHUNK_SIZE));
  assert.deepEqual(r, { skip: 'not a regular file' });
});

test('hashFileSync normalizes line endings across its reads', () => {
  const dir = tempDir();
  try {
    const pad = Buffer.alloc(CHUNK_SIZE - 1, 'a');
    writeFileSync(join(dir, 'f'), Buffer.concat([pad, Buffer.from('\r\nx\ry\r\r\n')]));
    const r = hashFileSync(join(dir, 'f'), ['sha256', 'sha512'], true, Buffer.allocUnsafe(CHUNK_SIZE));
    const want = Buffer.concat([pad, Buffer.from('\nx\ny\n\n')]);
    assert.deepEqual(r, { ok: { sha256: sha256(want), sha512: createHash('sha512').update(want).digest('hex') } });
  } finally {
    removeDir(dir);
  }
});

test('LineEndingNormalizer: CRLF and CR become LF, also when split across chunks', () => {
  const n = new LineEndingNormalizer();
  const parts = ['a\r', '\nb\r', '\r', '\nc\r'].map((s) => Buffer.from(s));
  const out = Buffer.concat(parts.map((p) => n.transform(p))).toString();
  assert.equal(out, 'a\nb\n\nc\n');
});
