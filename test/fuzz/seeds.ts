/**
 * Seed corpora for the fuzz targets, made by evident's own generators: signed links and layouts, a
 * compiled layout spec, DSSE envelopes, key and certificate PEM, JWT-SVIDs and bundles, an OCI image
 * layout and its SBOM, RFC 3161 requests and tokens, TPM public areas. Made once per process.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as tsp from '@peculiar/asn1-tsp';
import { signEnvelope } from '../../src/crypto/dsse.js';
import { PrivateKey } from '../../src/crypto/keys.js';
import { privateKeyPem, publicKeyPem, securesystemslibKeyFiles } from '../../src/crypto/key-files.js';
import { compileLayoutSpec } from '../../src/intoto/layout-spec/compile.js';
import { serializeEnvelope, serializeMetablock, signLinkEnvelope, signMetablock } from '../../src/intoto/models/metablock.js';
import type { Link } from '../../src/intoto/models/types.js';
import { assembleImageLayout } from '../../src/oci/layout-writer.js';
import { readImageLayout } from '../../src/oci/layout-reader.js';
import { writeTar } from '../../src/oci/tar.js';
import { serializePackageDb } from '../../src/oci/package-db.js';
import { imageSbom, serializeBom } from '../../src/sbom/cyclonedx.js';
import { JwtBundle } from '../../src/spiffe/bundle/jwt-bundle.js';
import { SpiffeBundle } from '../../src/spiffe/bundle/spiffe-bundle.js';
import { signJwtSvid } from '../../src/spiffe/jwtsvid/sign.js';
import { SpiffeId } from '../../src/spiffe/spiffeid/spiffe-id.js';
import { hashAlgorithm } from '../../src/time/algorithms.js';
import { TimestampAuthority } from '../../src/time/authority.js';
import { akTemplate } from '../../src/tpm/ak.js';
import { ekTemplate } from '../../src/tpm/ek.js';
import { publicBytes } from '../../src/tpm/structures.js';
import { certSigner, makeCa, makeCert, makeRoot, makeTsaCert, T0 } from '../helpers/pki.js';

export const TRUST_DOMAIN = 'example.org';
export const AUDIENCE = 'spiffe://example.org/api';

export interface Seeds {
  /** A folder with the key files the layout spec names (key paths resolve against it). */
  specDir: string;
  links: Buffer[];
  layouts: Buffer[];
  dsse: Buffer[];
  layoutSpecs: Buffer[];
  publicKeys: Buffer[];
  privateKeys: Buffer[];
  certificates: Buffer[];
  /** DER: of certificates, SubjectPublicKeyInfo and PKCS#8 keys. */
  ders: Buffer[];
  jwtSvids: Buffer[];
  jwtBundle: JwtBundle;
  /** The trust domain CA's DER certificate and its key as a JWK (the members an x509-svid JWK carries). */
  caDer: Buffer;
  caJwk: Record<string, unknown>;
  bundles: Buffer[];
  ociTars: Buffer[];
  layers: Buffer[];
  sboms: Buffer[];
  advisories: Buffer[];
  timestampRequests: Buffer[];
  timestampTokens: Buffer[];
  tsaRoot: Buffer;
  tpmPublics: Buffer[];
}

const LAYOUT_SPEC = `expires: 30d
readme: fuzz seed
keys:
  dev: dev.pub
roots:
  corp: root.pem
timestamp_authorities:
  tsa: root.pem
steps:
  - name: code
    functionaries: [dev]
    products: [CREATE src/*, DISALLOW *]
  - name: build
    functionaries: [dev, {spiffe: "spiffe://example.org/ci/builder", roots: [corp]}]
    threshold: 1
    require_timestamps: true
    command: cc -o hello src/hello.c
    materials: [MATCH src/* WITH PRODUCTS FROM code, DISALLOW *]
    products: [CREATE hello, DISALLOW *]
    expected_predicates:
      - predicate_type: https://in-toto.io/attestation/vulns
        expected_attributes:
          - "subject.all(s, s.digest.sha256 != '') && size(signer.keyid) > 0"
inspections:
  - name: check
    run: sh -c true
    materials: [MATCH hello WITH PRODUCTS FROM build]
`;

function sampleLink(name: string, n: number): Link {
  const dict = (prefix: string) =>
    Object.fromEntries(
      Array.from({ length: n }, (_, i) => [`${prefix}/${i}.c`, { sha256: createHash('sha256').update(`${prefix}${i}`).digest('hex') }]),
    );
  return {
    _type: 'link',
    name,
    materials: dict('src'),
    products: dict('out'),
    byproducts: { 'return-value': 0, stdout: 'ok é\n', stderr: '' },
    command: ['cc', '-o', 'hello', 'src/hello.c'],
    environment: {},
  } as unknown as Link;
}

let made: Promise<Seeds> | undefined;

/** Removes the folder the seeds wrote their spec and key files to (the layout-spec target writes there too). */
export async function removeSeedFiles(): Promise<void> {
  if (made === undefined) return;
  const { specDir } = await made;
  rmSync(specDir, { recursive: true, force: true });
  made = undefined;
}

/** The seeds, made on first use. */
export function seeds(): Promise<Seeds> {
  made ??= makeSeeds();
  return made;
}

async function makeSeeds(): Promise<Seeds> {
  const specDir = mkdtempSync(join(tmpdir(), 'evident-fuzz-'));
  const ec = new PrivateKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  const ed = new PrivateKey(generateKeyPairSync('ed25519').privateKey);
  const rsa = new PrivateKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
  const root = await makeRoot('fuzz');
  const tsaCert = await makeTsaCert(root);
  const ca = await makeCa(TRUST_DOMAIN, new Date());
  const leaf = await makeCert({
    issuer: root,
    uris: ['spiffe://example.org/ci/builder'],
    dnsNames: ['builder.example.org'],
    emails: ['ci@example.org'],
  });
  const certificates = [Buffer.from(root.pem), Buffer.from(tsaCert.pem + root.pem), Buffer.from(ca.pem), Buffer.from(leaf.pem + root.pem)];
  writeFileSync(join(specDir, 'root.pem'), root.pem);
  writeFileSync(join(specDir, 'dev.pub'), publicKeyPem(ec.publicKey));
  writeFileSync(join(specDir, 'layout.yaml'), LAYOUT_SPEC);
  const layout = await compileLayoutSpec(join(specDir, 'layout.yaml'), { now: new Date('2026-01-01T00:00:00Z') });

  const links = [
    ...[sampleLink('code', 1), sampleLink('build', 4)].map((l) => Buffer.from(serializeMetablock(signMetablock(l, [ec, ed])))),
    Buffer.from(serializeMetablock(signMetablock(sampleLink('build', 1), [certSigner(leaf)]))),
  ];
  const layouts = [Buffer.from(serializeMetablock(signMetablock(layout, [ec])))];
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'app.tar', digest: { sha256: 'ab'.repeat(32) } }],
    predicateType: 'https://in-toto.io/attestation/vulns',
    predicate: { scanner: { uri: 'x', result: [] } },
  };
  const dsse = [
    Buffer.from(serializeEnvelope(signLinkEnvelope(sampleLink('build', 2), [ec]))),
    Buffer.from(serializeEnvelope(signEnvelope('application/vnd.in-toto+json', Buffer.from(JSON.stringify(statement)), [ec]))),
  ];

  const jwtKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwtBundle = JwtBundle.fromAuthorities(ca.td, { k1: jwtKey.publicKey });
  const id = SpiffeId.parse(`spiffe://${TRUST_DOMAIN}/workload`);
  const jwtSvids = [
    Buffer.from(await signJwtSvid({ id, audience: AUDIENCE, key: jwtKey.privateKey, kid: 'k1', ttlSeconds: 1e8 })),
    Buffer.from(
      await signJwtSvid({
        id,
        audience: [AUDIENCE, 'b'],
        key: jwtKey.privateKey,
        kid: 'k1',
        ttlSeconds: 1e8,
        claims: { x: [1, { y: 'z' }] },
      }),
    ),
  ];
  const spiffeBundle = SpiffeBundle.create(ca.td, { x509Authorities: [ca.cert], jwtAuthorities: new Map([['k1', jwtKey.publicKey]]) });
  const bundles = [Buffer.from(spiffeBundle.marshal()), Buffer.from(jwtBundle.marshal())];

  const layer = writeTar([
    { path: 'usr/', type: 'directory', mode: 0o755, mtime: 0 },
    { path: 'usr/bin/hello', type: 'file', mode: 0o755, mtime: 0, data: Buffer.from('\x7fELF hello') },
    { path: 'usr/bin/hi', type: 'symlink', mode: 0o777, mtime: 0, linkname: 'hello' },
    { path: 'etc/.wh.passwd', type: 'file', mode: 0o644, mtime: 0, data: Buffer.alloc(0) },
    {
      path: 'var/lib/evident/packages.json',
      type: 'file',
      mode: 0o644,
      mtime: 0,
      data: Buffer.from(
        serializePackageDb([
          { name: 'zlib', version: '1.3.1', purl: 'pkg:generic/zlib@1.3.1', files: [{ path: '/usr/bin/hello', sha256: 'ab'.repeat(32) }] },
        ]),
      ),
    },
  ]);
  const image = assembleImageLayout({
    layers: [layer],
    config: { architecture: 'amd64', os: 'linux', config: {} },
    name: 'fuzz',
    tag: 'latest',
  });
  const sboms = [Buffer.from(serializeBom(imageSbom(readImageLayout(image.tarball))))];

  const advisoriesDir = new URL('../../examples/hello-world/advisories/', import.meta.url);
  const advisories = readdirSync(advisoriesDir).map((f) => readFileSync(new URL(f, advisoriesDir)));

  const tsa = new TimestampAuthority({
    signer: { privateKey: tsaCert.key.privateKey, chain: [tsaCert.cert] },
    clock: { now: () => T0.getTime() + 3600_000 },
  });
  const timestampRequests = (['sha256', 'sha384'] as const).map((hash) =>
    Buffer.from(
      AsnConvert.serialize(
        new tsp.TimeStampReq({
          messageImprint: new tsp.MessageImprint({
            hashAlgorithm: hashAlgorithm(hash),
            hashedMessage: new OctetString(createHash(hash).update('fuzz').digest()),
          }),
          nonce: new Uint8Array([1, 2, 3]).buffer,
          certReq: true,
        }),
      ),
    ),
  );
  const timestampTokens = timestampRequests.map((r) => tokenOf(tsa.respond(r)));

  const pems = [ec, ed, rsa];
  return {
    specDir,
    links,
    layouts,
    dsse,
    layoutSpecs: [Buffer.from(LAYOUT_SPEC)],
    publicKeys: [...pems.map((k) => Buffer.from(publicKeyPem(k.publicKey))), Buffer.from(securesystemslibKeyFiles(ed).publicJson)],
    privateKeys: [...pems.map((k) => Buffer.from(privateKeyPem(k))), Buffer.from(securesystemslibKeyFiles(ed).privateJson)],
    certificates,
    ders: [
      root.der,
      leaf.der,
      tsaCert.der,
      ca.der,
      ...pems.flatMap((k) => [
        k.publicKey.keyObject.export({ type: 'spki', format: 'der' }),
        k.keyObject.export({ type: 'pkcs8', format: 'der' }),
      ]),
    ],
    jwtSvids,
    jwtBundle,
    caDer: ca.der,
    caJwk: ca.key.publicKey.export({ format: 'jwk' }) as Record<string, unknown>,
    bundles,
    ociTars: [image.tarball],
    layers: [layer],
    sboms,
    advisories,
    timestampRequests,
    timestampTokens,
    tsaRoot: root.der,
    tpmPublics: [
      publicBytes(akTemplate('ecc')),
      publicBytes(akTemplate('rsa')),
      publicBytes(ekTemplate('rsa')),
      publicBytes(ekTemplate('ecc')),
    ],
  };
}

/** The TimeStampToken inside a granted TimeStampResp. */
function tokenOf(response: Buffer): Buffer {
  const resp = AsnConvert.parse(response, tsp.TimeStampResp);
  if (!resp.timeStampToken) throw new Error(`fuzz seeds: the TSA granted no token: ${JSON.stringify(resp.status)}`);
  return Buffer.from(AsnConvert.serialize(resp.timeStampToken));
}
