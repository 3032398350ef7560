import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as intoto from '../../../src/intoto/index.js';

test('the public surface of evident/intoto is exactly this (a change here is an API change)', () => {
  assert.deepEqual(Object.keys(intoto).sort(), [
    'DEFAULT_MAX_METADATA_BYTES',
    'IN_TOTO_PAYLOAD_TYPE',
    'LINK_PREDICATE_V03',
    'Problems',
    'STATEMENT_V1_TYPE',
    'ValidationError',
    'checkRule',
    'compileLayoutSpec',
    'errorLines',
    'expiresProblem',
    'formatExpires',
    'linkFileName',
    'linkToStatement',
    'loadMetadataFile',
    'parseExpires',
    'parseLayout',
    'parseLink',
    'parseMetadata',
    'parseRule',
    'parseRuleString',
    'pythonJsonDumps',
    'ruleToTokens',
    'serializeEnvelope',
    'serializeMetablock',
    'shellJoin',
    'shellSplit',
    'signLinkEnvelope',
    'signMetablock',
    'signableBytes',
    'signedOf',
    'verifyMetablockSignature',
    'verifyMetadataSignature',
    'writeMetadataFile',
  ]);
});
