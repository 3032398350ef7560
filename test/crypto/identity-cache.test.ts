import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdentityCache } from '../../src/crypto/identity-cache.js';

test('an identity cache makes each entry once per object, keeps what is remembered, and remakes what is no longer fresh', () => {
  let made = 0;
  const make = (o: { n: number }) => {
    made++;
    return o.n * 2;
  };
  const cache = new IdentityCache<{ n: number }, number>();
  const a = { n: 1 };
  assert.equal(cache.get(a, make), 2);
  assert.equal(cache.get(a, make), 2);
  assert.equal(made, 1, 'once per object');
  assert.equal(cache.get({ n: 1 }, make), 2);
  assert.equal(made, 2, 'an equal object is another key');
  a.n = 5;
  assert.equal(cache.get(a, make), 2, 'the frozen-input contract: a change goes unseen');
  const b = { n: 3 };
  cache.remember(b, 6);
  assert.equal(cache.get(b, make), 6);
  assert.equal(made, 2, 'a remembered entry is not made again');

  const checked = new IdentityCache<{ n: number }, { from: number; value: number }>((entry, key) => entry.from === key.n);
  const c = { n: 1 };
  const makeChecked = (o: { n: number }) => ({ from: o.n, value: make(o) });
  assert.equal(checked.get(c, makeChecked).value, 2);
  c.n = 4;
  assert.equal(checked.get(c, makeChecked).value, 8, 'a cache that checks its entries sees the change');
});
