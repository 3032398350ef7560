import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareGenericVersion, parseGenericVersion } from '../../src/scan/generic-version.js';
import { compareSemver, parseSemver } from '../../src/scan/semver.js';

const sv = (v: string) => {
  const p = parseSemver(v);
  assert.ok(p, `${v} parses`);
  return p;
};

test('SemVer precedence follows semver.org §11, pre-releases included, build metadata ignored', () => {
  // the spec's own example chain, plus large numbers
  const chain = [
    '1.0.0-alpha',
    '1.0.0-alpha.1',
    '1.0.0-alpha.beta',
    '1.0.0-beta',
    '1.0.0-beta.2',
    '1.0.0-beta.11',
    '1.0.0-rc.1',
    '1.0.0',
    '1.0.1',
    '1.1.0',
    '1.10.0',
    '2.0.0',
    '99999999999999999999.0.0',
  ];
  for (let i = 0; i + 1 < chain.length; i++) {
    assert.equal(compareSemver(sv(chain[i] as string), sv(chain[i + 1] as string)), -1, `${chain[i]} < ${chain[i + 1]}`);
    assert.equal(compareSemver(sv(chain[i + 1] as string), sv(chain[i] as string)), 1);
  }
  assert.equal(compareSemver(sv('1.0.0+build.1'), sv('1.0.0+build.2')), 0);
  assert.equal(compareSemver(sv('1.0.0-1'), sv('1.0.0-a')), -1, 'numeric identifiers rank below alphanumeric');
  for (const bad of ['1.0', '01.0.0', '1.0.0-01', 'v1.0.0', '1.0.0-', '1.0.0+', '']) assert.equal(parseSemver(bad), undefined, bad);
});

test('the dotted-numeric order of generic versions', () => {
  const g = (v: string) => {
    const p = parseGenericVersion(v);
    assert.ok(p, `${v} parses`);
    return p;
  };
  const chain = ['1.0rc1', '1.0-rc2', '1.0', '1.0.1', '1.2.9', '1.2.11', '1.2.12', '1.2.13', '1.3', '1.3.1', '1.10'];
  for (let i = 0; i + 1 < chain.length; i++)
    assert.equal(compareGenericVersion(g(chain[i] as string), g(chain[i + 1] as string)), -1, `${chain[i]} < ${chain[i + 1]}`);
  assert.equal(compareGenericVersion(g('1.0'), g('1.0.0')), 0, 'a missing number is 0');
  assert.equal(compareGenericVersion(g('1.2.010'), g('1.2.10')), 0, 'leading zeros');
  assert.equal(compareGenericVersion(g('1.1.1'), g('1.1.1a')), -1, 'a single letter is a post-release');
  assert.equal(compareGenericVersion(g('1.1.1a'), g('1.1.1w')), -1);
  assert.equal(compareGenericVersion(g('1.0alpha'), g('1.0beta')), -1);
  for (const bad of ['', ' 1.0', '1.0 beta', '.1']) assert.equal(parseGenericVersion(bad), undefined, JSON.stringify(bad));
});
