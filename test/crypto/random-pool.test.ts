import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomOctets } from '../../src/crypto/random-pool.js';
import { randomSerial } from '../../src/spiffe/x509svid/index.js';

test('randomOctets hands out each octet of the pool once, across refills, in copies of their own', () => {
  const seen = new Set<string>();
  const draws = Array.from({ length: 3000 }, () => randomOctets(16)); // ~12 refills of the 4 KiB pool
  for (const d of draws) {
    assert.equal(d.length, 16);
    seen.add(d.toString('hex'));
  }
  assert.equal(seen.size, draws.length, 'no 16 octets drawn twice');
  const first = Buffer.from(draws[0]!);
  randomOctets(4096); // a draw that empties the pool must not change what was handed out before
  assert.deepEqual(draws[0], first);
  assert.equal(randomOctets(0).length, 0);
  assert.throws(() => randomOctets(4097), RangeError);
  assert.throws(() => randomOctets(-1), RangeError);
});

test('random serials are positive 128-bit integers, 16 octets, and differ', () => {
  const serials = Array.from({ length: 1000 }, () => randomSerial());
  assert.equal(new Set(serials).size, serials.length);
  for (const s of serials) {
    assert.match(s, /^[0-7][0-9a-f]{31}$/);
    assert.notEqual(parseInt(s.slice(0, 2), 16) & 0x01, 0, 'the top byte is never 0');
  }
});
