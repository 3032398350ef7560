import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTcti, parseTcti } from '../../src/tpm/tcti.js';
import { EvidentError } from '../../src/errors.js';

test('TCTI strings as tpm2-tools writes them; the kernel resource manager is the default', () => {
  assert.deepEqual(parseTcti(undefined), { kind: 'device', path: '/dev/tpmrm0' });
  assert.deepEqual(parseTcti(''), { kind: 'device', path: '/dev/tpmrm0' });
  assert.deepEqual(parseTcti('device'), { kind: 'device', path: '/dev/tpmrm0' });
  assert.deepEqual(parseTcti('device:/dev/tpm0'), { kind: 'device', path: '/dev/tpm0' });
  assert.deepEqual(parseTcti('swtpm'), { kind: 'swtpm', host: '127.0.0.1', port: 2321 });
  assert.deepEqual(parseTcti('swtpm:'), { kind: 'swtpm', host: '127.0.0.1', port: 2321 });
  assert.deepEqual(parseTcti('swtpm:port=2400,host=::1'), { kind: 'swtpm', host: '::1', port: 2400 });
  assert.deepEqual(parseTcti('swtpm:host=tpm.example'), { kind: 'swtpm', host: 'tpm.example', port: 2321 });
  assert.equal(formatTcti(parseTcti('swtpm:port=2400')), 'swtpm:host=127.0.0.1,port=2400');
  assert.equal(formatTcti(parseTcti('')), 'device:/dev/tpmrm0');
});

test('a bad TCTI string is refused with one line naming the setting and the problem', () => {
  const cases: [string, string][] = [
    ['swtpm:port=70000', "--tpm-tcti 'swtpm:port=70000': 'port=70000' is not a valid port"],
    ['swtpm:port=0', "--tpm-tcti 'swtpm:port=0': 'port=0' is not a valid port"],
    ['swtpm:host=', "--tpm-tcti 'swtpm:host=': 'host=' is not a valid host"],
    ['swtpm:path=/tmp/s', "--tpm-tcti 'swtpm:path=/tmp/s': unknown option 'path' (swtpm takes host= and port=)"],
    ['device:tpmrm0', "--tpm-tcti 'device:tpmrm0': the device is an absolute path, e.g. device:/dev/tpmrm0"],
    [
      'mssim:port=2321',
      "--tpm-tcti 'mssim:port=2321': unsupported TCTI 'mssim' (evident speaks device:PATH and swtpm:host=HOST,port=PORT)",
    ],
    ['tabrmd', "--tpm-tcti 'tabrmd': unsupported TCTI 'tabrmd' (evident speaks device:PATH and swtpm:host=HOST,port=PORT)"],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parseTcti(text, '--tpm-tcti'),
      (e: EvidentError) => e.code === 'BAD_USAGE' && e.message === message,
      text,
    );
  }
});
