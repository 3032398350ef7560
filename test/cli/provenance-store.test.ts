/**
 * `run --provenance --timestamp-server URL --store URL`: the provenance carries a token from the TSA as the
 * link does, is uploaded after the link, and `verify --store --product` finds it there by the products'
 * digests and checks the layout's rule over it; `--vsa` then lists what the store gave as inputAttestations.
 * A real TSA and a real store (SQLite) on 127.0.0.1.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { envelopePayload, parseEnvelope } from '../../src/crypto/dsse.js';
import { loadPublicKey } from '../../src/crypto/key-files.js';
import { timestampedBytes } from '../../src/crypto/signature-timestamps.js';
import { startTsaServer, type TsaServer } from '../../src/time/http.js';
import { verifyTimestampToken } from '../../src/time/verify.js';
import { runCli } from '../helpers/cli.js';
import { tempDir, type TempDir } from '../intoto/verify/fixtures.js';
import { startTestStore, type TestStore } from '../store/test-store.js';
import { tsaPki, type TsaPki } from '../time/helpers.js';
import { statementProblems, vsaProblems } from '../attestation/predicate-shapes.js';

const TOKEN = 'provenance-store-token';
let tmp: TempDir;
let store: TestStore;
let pki: TsaPki;
let tsa: TsaServer;

before(async () => {
  tmp = await tempDir('evident-provenance-store-');
  pki = await tsaPki();
  tsa = await startTsaServer({ authority: pki.authority() });
  store = await startTestStore({ token: TOKEN });
});
after(async () => {
  await tsa?.close();
  await store?.close();
  await tmp?.cleanup();
});

test('the provenance is time-stamped and uploaded like the link, and a rule over it verifies from the store', async () => {
  const dir = join(tmp.dir, 'chain');
  await mkdir(dir);
  const env = { EVIDENT_STORE_TOKEN: TOKEN };
  const cli = (argv: string[], cwd = dir) => runCli(argv, { cwd, env });
  for (const k of ['owner', 'builder']) assert.equal((await cli(['keygen', k])).code, 0);
  const builder = (await loadPublicKey(join(dir, 'builder.pub'))).keyid;
  await writeFile(join(dir, 'main.c'), 'int main(void) { return 0; }\n');
  await writeFile(
    join(dir, 'layout.yaml'),
    `expires: 30d
keys: {builder: builder.pub}
steps:
  - name: build
    functionaries: [builder]
    products: [CREATE app, DISALLOW *]
    expected_predicates:
      - predicate_type: https://slsa.dev/provenance/v1
        expected_attributes:
          - "predicate.runDetails.builder.id == 'urn:evident:keyid:${builder}'"
          - "predicate.buildDefinition.resolvedDependencies.exists(d, d.name == 'main.c' && d.digest.sha256 == materials['main.c'].sha256)"
`,
  );
  assert.equal((await cli(['layout', 'create', 'layout.yaml', '-k', 'owner', '-o', 'root.layout'])).code, 0);
  const run = await cli([
    'run',
    '-n',
    'build',
    '-k',
    'builder',
    '--provenance',
    '--timestamp-server',
    tsa.url,
    '--store',
    store.url,
    '-m',
    'main.c',
    '-p',
    'app',
    '--',
    'cp',
    'main.c',
    'app',
  ]);
  assert.equal(run.code, 0, run.stderr);
  const file = `build.${builder.slice(0, 8)}.provenance.json`;
  assert.match(run.stderr, new RegExp(`uploaded build\\.${builder.slice(0, 8)}\\.link to `));
  assert.match(run.stderr, new RegExp(`uploaded ${file.replaceAll('.', '\\.')} to `));
  const envelope = parseEnvelope(JSON.parse(await readFile(join(dir, file), 'utf8')), file);
  const [token] = envelope.signatures[0]!.timestamps ?? [];
  assert.ok(token !== undefined, 'the provenance signature carries a token');
  const checked = verifyTimestampToken(Buffer.from(token.data, 'base64'), timestampedBytes(envelope.signatures[0]!.sig, 'base64'), [
    pki.root.cert,
  ]);
  assert.ok(checked.ok, checked.ok ? '' : checked.message);

  // elsewhere, only the layout, its key and the product: the link and the provenance come from the store
  const elsewhere = join(tmp.dir, 'elsewhere');
  await mkdir(elsewhere);
  for (const f of ['root.layout', 'owner.pub', 'owner', 'app']) await writeFile(join(elsewhere, f), await readFile(join(dir, f)));
  const v = await cli(
    ['verify', '-l', 'root.layout', '-k', 'owner.pub', '--store', store.url, '--product', 'app', '--vsa', 'vsa.json', '--vsa-key', 'owner'],
    elsewhere,
  );
  assert.equal(v.code, 0, v.stdout + v.stderr);
  assert.match(v.stdout, /^✓ build: 1 attestation of https:\/\/slsa\.dev\/provenance\/v1/m);
  const vsa = parseEnvelope(JSON.parse(await readFile(join(elsewhere, 'vsa.json'), 'utf8')), 'vsa.json');
  const statement = JSON.parse(envelopePayload(vsa).toString('utf8')) as {
    predicate: { inputAttestations: { name: string; digest: { sha256: string } }[] };
  };
  assert.deepEqual(statementProblems(statement, 'https://slsa.dev/verification_summary/v1'), []);
  assert.deepEqual(vsaProblems(statement.predicate), []);
  const provenanceDigest = createHash('sha256')
    .update(await readFile(join(dir, file)))
    .digest('hex');
  const linkDigest = createHash('sha256')
    .update(await readFile(join(dir, `build.${builder.slice(0, 8)}.link`)))
    .digest('hex');
  const digests = statement.predicate.inputAttestations.map((a) => a.digest.sha256).sort();
  assert.deepEqual(digests, [provenanceDigest, linkDigest].sort(), 'the link and the provenance, by the digests of their bytes');
  assert.ok(!(await readdir(elsewhere)).some((f) => f.endsWith('.link')), 'nothing came from a folder');
});
