import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAffected } from '../../src/scan/affected.js';
import { parseOsv, type OsvAffected } from '../../src/scan/osv.js';

type Ev = Record<string, string>;

function entry(type: 'SEMVER' | 'ECOSYSTEM' | 'GIT', events: Ev[][], versions: string[] = [], ecosystem = 'generic'): OsvAffected {
  const doc = {
    id: 'T-1',
    modified: '2024-01-01T00:00:00Z',
    database_specific: { severity: 'HIGH' },
    affected: [
      {
        package: { ecosystem, name: 'p' },
        versions,
        ranges: events.map((e) => ({ type, ...(type === 'GIT' ? { repo: 'https://example.invalid/r' } : {}), events: e })),
      },
    ],
  };
  return parseOsv(JSON.stringify(doc)).affected[0] as OsvAffected;
}

test('OSV range semantics: introduced inclusive, fixed exclusive, last_affected inclusive, limit, "0", several ranges', () => {
  // [range type, events per range, versions list, version, affected, fixedIn]
  const table: [string, 'SEMVER' | 'ECOSYSTEM', Ev[][], string[], string, boolean, string | null][] = [
    ['introduced 0 covers the lowest version', 'SEMVER', [[{ introduced: '0' }, { fixed: '1.2.0' }]], [], '0.0.0', true, '1.2.0'],
    ['fixed is exclusive', 'SEMVER', [[{ introduced: '0' }, { fixed: '1.2.0' }]], [], '1.2.0', false, null],
    ['just below fixed', 'SEMVER', [[{ introduced: '0' }, { fixed: '1.2.0' }]], [], '1.1.99', true, '1.2.0'],
    ['introduced is inclusive', 'SEMVER', [[{ introduced: '1.0.0' }, { fixed: '1.2.0' }]], [], '1.0.0', true, '1.2.0'],
    ['below introduced', 'SEMVER', [[{ introduced: '1.0.0' }, { fixed: '1.2.0' }]], [], '0.9.9', false, null],
    [
      'a pre-release of the introduced version is before it',
      'SEMVER',
      [[{ introduced: '1.0.0' }, { fixed: '1.2.0' }]],
      [],
      '1.0.0-rc.1',
      false,
      null,
    ],
    [
      'a pre-release of the fixed version is still affected',
      'SEMVER',
      [[{ introduced: '1.0.0' }, { fixed: '1.2.0' }]],
      [],
      '1.2.0-beta.2',
      true,
      '1.2.0',
    ],
    ['a pre-release fix', 'SEMVER', [[{ introduced: '0' }, { fixed: '2.0.0-rc.2' }]], [], '2.0.0-rc.1', true, '2.0.0-rc.2'],
    ['after a pre-release fix', 'SEMVER', [[{ introduced: '0' }, { fixed: '2.0.0-rc.2' }]], [], '2.0.0', false, null],
    ['last_affected is inclusive', 'SEMVER', [[{ introduced: '0' }, { last_affected: '1.4.0' }]], [], '1.4.0', true, null],
    ['above last_affected', 'SEMVER', [[{ introduced: '0' }, { last_affected: '1.4.0' }]], [], '1.4.1', false, null],
    ['no upper bound: every later version', 'SEMVER', [[{ introduced: '2.0.0' }]], [], '99.0.0', true, null],
    ['events in any order are sorted first', 'SEMVER', [[{ fixed: '1.2.0' }, { introduced: '1.0.0' }]], [], '1.1.0', true, '1.2.0'],
    [
      're-introduced after a fix, second window',
      'SEMVER',
      [[{ introduced: '1.0.0' }, { fixed: '1.2.0' }, { introduced: '2.0.0' }, { fixed: '2.3.1' }]],
      [],
      '2.3.0',
      true,
      '2.3.1',
    ],
    [
      're-introduced after a fix, between windows',
      'SEMVER',
      [[{ introduced: '1.0.0' }, { fixed: '1.2.0' }, { introduced: '2.0.0' }, { fixed: '2.3.1' }]],
      [],
      '1.5.0',
      false,
      null,
    ],
    [
      'two ranges, the second matches',
      'SEMVER',
      [
        [{ introduced: '1.0.0' }, { fixed: '1.0.5' }],
        [{ introduced: '1.1.0' }, { fixed: '1.1.3' }],
      ],
      [],
      '1.1.2',
      true,
      '1.1.3',
    ],
    [
      'two ranges, neither',
      'SEMVER',
      [
        [{ introduced: '1.0.0' }, { fixed: '1.0.5' }],
        [{ introduced: '1.1.0' }, { fixed: '1.1.3' }],
      ],
      [],
      '1.0.7',
      false,
      null,
    ],
    ['limit: below the limit', 'SEMVER', [[{ introduced: '0' }, { limit: '2.0.0' }]], [], '1.9.0', true, null],
    ['limit: at the limit is outside', 'SEMVER', [[{ introduced: '0' }, { limit: '2.0.0' }]], [], '2.0.0', false, null],
    ['limit "*" is no limit', 'SEMVER', [[{ introduced: '1.0.0' }, { limit: '*' }]], [], '5.0.0', true, null],
    ['versions list alone', 'SEMVER', [[{ introduced: '5.0.0' }]], ['1.0.3'], '1.0.3', true, null],
    ['versions list: exact strings only', 'SEMVER', [[{ introduced: '5.0.0' }]], ['1.0.3'], '1.0.4', false, null],
    [
      'generic ecosystem: zlib 1.2.11 below 1.2.12',
      'ECOSYSTEM',
      [[{ introduced: '0' }, { fixed: '1.2.12' }]],
      [],
      '1.2.11',
      true,
      '1.2.12',
    ],
    [
      'generic ecosystem: numeric, not string order',
      'ECOSYSTEM',
      [[{ introduced: '0' }, { fixed: '1.2.12' }]],
      [],
      '1.2.9',
      true,
      '1.2.12',
    ],
    ['generic ecosystem: zlib 1.3.1 is fixed', 'ECOSYSTEM', [[{ introduced: '0' }, { fixed: '1.2.12' }]], [], '1.3.1', false, null],
    ['generic ecosystem: 1.10 after 1.9', 'ECOSYSTEM', [[{ introduced: '1.2' }, { fixed: '1.9' }]], [], '1.10', false, null],
    [
      'generic ecosystem: lettered post-release',
      'ECOSYSTEM',
      [[{ introduced: '1.1.1' }, { fixed: '1.1.1g' }]],
      [],
      '1.1.1f',
      true,
      '1.1.1g',
    ],
  ];
  for (const [what, type, events, versions, version, affected, fixedIn] of table) {
    const r = isAffected(entry(type, events, versions), version);
    assert.equal(r.affected, affected, `${what}: ${version} affected`);
    assert.equal(r.fixedIn, fixedIn, `${what}: fixedIn`);
  }
});

test('the lowest fix above the version is reported when several ranges affect it', () => {
  const e = entry('ECOSYSTEM', [
    [{ introduced: '0' }, { fixed: '1.4' }],
    [{ introduced: '1.0' }, { fixed: '1.2' }],
  ]);
  assert.equal(isAffected(e, '1.1').fixedIn, '1.2');
});

test('GIT ranges are not evaluated against version strings; a version that cannot be ordered is a warning, not a match', () => {
  const git = entry('GIT' as 'SEMVER', [[{ introduced: '0' }, { fixed: 'abc123' }]], ['1.2.11']);
  assert.deepEqual(isAffected(git, '1.2.11'), { affected: true, fixedIn: null, warnings: [] });
  assert.equal(isAffected(git, '1.2.10').affected, false);
  const r = isAffected(entry('SEMVER', [[{ introduced: '0' }, { fixed: '1.0.0' }]]), '0.9');
  assert.equal(r.affected, false);
  assert.match(r.warnings[0] ?? '', /version '0\.9' is not a SemVer version; ranges\[0\] \(SEMVER\) not evaluated/);
  const goEntry = entry('ECOSYSTEM', [[{ introduced: '0' }, { fixed: '1.5.0' }]], [], 'Go');
  assert.equal(isAffected(goEntry, 'v1.4.9').affected, true, 'Go versions may carry their v');
});

test('malformed advisories are refused with what is wrong', () => {
  const base = { id: 'X-1', modified: '2024-01-01T00:00:00Z', database_specific: { severity: 'LOW' } };
  const withRanges = (ranges: unknown) => JSON.stringify({ ...base, affected: [{ package: { ecosystem: 'generic', name: 'p' }, ranges }] });
  const cases: [string, string, RegExp][] = [
    ['not JSON', '{', /malformed JSON/],
    ['no id', JSON.stringify({ modified: 'x' }), /id must be a non-empty string/],
    ['no modified', JSON.stringify({ id: 'A' }), /A: modified must be/],
    [
      'unknown severity word',
      JSON.stringify({ ...base, database_specific: { severity: 'SEVERE' } }),
      /database_specific\.severity 'SEVERE' is not a severity/,
    ],
    [
      'no severity at all',
      JSON.stringify({ id: 'A', modified: 'x' }),
      /A: no severity: give database_specific\.severity or a CVSS_V3 vector/,
    ],
    [
      'bad CVSS',
      JSON.stringify({ id: 'A', modified: 'x', severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:Q' }] }),
      /severity\[0\]: CVSS vector/,
    ],
    ['bad range type', withRanges([{ type: 'DATE', events: [{ introduced: '0' }] }]), /type 'DATE' is not SEMVER, ECOSYSTEM or GIT/],
    ['no introduced', withRanges([{ type: 'SEMVER', events: [{ fixed: '1.0.0' }] }]), /needs at least one introduced event/],
    [
      'fixed and last_affected',
      withRanges([{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.0.0' }, { last_affected: '0.9.0' }] }]),
      /fixed or last_affected events, not both/,
    ],
    ['two keys in an event', withRanges([{ type: 'SEMVER', events: [{ introduced: '0', fixed: '1.0.0' }] }]), /events\[0\] must be one of/],
    [
      'not semver',
      withRanges([{ type: 'SEMVER', events: [{ introduced: '1.0' }] }]),
      /events\[0\]\.introduced: '1\.0' is not a SemVer version/,
    ],
    ['GIT without repo', withRanges([{ type: 'GIT', events: [{ introduced: '0' }] }]), /a GIT range needs repo/],
    ['empty events', withRanges([{ type: 'ECOSYSTEM', events: [] }]), /events must be a non-empty list/],
  ];
  for (const [what, text, message] of cases)
    assert.throws(
      () => parseOsv(text, 'adv.json'),
      (e: Error & { file?: string }) => message.test(e.message) && e.file === 'adv.json',
      what,
    );
  // MODERATE is MEDIUM; a CVSS vector alone rates the advisory
  assert.equal(parseOsv(JSON.stringify({ ...base, database_specific: { severity: 'moderate' } })).severity, 'medium');
  const cvssOnly = parseOsv(
    JSON.stringify({ id: 'A', modified: 'x', severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }] }),
  );
  assert.equal(cvssOnly.severity, 'critical');
  assert.equal(cvssOnly.cvssScore, 9.8);
});
