import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePrivateKey, saveKeyPair } from '../../../src/crypto/key-files.js';
import { compileLayoutSpec } from '../../../src/intoto/layout-spec/compile.js';
import { compileExpires, defaultExpires } from '../../../src/intoto/layout-spec/expires.js';
import { ValidationError } from '../../../src/intoto/models/problems.js';
import { X509Certificate } from 'node:crypto';
import { openSslCa } from '../../helpers/pki.js';
import { tsaPki } from '../../time/helpers.js';

const NOW = new Date('2026-01-31T10:20:30.456Z');

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'evident-spec-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A self-signed CA certificate (PEM), as an identity server's bundle would hold, made by the openssl
 * CLI (@peculiar/x509 needs a reflect-metadata polyfill that is not a dependency).
 */
async function problemsOf(path: string): Promise<string[]> {
  try {
    await compileLayoutSpec(path, { displayName: 'root.yaml', now: NOW });
  } catch (e) {
    assert.ok(e instanceof ValidationError, String(e));
    assert.equal(e.code, 'BAD_INPUT');
    return [...e.problems];
  }
  assert.fail('the spec compiled');
}

const DOCUMENTED_SPEC = `expires: 90d                 # a duration (d, h) or an RFC 3339 date
readme: Hello World supply chain
keys: {alice: keys/alice.pub}          # static functionaries: name -> public key file
roots: {corp: identity-bundle.pem}     # CAs trusted for SVID-signed steps: name -> PEM file
steps:
  - name: code
    functionaries: [alice]
    products: [CREATE src/*, DISALLOW *]
  - name: build
    functionaries: [{spiffe: "spiffe://corp.example/ci/builder", roots: [corp]}]
    threshold: 1
    command: cc -o hello src/hello.c
    materials: [MATCH src/* WITH PRODUCTS FROM code, DISALLOW *]
    products: [CREATE hello, DISALLOW *]
  - name: package
    functionaries: [alice]
    command: [tar, czf, hello.tar, hello]
    materials: [MATCH hello WITH PRODUCTS FROM build, DISALLOW *]
    products: [CREATE hello.tar, DISALLOW *]
inspections:
  - name: unpack
    run: tar xf hello.tar
    materials: [MATCH hello.tar WITH PRODUCTS FROM package, ALLOW *]
    products: [MATCH hello WITH PRODUCTS FROM build, ALLOW *]
`;

test('the documented example compiles to the layout the reference reads', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'keys'));
  const alice = generatePrivateKey('ed25519');
  await saveKeyPair(alice, join(dir, 'keys/alice'));
  await writeFile(join(dir, 'identity-bundle.pem'), openSslCa(dir).pem);
  await writeFile(join(dir, 'root.yaml'), DOCUMENTED_SPEC);
  const layout = await compileLayoutSpec(join(dir, 'root.yaml'), { now: NOW });
  assert.equal(layout.expires, '2026-05-01T10:20:30Z');
  assert.equal(layout.readme, 'Hello World supply chain');
  assert.deepEqual(Object.keys(layout.keys), [alice.keyid]);
  assert.deepEqual(layout.keys[alice.keyid], alice.publicKey.toDict());
  const [rootId, ...more] = Object.keys(layout.rootcas ?? {});
  assert.equal(more.length, 0);
  assert.match(layout.rootcas![rootId!]!.keyval.certificate!, /^-----BEGIN CERTIFICATE-----\n/);
  const [code, build, pkg] = layout.steps;
  assert.deepEqual(code, {
    _type: 'step',
    name: 'code',
    threshold: 1,
    expected_materials: [],
    expected_products: [
      ['CREATE', 'src/*'],
      ['DISALLOW', '*'],
    ],
    pubkeys: [alice.keyid],
    expected_command: [],
  });
  assert.deepEqual(build!.pubkeys, []);
  assert.deepEqual(build!.expected_command, ['cc', '-o', 'hello', 'src/hello.c']);
  assert.deepEqual(build!.expected_materials, [
    ['MATCH', 'src/*', 'WITH', 'PRODUCTS', 'FROM', 'code'],
    ['DISALLOW', '*'],
  ]);
  assert.deepEqual(build!.cert_constraints, [
    {
      common_name: '*',
      dns_names: ['*'],
      emails: ['*'],
      organizations: ['*'],
      roots: [rootId],
      uris: ['spiffe://corp.example/ci/builder'],
    },
  ]);
  assert.deepEqual(pkg!.expected_command, ['tar', 'czf', 'hello.tar', 'hello']);
  assert.deepEqual(layout.inspect, [
    {
      _type: 'inspection',
      name: 'unpack',
      run: ['tar', 'xf', 'hello.tar'],
      expected_materials: [
        ['MATCH', 'hello.tar', 'WITH', 'PRODUCTS', 'FROM', 'package'],
        ['ALLOW', '*'],
      ],
      expected_products: [
        ['MATCH', 'hello', 'WITH', 'PRODUCTS', 'FROM', 'build'],
        ['ALLOW', '*'],
      ],
    },
  ]);
});

test('every mistake is reported with its YAML line, all at once', async (t) => {
  const dir = await tempDir(t);
  const alice = generatePrivateKey('ecdsa');
  await saveKeyPair(alice, join(dir, 'alice'));
  await writeFile(
    join(dir, 'root.yaml'),
    [
      /* 1 */ 'expires: next year',
      /* 2 */ 'keys:',
      /* 3 */ '  alice: alice.pub',
      /* 4 */ '  bob: missing.pub',
      /* 5 */ 'colour: blue',
      /* 6 */ 'steps:',
      /* 7 */ '  - name: code',
      /* 8 */ '    functionaries: [alice, carol]',
      /* 9 */ '    threshold: 0',
      /* 10 */ '  - name: build',
      /* 11 */ '    functionaries: [alice]',
      /* 12 */ '    materials:',
      /* 13 */ '      - MATCH src/* WITH PRODUCTS FROM code',
      /* 14 */ '      - MATCH foo WITH BAR',
      /* 15 */ '    products: [CREATE a b]',
      /* 16 */ '    comand: make',
      /* 17 */ '  - name: code',
      /* 18 */ '    functionaries: [alice]',
      /* 19 */ '    threshold: 2',
      /* 20 */ '  - name: ../escape',
      /* 21 */ '    functionaries: [{spiffe: "http://x", roots: [corp]}]',
      /* 22 */ 'inspections:',
      /* 23 */ '  - name: check',
      /* 24 */ '    run: ls',
      /* 25 */ '    materials: [MATCH x WITH PRODUCTS FROM nowhere]',
      '',
    ].join('\n'),
  );
  const problems = await problemsOf(join(dir, 'root.yaml'));
  const expected = [
    /^root\.yaml:1: expires: "next year" is neither a duration \(90d, 12h\) nor an RFC 3339 date/,
    /^root\.yaml:4: keys\.bob: missing\.pub: no such file \(paths are relative to the spec\)$/,
    /^root\.yaml:5: colour: unknown key \(expected one of: expires, readme, keys, roots, timestamp_authorities, steps, inspections\)$/,
    /^root\.yaml:8: steps\[0\]\.functionaries\[1\]: no key named 'carol' in keys \(known: alice\)$/,
    /^root\.yaml:9: steps\[0\]\.threshold: must be at least 1, not 0$/,
    /^root\.yaml:14: steps\[1\]\.materials\[1\]: MATCH needs WITH MATERIALS\|PRODUCTS \(found 'BAR'\)/,
    /^root\.yaml:15: steps\[1\]\.products\[0\]: CREATE takes exactly one pattern/,
    /^root\.yaml:16: steps\[1\]\.comand: unknown key \(expected one of: name, functionaries, threshold, command, materials, products, require_timestamps, expected_predicates, vsa\)$/,
    /^root\.yaml:17: steps\[2\]\.name: 'code' is already the name of steps\[0\]; step and inspection names must be unique$/,
    /^root\.yaml:19: steps\[2\]\.threshold: 2 signers are needed, but only 1 functionary is listed$/,
    /^root\.yaml:20: steps\[3\]\.name: '\.\.\/escape' must not contain '\/'/,
    /^root\.yaml:21: steps\[3\]\.functionaries\[0\]\.spiffe: 'http:\/\/x' is not a SPIFFE ID/,
    /^root\.yaml:21: steps\[3\]\.functionaries\[0\]\.roots\[0\]: no root named 'corp' in roots$/,
    /^root\.yaml:25: inspections\[0\]\.materials\[0\]: MATCH … FROM nowhere: there is no step or inspection named 'nowhere'$/,
  ];
  for (const re of expected)
    assert.ok(
      problems.some((p) => re.test(p)),
      `${re} in:\n${problems.join('\n')}`,
    );
  assert.equal(problems.length, expected.length, problems.join('\n'));
});

test('timestamp_authorities: the TSA chain file compiles into timestampauthorities; require_timestamps into its step', async (t) => {
  const dir = await tempDir(t);
  const pki = await tsaPki();
  await writeFile(join(dir, 'tsa-chain.pem'), pki.root.pem + pki.intermediate.pem);
  await writeFile(join(dir, 'corp.pem'), openSslCa(dir).pem);
  await writeFile(
    join(dir, 'root.yaml'),
    [
      'roots: {corp: corp.pem}',
      'timestamp_authorities: {corp-tsa: tsa-chain.pem}',
      'steps:',
      '  - name: build',
      '    functionaries: [{spiffe: "spiffe://corp.example/ci/builder"}]',
      '    require_timestamps: true',
      '  - name: test',
      '    functionaries: [{spiffe: "spiffe://corp.example/ci/tester"}]',
      '    require_timestamps: false',
      '',
    ].join('\n'),
  );
  const layout = await compileLayoutSpec(join(dir, 'root.yaml'), { now: NOW });
  const tsas = Object.values(layout.timestampauthorities ?? {}).map((d) => d.keyval.certificate);
  assert.deepEqual(
    tsas.map((pem) => new X509Certificate(pem!).subject),
    [pki.root.cert.subject, pki.intermediate.cert.subject].map((s) => s.split(', ').join('\n')),
  );
  // the TSA's root is not a root for signers
  assert.equal(Object.keys(layout.rootcas ?? {}).length, 1);
  assert.equal(layout.steps[0]!.require_timestamps, true);
  assert.equal('require_timestamps' in layout.steps[1]!, false);
});

test('timestamp_authorities: a file that is no TSA chain, or require_timestamps without one, is refused with its line', async (t) => {
  const dir = await tempDir(t);
  const pki = await tsaPki();
  await writeFile(join(dir, 'tsa.pem'), pki.tsa.pem + pki.intermediate.pem);
  await writeFile(
    join(dir, 'web.pem'),
    openSslCa(dir, { name: 'web', extensions: ['basicConstraints=critical,CA:TRUE', 'extendedKeyUsage=serverAuth'] }).pem,
  );
  await writeFile(join(dir, 'text.pem'), 'not a certificate\n');
  await writeFile(
    join(dir, 'a.yaml'),
    [
      /* 1 */ 'timestamp_authorities:',
      /* 2 */ '  leaf: tsa.pem',
      /* 3 */ '  web: web.pem',
      /* 4 */ '  text: text.pem',
      /* 5 */ '  gone: missing.pem',
      /* 6 */ 'steps:',
      /* 7 */ '  - name: build',
      /* 8 */ '    functionaries: []',
      /* 9 */ '    require_timestamps: "yes"',
      '',
    ].join('\n'),
  );
  assert.deepEqual(await problemsOf(join(dir, 'a.yaml')), [
    "root.yaml:2: timestamp_authorities.leaf: tsa.pem certificate 1 (O=evident, CN=test TSA) is a TSA's own certificate, not a CA certificate: give the CA that issues it (the root of the TSA's chain)",
    "root.yaml:3: timestamp_authorities.web: web.pem certificate 1 (CN=web root) is a CA restricted to other extended key usages (1.3.6.1.5.5.7.3.1), which cannot issue a TSA's certificate",
    'root.yaml:4: timestamp_authorities.text: text.pem holds no PEM certificate (-----BEGIN CERTIFICATE-----)',
    'root.yaml:5: timestamp_authorities.gone: missing.pem: no such file (paths are relative to the spec)',
    'root.yaml:9: steps[0].require_timestamps: must be true or false, not the text "yes"',
  ]);
  await writeFile(join(dir, 'b.yaml'), 'steps:\n  - name: build\n    functionaries: []\n    require_timestamps: true\n');
  assert.deepEqual(await problemsOf(join(dir, 'b.yaml')), [
    'root.yaml:4: steps[0].require_timestamps: the spec names no timestamp_authorities to check the tokens against',
  ]);
});

test('YAML syntax errors and duplicate keys carry their line', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'a.yaml'), 'steps: []\nreadme: a\nreadme: b\n');
  assert.deepEqual(await problemsOf(join(dir, 'a.yaml')), ['root.yaml:3: Map keys must be unique']);
  await writeFile(join(dir, 'b.yaml'), 'steps:\n  - name: [unclosed\n');
  const problems = await problemsOf(join(dir, 'b.yaml'));
  assert.ok(problems.length >= 1 && problems.every((p) => /^root\.yaml:\d+: /.test(p)), problems.join('\n'));
  await writeFile(join(dir, 'c.yaml'), '');
  assert.deepEqual(await problemsOf(join(dir, 'c.yaml')), ['root.yaml: the spec is empty; it needs at least steps']);
  await writeFile(join(dir, 'd.yaml'), 'steps:\n  - name: 12\n    functionaries: []\n');
  assert.deepEqual(await problemsOf(join(dir, 'd.yaml')), ['root.yaml:2: steps[0].name: must be a name, not the number 12 (quote it)']);
});

test('expires: durations, dates, and what is refused', () => {
  const ok = (text: string) => {
    const r = compileExpires(text, NOW);
    assert.ok('expires' in r, `${text}: ${JSON.stringify(r)}`);
    return r.expires;
  };
  assert.equal(ok('90d'), '2026-05-01T10:20:30Z');
  assert.equal(ok('12h'), '2026-01-31T22:20:30Z');
  assert.equal(ok('2w'), '2026-02-14T10:20:30Z');
  assert.equal(ok('1d12h'), '2026-02-01T22:20:30Z');
  assert.equal(ok('2027-03-01'), '2027-03-01T00:00:00Z');
  assert.equal(ok('2027-03-01T12:00:00.999+02:00'), '2027-03-01T10:00:00Z');
  assert.equal(ok('2027-03-01T12:00:00Z'), '2027-03-01T12:00:00Z');
  for (const bad of ['0d', '90', '90y', '2027-02-30', '2027-13-01', '2027-01-01T25:00:00Z', '2020-01-01', 'soon']) {
    assert.ok('problem' in compileExpires(bad, NOW), bad);
  }
  assert.equal(defaultExpires(NOW), '2026-02-28T10:20:30Z', 'one calendar month, clamped like relativedelta');
});
