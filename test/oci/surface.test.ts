import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oci from '../../src/oci/index.js';
import * as sbom from '../../src/sbom/index.js';
import * as scan from '../../src/scan/index.js';

// Pins the public surface of the three areas: an export added or removed is a deliberate change here.
test('public exports of oci, sbom and scan', () => {
  assert.deepEqual(Object.keys(oci).sort(), [
    'IMAGE_NAME_ANNOTATION', 'MEDIA_TYPES', 'OPAQUE_WHITEOUT', 'PACKAGE_DB_PATH', 'PACKAGE_DB_SCHEMA', 'REF_NAME_ANNOTATION', 'WHITEOUT_PREFIX',
    'assembleImageLayout', 'buildImage', 'classifyLayerPath', 'describe', 'flattenLayers', 'gunzip', 'gzipDeterministic', 'isImagePath', 'layerPathParts',
    'layerTar', 'loadImageSpec', 'parseDigest', 'parseImageSpec', 'parsePackageDb', 'readImageLayout', 'readImageLayoutFile', 'readTar', 'resolveInRoot',
    'serializePackageDb', 'sha256Digest', 'sha256Hex', 'sourceDateEpochFrom', 'summarizeImage', 'unpackLayers', 'writeTar',
  ]);
  assert.deepEqual(Object.keys(sbom).sort(), ['CYCLONEDX_SPEC_VERSION', 'imageSbom', 'ociPurl', 'parsePurl', 'readCycloneDx', 'serializeBom', 'uuidV5']);
  assert.deepEqual(Object.keys(scan).sort(), [
    'SCANNER', 'SCAN_PREDICATE_TYPE', 'SEVERITIES', 'checkReport', 'compareGenericVersion', 'compareSemver', 'componentPurl', 'cvss3BaseScore', 'cvssRating',
    'findingLine', 'isAffected', 'loadAdvisoryFeed', 'packageMatches', 'parseGenericVersion', 'parseOsv', 'parseReport', 'parseSemver', 'parseSeverityWord',
    'rangeAffects', 'reportStatement', 'scanBom', 'serializeReport', 'severityRank', 'versionOrder',
  ]);
});
