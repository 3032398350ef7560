import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readImageLayout } from '../../src/oci/layout-reader.js';
import { imageSbom, type CycloneDxBom } from '../../src/sbom/cyclonedx.js';
import { ociPurl, parsePurl } from '../../src/sbom/purl.js';
import { readCycloneDx } from '../../src/sbom/read-bom.js';
import { uuidV5 } from '../../src/sbom/uuid.js';
import { runCli } from '../helpers/cli.js';
import { imageProject, layoutOf, file } from '../oci/fixtures.js';

const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

test('name-based UUIDs match RFC 4122 version 5 (values from Python uuid.uuid5)', () => {
  assert.equal(uuidV5('python.org', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'), '886313e1-3b8a-5372-9b90-0c9aee199e5d');
  assert.equal(uuidV5('pkg:oci/x@sha256%3Aab'), 'd50985d1-af4f-560f-a626-11256989a008');
});

test('purls: the OCI image purl encodes the digest; parsing splits type, namespace, name, version', () => {
  const d = `sha256:${'a'.repeat(64)}`;
  assert.equal(ociPurl('hello-world', d, '1.0'), `pkg:oci/hello-world@sha256%3A${'a'.repeat(64)}?tag=1.0`);
  assert.equal(ociPurl('corp/Hello', d), `pkg:oci/hello@sha256%3A${'a'.repeat(64)}?repository_url=corp/Hello`);
  assert.deepEqual(parsePurl('pkg:npm/%40scope/name@1.0.0?x=y#sub'), { type: 'npm', namespace: '@scope', name: 'name', version: '1.0.0' });
  assert.deepEqual(parsePurl('pkg:generic/zlib@1.2.11'), { type: 'generic', name: 'zlib', version: '1.2.11' });
  assert.equal(parsePurl('zlib'), undefined);
});

test('the SBOM of a built image: CycloneDX 1.5, the image as metadata.component, packages and executables with SHA-256', async (t) => {
  const dir = await imageProject(t);
  const b = await runCli(['image', 'build', '-c', 'image.yaml', '-o', 'i.tar', '--sbom', 'built.cdx.json', '--json'], { cwd: dir });
  assert.equal(b.code, 0, b.stderr);
  const digest = (JSON.parse(b.stdout) as { manifestDigest: string }).manifestDigest;
  const bom = JSON.parse(await readFile(join(dir, 'built.cdx.json'), 'utf8')) as CycloneDxBom;
  assert.equal(bom.bomFormat, 'CycloneDX');
  assert.equal(bom.specVersion, '1.5');
  assert.equal(bom.version, 1);
  const purl = `pkg:oci/hello-world@${digest.replace(':', '%3A')}?tag=1.0`;
  assert.equal(bom.serialNumber, `urn:uuid:${uuidV5(purl)}`);
  assert.match(bom.serialNumber, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(bom.metadata.timestamp, undefined);
  assert.deepEqual(bom.metadata.component, {
    type: 'container',
    'bom-ref': purl,
    name: 'hello-world',
    version: digest,
    purl,
    hashes: [{ alg: 'SHA-256', content: digest.slice(7) }],
  });
  const zlibSha = sha('zlib 1.3.1 stand-in\n');
  assert.deepEqual(bom.components, [
    {
      type: 'file',
      'bom-ref': 'file:/usr/local/bin/hello',
      name: '/usr/local/bin/hello',
      hashes: [{ alg: 'SHA-256', content: sha(await readFile(join(dir, 'hello'))) }],
    },
    {
      type: 'library',
      'bom-ref': 'pkg:generic/zlib@1.3.1',
      name: 'zlib',
      version: '1.3.1',
      purl: 'pkg:generic/zlib@1.3.1',
      hashes: [{ alg: 'SHA-256', content: sha(`${zlibSha}  /usr/lib/libz.so.1\n`) }],
      properties: [{ name: 'evident:file', value: `/usr/lib/libz.so.1 sha256:${zlibSha}` }],
    },
  ]);
  assert.deepEqual(bom.dependencies, [{ ref: purl, dependsOn: ['file:/usr/local/bin/hello', 'pkg:generic/zlib@1.3.1'] }]);

  // `sbom generate` reads the package database back out of the image: the same bytes
  const g = await runCli(['sbom', 'generate', 'i.tar', '-o', 'generated.cdx.json'], { cwd: dir });
  assert.equal(g.code, 0, g.stderr);
  assert.equal(await readFile(join(dir, 'generated.cdx.json'), 'utf8'), await readFile(join(dir, 'built.cdx.json'), 'utf8'));
  const stdout = await runCli(['sbom', 'generate', 'i.tar'], { cwd: dir });
  assert.equal(stdout.stdout, await readFile(join(dir, 'built.cdx.json'), 'utf8'));
  const dated = await runCli(['sbom', 'generate', 'i.tar'], { cwd: dir, env: { SOURCE_DATE_EPOCH: '0' } });
  assert.equal((JSON.parse(dated.stdout) as CycloneDxBom).metadata.timestamp, '1970-01-01T00:00:00Z');

  const summary = readCycloneDx(await readFile(join(dir, 'built.cdx.json'), 'utf8'));
  assert.deepEqual(summary.subject, { name: 'hello-world', digest: { sha256: digest.slice(7) } });
  assert.deepEqual(summary.packages, [{ name: 'zlib', version: '1.3.1', purl: 'pkg:generic/zlib@1.3.1' }]);
});

test('an image without a package database lists its executables; a malformed database is an input error', async (t) => {
  const img = readImageLayout(layoutOf([file('bin/tool', 'x', 0o755), file('etc/conf', 'c')]));
  const bom = imageSbom(img);
  assert.deepEqual(
    bom.components.map((c) => c.name),
    ['/bin/tool'],
  );
  assert.equal(bom.metadata.component.name, 'test');
  const dir = await imageProject(t);
  await writeFile(join(dir, 'bad.tar'), layoutOf([file('var/lib/evident/packages.json', '{"schema":"nope"}')]));
  const r = await runCli(['sbom', 'generate', 'bad.tar'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /package database: schema must be/);
  assert.throws(() => readCycloneDx('{"bomFormat":"SPDX"}', 'x.json'), /not a CycloneDX BOM/);
  assert.throws(() => readCycloneDx('{', 'x.json'), /malformed JSON/);
});
