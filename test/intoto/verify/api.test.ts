import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as verifyApi from '../../../src/intoto/verify/index.js';
import * as rulesApi from '../../../src/intoto/rules/index.js';

test('public surface of intoto/verify and intoto/rules is pinned', () => {
  assert.deepEqual(Object.keys(verifyApi).sort(), [
    'DEFAULT_INSPECTION_TIMEOUT_MS',
    'DEFAULT_MAX_LINK_BYTES',
    'formatReport',
    'parseSignedMetadata',
    'parseSignedMetadataText',
    'reportToJson',
    'verify',
  ]);
  assert.deepEqual(Object.keys(rulesApi).sort(), [
    'applyArtifactRules',
    'compareCodePoints',
    'compileFnmatch',
    'fnmatch',
    'fnmatchRegExp',
    'indexArtifacts',
    'sameHashes',
  ]);
  assert.equal(verifyApi.DEFAULT_MAX_LINK_BYTES, 256 * 1024 * 1024);
  assert.equal(verifyApi.DEFAULT_INSPECTION_TIMEOUT_MS, 10_000);
});
