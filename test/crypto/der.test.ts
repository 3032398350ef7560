// The DER a TSA writes by hand (src/time/der.ts), against asn1js's encoding of the same values.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as asn1js from 'asn1js';
import { context, generalizedTime, integer, octetString, sequence, setOrder, smallInteger } from '../../src/crypto/der.js';
import { objectIdentifier } from '../../src/crypto/object-identifier.js';

const asn1jsDer = (block: asn1js.BaseBlock): Buffer => Buffer.from(block.toBER(false));

describe('der', () => {
  it('writes lengths in the short form below 128 and in the fewest octets of the long form above', () => {
    for (const n of [0, 1, 127, 128, 255, 256, 1000, 65535, 65536, 70000]) {
      const bytes = Buffer.alloc(n, 0x5a);
      assert.deepEqual(octetString(bytes), asn1jsDer(new asn1js.OctetString({ valueHex: bytes })), `${n} octets`);
    }
  });

  it('writes SEQUENCE, [n] and INTEGER tags around content as given', () => {
    const inner = octetString(Buffer.from('abc'));
    assert.deepEqual(sequence(inner, smallInteger(5)), Buffer.from('30080403616263020105', 'hex'));
    assert.deepEqual(context(0, inner), Buffer.from('a0050403616263', 'hex'));
    assert.deepEqual(integer(Buffer.from('00ff', 'hex')), asn1jsDer(new asn1js.Integer({ value: 255 })));
    for (const n of [0, 1, 3, 127]) assert.deepEqual(smallInteger(n), asn1jsDer(new asn1js.Integer({ value: n })));
    for (const n of [-1, 128, 1.5]) assert.throws(() => smallInteger(n), RangeError);
  });

  it('orders the members of a SET OF by their encodings', () => {
    const [a, b, c] = [Buffer.from('3003020101', 'hex'), Buffer.from('300102', 'hex'), Buffer.from('31020500', 'hex')];
    assert.deepEqual(setOrder([c, a, b]), [b, a, c]);
  });

  it('writes OBJECT IDENTIFIERs as asn1js does', () => {
    assert.deepEqual(objectIdentifier('1.2.840.113549.1.9.4'), Buffer.from('06092a864886f70d010904', 'hex'));
    assert.deepEqual(objectIdentifier('2.999.3161.1'), asn1jsDer(new asn1js.ObjectIdentifier({ value: '2.999.3161.1' })));
  });

  it('writes GeneralizedTime in UTC with the milliseconds as a fraction without trailing zeros (X.690 §11.7)', () => {
    const base = Date.UTC(2026, 2, 1, 9, 5, 7);
    for (const ms of [0, 1, 10, 100, 120, 123, 500, 999]) {
      const at = new Date(base + ms);
      assert.deepEqual(generalizedTime(at), asn1jsDer(new asn1js.GeneralizedTime({ valueDate: at })), `${ms} ms`);
    }
    assert.equal(
      generalizedTime(new Date(base + 120))
        .subarray(2)
        .toString(),
      '20260301090507.12Z',
    );
    assert.equal(generalizedTime(new Date(base)).subarray(2).toString(), '20260301090507Z');
    assert.throws(() => generalizedTime(new Date(Date.UTC(10000, 0, 1))), RangeError);
  });
});
