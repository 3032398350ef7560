import { test } from 'node:test';
import assert from 'node:assert/strict';
import { componentPurl, packageMatches } from '../../src/scan/match.js';
import type { OsvAffected } from '../../src/scan/osv.js';
import { parseOsv } from '../../src/scan/osv.js';
import { scanBom } from '../../src/scan/scanner.js';

const affected = (pkg: OsvAffected['package']): OsvAffected => ({ package: pkg, ranges: [], versions: [] });

test('packages match advisories by purl identity, or by ecosystem and name', () => {
  const zlib = componentPurl('zlib', 'pkg:generic/zlib@1.2.11?arch=x86_64');
  assert.ok(packageMatches(affected({ ecosystem: 'generic', name: 'zlib', purl: 'pkg:generic/zlib' }), zlib));
  assert.ok(packageMatches(affected({ ecosystem: 'generic', name: 'zlib' }), zlib));
  assert.ok(!packageMatches(affected({ ecosystem: 'generic', name: 'zlib-ng' }), zlib));
  assert.ok(!packageMatches(affected({ ecosystem: 'npm', name: 'zlib' }), zlib), 'another ecosystem');
  assert.ok(!packageMatches(affected({ ecosystem: 'generic', name: 'zlib', purl: 'pkg:npm/zlib' }), zlib), 'the purl decides when present');
  assert.ok(packageMatches(affected({ ecosystem: 'npm', name: '@scope/pkg' }), componentPurl('pkg', 'pkg:npm/%40scope/pkg@1.0.0')));
  assert.ok(
    packageMatches(
      affected({ ecosystem: 'Maven', name: 'org.apache.logging.log4j:log4j-core' }),
      componentPurl('log4j-core', 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1'),
    ),
  );
  assert.ok(packageMatches(affected({ ecosystem: 'PyPI', name: 'Django_REST' }), componentPurl('x', 'pkg:pypi/django-rest@1.0')));
  assert.ok(
    packageMatches(affected({ ecosystem: 'Debian:12', name: 'openssl' }), componentPurl('openssl', 'pkg:deb/debian/openssl@3.0.11-1')),
  );
  assert.ok(
    packageMatches(affected({ ecosystem: 'generic', name: 'busybox' }), componentPurl('busybox', undefined)),
    'no purl: pkg:generic/<name>',
  );
});

test('withdrawn advisories are skipped; a package affected through two entries is one finding', () => {
  const adv = (id: string, extra: object) =>
    parseOsv(
      JSON.stringify({
        id,
        modified: 'x',
        database_specific: { severity: 'HIGH' },
        affected: [
          { package: { ecosystem: 'generic', name: 'zlib' }, versions: ['1.2.11'] },
          {
            package: { ecosystem: 'generic', name: 'zlib' },
            ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.2.12' }] }],
          },
        ],
        ...extra,
      }),
    );
  const bom = { subject: { name: 'img' }, packages: [{ name: 'zlib', version: '1.2.11', purl: 'pkg:generic/zlib@1.2.11' }] };
  const report = scanBom(bom, '{}', { advisories: [adv('A-1', {}), adv('A-2', { withdrawn: '2024-01-01T00:00:00Z' })], digest: 'x' });
  assert.deepEqual(
    report.findings.map((f) => [f.advisory, f.fixedIn]),
    [['A-1', '1.2.12']],
  );
});
