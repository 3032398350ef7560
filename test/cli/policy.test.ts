/**
 * Attestation rules through the CLI (docs/policy.md): `layout create` compiles `expected_predicates` and
 * refuses a rule that does not parse or type-check at its YAML line (exit 2); `verify` checks them over
 * attestations found beside the links, and with `--store`, in a real evidence store.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { signEnvelope } from '../../src/crypto/dsse.js';
import { loadPrivateKey, loadPublicKey } from '../../src/crypto/key-files.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { tempDir, type TempDir } from '../intoto/verify/fixtures.js';
import { startTestStore, type TestStore } from '../store/test-store.js';

const VULNS = 'https://in-toto.io/attestation/vulns';
const TOKEN = 'policy-test-token';
const APP = 'the application\n';

const SPEC = `expires: 30d
keys: {builder: builder.pub, scanner: scanner.pub}
steps:
  - name: build
    functionaries: [builder]
    command: sh -c "printf 'the application\\\\n' > app.tar"
    products: [CREATE app.tar, DISALLOW *]
    expected_predicates:
      - predicate_type: ${VULNS}
        functionaries: [scanner]
        expected_attributes:
          - "predicate.scanner.result.all(f, f.severity != 'CRITICAL')"
          - rule: "predicate.scanner.uri.startsWith('pkg:github/aquasecurity/trivy')"
            warn: true
`;

let tmp: TempDir;
let chain = '';
let store: TestStore;

function cli(argv: string[], cwd = chain, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli(argv, { cwd, env });
}

/** A vulnerability attestation about app.tar, signed with the key file `signer`. */
async function attestation(findings: { id: string; severity: string; package: { name: string; version: string } }[], signer: string) {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'app.tar', digest: { sha256: createHash('sha256').update(APP).digest('hex') } }],
    predicateType: VULNS,
    predicate: { scanner: { uri: 'pkg:github/aquasecurity/trivy@0.50.0', result: findings } },
  };
  const key = await loadPrivateKey(join(chain, signer));
  return `${JSON.stringify(signEnvelope('application/vnd.in-toto+json', Buffer.from(JSON.stringify(statement)), [key]), null, 2)}\n`;
}

const LOW = { id: 'CVE-2024-0001', severity: 'LOW', package: { name: 'zlib', version: '1.3' } };
const CRITICAL = { id: 'GHSA-35jh-r3h4-6jhm', severity: 'CRITICAL', package: { name: 'lodash', version: '4.17.20' } };

before(async () => {
  tmp = await tempDir('evident-policy-cli-');
  chain = join(tmp.dir, 'chain');
  await mkdir(chain);
  for (const name of ['owner', 'builder', 'scanner', 'mallory']) assert.equal((await cli(['keygen', name])).code, 0);
  await writeFile(join(chain, 'layout.yaml'), SPEC);
  const created = await cli(['layout', 'create', 'layout.yaml', '-k', 'owner', '-o', 'root.layout']);
  assert.equal(created.code, 0, created.stderr);
  const run = await cli([
    'run',
    '-n',
    'build',
    '-k',
    'builder',
    '-q',
    '-p',
    'app.tar',
    '--',
    'sh',
    '-c',
    "printf 'the application\\n' > app.tar",
  ]);
  assert.equal(run.code, 0, run.stderr);
  store = await startTestStore({ token: TOKEN });
});

after(async () => {
  await store?.close();
  await tmp?.cleanup();
});

const verifyFolder = () => cli(['verify', '-l', 'root.layout', '-k', 'owner.pub']);

test('layout create: expected predicates compile into the signed layout, functionaries as keyids', async () => {
  const layout = JSON.parse(await readFile(join(chain, 'root.layout'), 'utf8')) as {
    signed: { steps: { expected_predicates: unknown }[] };
  };
  const scanner = await loadPublicKey(join(chain, 'scanner.pub'));
  assert.deepEqual(layout.signed.steps[0]!.expected_predicates, [
    {
      predicate_type: VULNS,
      functionaries: [scanner.keyid],
      expected_attributes: [
        { rule: "predicate.scanner.result.all(f, f.severity != 'CRITICAL')" },
        { rule: "predicate.scanner.uri.startsWith('pkg:github/aquasecurity/trivy')", warn: true },
      ],
    },
  ]);
});

test('layout create: a rule that does not parse or type-check is refused at its line, exit 2', async () => {
  const bad = SPEC.replace(
    "f.severity != 'CRITICAL')\"",
    'f.severity != \'CRITICAL\')"\n          - "predicat.scanner.uri == \'x\'"\n          - "1 +"\n          - "size(subject)"\n          - "signer.spifeId == \'x\'"',
  );
  await writeFile(join(chain, 'bad.yaml'), bad);
  const r = await cli(['layout', 'create', 'bad.yaml', '-k', 'owner', '-o', 'bad.layout']);
  assert.equal(r.code, 2);
  const lines = r.stderr.trimEnd().split('\n');
  assert.deepEqual(lines, [
    "evident: bad.yaml:13: steps[0].expected_predicates[0].expected_attributes[1]: the rule does not type-check: undeclared reference to 'predicat' (the variables are subject, predicateType, predicate, materials, products, signer, timestamp) (column 1 of the rule)",
    'evident: bad.yaml:14: steps[0].expected_predicates[0].expected_attributes[2]: the rule is not CEL: found + but expecting end of input (column 3 of the rule)',
    'evident: bad.yaml:15: steps[0].expected_predicates[0].expected_attributes[3]: the rule does not type-check: a rule must be true or false (a bool), and this one is of type int (column 1 of the rule)',
    "evident: bad.yaml:16: steps[0].expected_predicates[0].expected_attributes[4]: the rule does not type-check: signer has no field 'spifeId' (its fields are keyid, spiffeId) (column 7 of the rule)",
  ]);
  await assert.rejects(readFile(join(chain, 'bad.layout')), 'nothing is written');
  const unknownKey = SPEC.replace('functionaries: [scanner]', 'functionaries: [scaner]');
  await writeFile(join(chain, 'bad.yaml'), unknownKey);
  const k = await cli(['layout', 'create', 'bad.yaml', '-k', 'owner', '-o', 'bad.layout']);
  assert.equal(k.code, 2);
  assert.match(
    k.stderr,
    /^evident: bad\.yaml:10: steps\[0\]\.expected_predicates\[0\]\.functionaries\[0\]: no key named 'scaner' in keys/m,
  );
});

test('verify (folder): the scanner-signed attestation passes; a critical finding fails naming package, version and advisory', async () => {
  const file = join(chain, 'app.vulns.json');
  try {
    await writeFile(file, await attestation([LOW], 'scanner'));
    const ok = await verifyFolder();
    assert.equal(ok.code, 0, ok.stdout);
    assert.match(
      ok.stdout,
      /^✓ build: 1 attestation of https:\/\/in-toto\.io\/attestation\/vulns by a functionary \(.*app\.vulns\.json by [0-9a-f]{8}\)$/m,
    );
    assert.match(
      ok.stdout,
      /^✓ build: https:\/\/in-toto\.io\/attestation\/vulns: rule "predicate\.scanner\.result\.all\(f, f\.severity != 'CRITICAL'\)" holds$/m,
    );

    await writeFile(file, await attestation([LOW, CRITICAL], 'scanner'));
    const bad = await verifyFolder();
    assert.equal(bad.code, 1);
    assert.match(
      bad.stdout,
      /^✗ build: https:\/\/in-toto\.io\/attestation\/vulns: rule .* is false for the attestation in .*app\.vulns\.json, signed by [0-9a-f]{8}; .*fails at predicate\.scanner\.result\[1\] = \{"id": "GHSA-35jh-r3h4-6jhm", "severity": "CRITICAL", "package": \{"name": "lodash", "version": "4\.17\.20"\}\}$/m,
    );
    assert.match(bad.stdout, /^FAILED/m);

    await writeFile(file, await attestation([LOW], 'mallory'));
    const forged = await verifyFolder();
    assert.equal(forged.code, 1);
    assert.match(
      forged.stdout,
      /^✗ build: missing attestation: no https:\/\/in-toto\.io\/attestation\/vulns signed by [0-9a-f]{8} about build's materials or products; .*app\.vulns\.json: is signed by [0-9a-f]{8}, not by a functionary of build/m,
    );
  } finally {
    await rm(file, { force: true });
  }
  const none = await verifyFolder();
  assert.equal(none.code, 1);
  assert.match(none.stdout, /^✗ build: missing attestation/m);
});

test("verify --store: attestations are found by the chain's digests as subjects and checked as in a folder", async () => {
  const env = { EVIDENT_STORE_TOKEN: TOKEN };
  const linkFile = (await readdir(chain)).find((f) => f.startsWith('build.') && f.endsWith('.link'))!;
  const pushLink = await cli(['store', 'push', linkFile, '--store', store.url], chain, env);
  assert.equal(pushLink.code, 0, pushLink.stderr);
  const elsewhere = join(tmp.dir, 'elsewhere');
  await mkdir(elsewhere);
  for (const f of ['root.layout', 'owner.pub', 'app.tar']) await writeFile(join(elsewhere, f), await readFile(join(chain, f)));
  const fromStore = () =>
    cli(['verify', '-l', 'root.layout', '-k', 'owner.pub', '--store', store.url, '--product', 'app.tar'], elsewhere, env);

  const missing = await fromStore();
  assert.equal(missing.code, 1, missing.stdout);
  assert.match(missing.stderr, /^evident: verify: 0 attestations about the chain's artifacts from http:/m);
  assert.match(missing.stdout, /^✗ build: missing attestation/m);

  await writeFile(join(chain, 'low.json'), await attestation([LOW], 'scanner'));
  assert.equal((await cli(['store', 'push', 'low.json', '--store', store.url], chain, env)).code, 0);
  const ok = await fromStore();
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stderr, /^evident: verify: 1 attestation about the chain's artifacts from http:/m);
  assert.match(
    ok.stdout,
    /^✓ build: 1 attestation of https:\/\/in-toto\.io\/attestation\/vulns by a functionary \(sha256:[0-9a-f]{64}\.json by [0-9a-f]{8}\)$/m,
  );

  // a later scan that finds a critical advisory is in the store too: every attestation that counts must pass
  await writeFile(join(chain, 'critical.json'), await attestation([CRITICAL], 'scanner'));
  assert.equal((await cli(['store', 'push', 'critical.json', '--store', store.url], chain, env)).code, 0);
  const bad = await fromStore();
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /^✗ build: .* is false for the attestation in sha256:[0-9a-f]{64}\.json, .*GHSA-35jh-r3h4-6jhm/m);
});
