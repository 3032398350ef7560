import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from '../helpers/child-process.js';
import { promisify } from 'node:util';
import { decodeRc, describeRc, TPM_RC } from '../../src/tpm/response-codes.js';
import { skipUnlessSwtpm } from '../helpers/swtpm.js';

const execFileP = promisify(execFile);

test('format-1 codes name the parameter, handle or session they are about', () => {
  assert.equal(describeRc(0x1df), 'TPM_RC_INTEGRITY (parameter 1): integrity check failed [0x1df]');
  assert.equal(describeRc(0x2c4), 'TPM_RC_VALUE (parameter 2): value is out of range or is not correct for the context [0x2c4]');
  assert.equal(describeRc(0x18b), 'TPM_RC_HANDLE (handle 1): the handle is not correct for the use [0x18b]');
  assert.equal(describeRc(0x98e), 'TPM_RC_AUTH_FAIL (session 1): the authorization HMAC check failed and DA counter incremented [0x98e]');
  assert.equal(describeRc(0x0a2), 'TPM_RC_BAD_AUTH: authorization failure without DA implications [0x0a2]');
  assert.equal(describeRc(0xfd5), 'TPM_RC_SIZE (parameter 15): structure is the wrong size [0xfd5]');
  const d = decodeRc(0x1df);
  assert.equal(d.base, TPM_RC.INTEGRITY);
  assert.deepEqual(d.subject, { kind: 'parameter', index: 1 });
  assert.equal(decodeRc(0x28b).base, TPM_RC.HANDLE);
});

test('format-0 errors and warnings', () => {
  assert.equal(describeRc(0x100), 'TPM_RC_INITIALIZE: TPM not initialized by TPM2_Startup or already initialized [0x100]');
  assert.equal(describeRc(0x14a).startsWith('TPM_RC_NV_UNINITIALIZED: '), true);
  assert.equal(describeRc(0x922), 'TPM_RC_RETRY: the TPM was not able to start the command [0x922]');
  assert.equal(decodeRc(0x922).warning, true);
  assert.equal(decodeRc(0x101).warning, false);
  assert.equal(decodeRc(0x911).name, 'TPM_RC_REFERENCE_H1');
  assert.equal(decodeRc(0x919).name, 'TPM_RC_REFERENCE_S1');
  assert.equal(decodeRc(0x902).name, 'TPM_RC_OBJECT_MEMORY');
});

test('vendor, TPM 1.2, unknown and non-TPM codes are shown in hex, not guessed', () => {
  assert.equal(decodeRc(0x501).name, 'vendor-defined response code 0x501');
  assert.equal(decodeRc(0x01e).name, 'TPM 1.2 response code 0x01e');
  assert.equal(describeRc(0x17f), 'TPM_RC 0x17f: unknown error [0x17f]');
  assert.equal(decodeRc(0x80000).name, 'response code 0x80000');
  assert.equal(decodeRc(0x0ab).name, 'TPM_RC 0x0ab');
});

test('codes read the same as tpm2_rc_decode reads them (tpm2-tools, an independent decoder)', async (t) => {
  if (skipUnlessSwtpm(t, { tools: true })) return;
  const squash = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  // every format-1 error, about a parameter, handle or session in turn (one process per code: a sample of the rest)
  const subjects = [0x140, 0x740, 0x100, 0x700, 0x900, 0xf00];
  const codes: number[] = [];
  for (let e = 1; e < 0x30; e++) codes.push(0x80 | e | subjects[e % subjects.length]!);
  codes.push(0x100, 0x101, 0x14a, 0x143, 0x922, 0x911, 0x919, 0x902, 0x90a);
  let compared = 0;
  for (const rc of codes) {
    const ours = decodeRc(rc);
    if (ours.name.startsWith('TPM_RC 0x')) continue;
    const theirs = (await execFileP('/usr/bin/tpm2_rc_decode', [`0x${rc.toString(16)}`])).stdout.trim();
    const m = /^tpm:([^:]*):\s*(.*)$/.exec(theirs);
    assert.ok(m !== null, theirs);
    const [, about, text] = m;
    if (/unknown error num/.test(text!)) continue; // codes newer than this tpm2-tools (TPM_RC_FW_LIMITED, …)
    if ((rc & 0x80) !== 0) {
      assert.equal(
        about,
        ours.subject === undefined ? 'handle(unk)' : `${ours.subject.kind}(${ours.subject.index})`,
        `0x${rc.toString(16)}`,
      );
      assert.equal(squash(text!), squash(ours.description), `0x${rc.toString(16)}`);
    } else {
      assert.equal(about, ours.warning ? 'warn(2.0)' : 'error(2.0)', `0x${rc.toString(16)}`);
    }
    compared++;
  }
  assert.ok(compared > 35, `${compared} codes compared`);
});
