/**
 * The fuzz targets: every parser of untrusted input, each fed mutations of a seed corpus made by
 * evident's own generators (seeds.ts). A target returns or throws; engine.ts judges which.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envelopePayload, parseEnvelope } from '../../src/crypto/dsse.js';
import { parsePrivateKey, parsePublicKey } from '../../src/crypto/key-files.js';
import { verifyCertificateChain } from '../../src/crypto/x509/chain.js';
import { parseCertificatesPem, toPem } from '../../src/crypto/x509/pem.js';
import { X509Certificate } from '../../src/crypto/x509/x509.js';
import { parseStatement } from '../../src/attestation/statement.js';
import { compileLayoutSpec } from '../../src/intoto/layout-spec/compile.js';
import { signedOf, parseMetadata } from '../../src/intoto/models/metablock.js';
import { compileRule } from '../../src/intoto/policy/compile-rule.js';
import { loadSignedMetadataBytes } from '../../src/intoto/verify/metadata.js';
import { readImageLayout } from '../../src/oci/layout-reader.js';
import { readTar } from '../../src/oci/tar.js';
import { unpackLayers } from '../../src/oci/unpack.js';
import { readCycloneDx } from '../../src/sbom/read-bom.js';
import { isAffected } from '../../src/scan/affected.js';
import { cvss3BaseScore } from '../../src/scan/cvss.js';
import { parseOsv } from '../../src/scan/osv.js';
import { compareSemver, parseSemver } from '../../src/scan/semver.js';
import { versionOrder } from '../../src/scan/version-order.js';
import { JwtBundle } from '../../src/spiffe/bundle/jwt-bundle.js';
import { SpiffeBundle } from '../../src/spiffe/bundle/spiffe-bundle.js';
import { JwtSvid } from '../../src/spiffe/jwtsvid/svid.js';
import { SpiffeId } from '../../src/spiffe/spiffeid/spiffe-id.js';
import { TrustDomain } from '../../src/spiffe/spiffeid/trust-domain.js';
import { parseEvidence } from '../../src/store/evidence.js';
import { reviewAdmission, type DecideImage } from '../../src/gate/admission-review.js';
import { admitRequest } from '../../src/gate/admit-request.js';
import { podAdmissionReview } from '../../src/demo/pod-admission-review.js';
import { readTimestampRequest } from '../../src/time/request.js';
import { DEFAULT_TSA_POLICY } from '../../src/time/policy.js';
import { readToken } from '../../src/time/token.js';
import { verifyTimestampToken } from '../../src/time/verify.js';
import { parsePublic } from '../../src/tpm/structures.js';
import { parseStrictJson } from '../../src/util/strict-json.js';
import { isEvidentError } from '../../src/errors.js';
import type { FuzzTarget } from './engine.js';
import { AUDIENCE, seeds, TRUST_DOMAIN } from './seeds.js';

const utf8 = (b: Buffer) => b.toString('utf8');
const JSON_WORDS = [
  '"signed"',
  '"signatures"',
  '"_type"',
  '"keyid"',
  '"sig"',
  '"payload"',
  '"payloadType"',
  '"expires"',
  '"keys"',
  '"steps"',
];

const metablock: FuzzTarget = {
  name: 'metablock',
  entry: 'loadSignedMetadataBytes (canonical-from-text fast path), parseStrictJson + parseMetadata',
  dictionary: [...JSON_WORDS, '"materials"', '"products"', '"sha256"', '"link"', '"layout"', '"rule"', '"pubkeys"', '"threshold"'],
  seeds: async () => {
    const s = await seeds();
    return [...s.links, ...s.layouts, ...s.dsse];
  },
  run(input) {
    loadSignedMetadataBytes(Buffer.from(input), 'fuzz.link');
    const file = parseMetadata(parseStrictJson(utf8(input), 'fuzz.link'), 'fuzz.link');
    if (file.format === 'metablock') signedOf(file);
  },
};

const dsse: FuzzTarget = {
  name: 'dsse',
  entry: 'parseEnvelope, envelopePayload, parseStatement',
  dictionary: [...JSON_WORDS, '"subject"', '"predicateType"', '"digest"', 'eyJ', '=='],
  seeds: async () => (await seeds()).dsse,
  run(input) {
    const envelope = parseEnvelope(parseStrictJson(utf8(input), 'fuzz.dsse'), 'fuzz.dsse');
    const payload = envelopePayload(envelope);
    parseStatement(parseStrictJson(payload.toString('utf8'), 'payload'), 'payload');
  },
};

let specDirUsed = 0;
const layoutSpec: FuzzTarget = {
  name: 'layout-spec',
  entry: 'compileLayoutSpec (YAML), compileExpires, readKeyFile',
  dictionary: [
    'expires: ',
    'keys:',
    'steps:',
    'inspections:',
    'rule: ',
    'functionaries: ',
    'MATCH ',
    'WITH PRODUCTS FROM ',
    '&x ',
    '*x',
    '<<: *x',
    '.',
    '/',
    '\u0000',
    '9999999d',
    'roots:',
  ],
  seeds: async () => (await seeds()).layoutSpecs,
  async run(input) {
    const s = await seeds();
    const file = join(s.specDir, `spec-${process.pid}-${specDirUsed++ % 4}.yaml`);
    writeFileSync(file, input);
    await compileLayoutSpec(file, { displayName: 'fuzz.yaml', now: new Date('2026-01-01T00:00:00Z') });
  },
};

const pem: FuzzTarget = {
  name: 'pem',
  entry: 'parsePublicKey, parsePrivateKey, parseCertificatesPem, verifyCertificateChain',
  dictionary: [
    '-----BEGIN CERTIFICATE-----\n',
    '-----END CERTIFICATE-----\n',
    '-----BEGIN PUBLIC KEY-----\n',
    'MII',
    'AAAA',
    '=',
    '"keyval"',
    '"public"',
  ],
  seeds: async () => {
    const s = await seeds();
    return [...s.publicKeys, ...s.privateKeys, ...s.certificates];
  },
  run(input) {
    const text = utf8(input);
    readAllWays(text, text, text);
  },
};

/**
 * Reads keys and certificates every way a verifier does, and checks a chain of whatever certificates
 * parse; the first error that is not an EvidentError is thrown (the finding), after all were tried.
 */
function readAllWays(publicPem: string, privatePem: string, certificatesPem: string): void {
  let foreign: unknown;
  const attempt = (read: () => unknown) => {
    try {
      read();
    } catch (e) {
      if (!isEvidentError(e)) foreign ??= e;
    }
  };
  attempt(() => parsePublicKey(publicPem));
  attempt(() => parsePrivateKey(privatePem));
  attempt(() => {
    const certs = parseCertificatesPem(certificatesPem);
    if (certs.length > 0) verifyCertificateChain(certs[0]!, { roots: certs, intermediates: certs, time: new Date('2026-03-01T13:00:00Z') });
  });
  if (foreign !== undefined) throw foreign;
}

/** Structure-aware: mutations of the DER, wrapped as PEM again, reach the ASN.1 decoders rather than the base64 one. */
const x509Der: FuzzTarget = {
  name: 'x509-der',
  entry: 'parseCertificatesPem, verifyCertificateChain, parsePublicKey, parsePrivateKey on mutated DER',
  seeds: async () => (await seeds()).ders,
  run(input) {
    readAllWays(toPem('PUBLIC KEY', input), toPem('PRIVATE KEY', input), toPem('CERTIFICATE', input));
  },
};

const spiffeId: FuzzTarget = {
  name: 'spiffe-id',
  entry: 'SpiffeId.parse, TrustDomain.parse',
  dictionary: ['spiffe://', '%2e', '%00', '//', '/./', ':443', '@', 'SPIFFE://'],
  seeds: async () => [Buffer.from('spiffe://example.org/ci/builder'), Buffer.from('spiffe://a.b-c_d/x/y.z'), Buffer.from('example.org')],
  run(input) {
    const text = utf8(input);
    try {
      SpiffeId.parse(text);
    } finally {
      TrustDomain.parse(text);
    }
  },
};

const jwtSvid: FuzzTarget = {
  name: 'jwt-svid',
  entry: 'JwtSvid.parseAndValidate, JwtSvid.parseInsecure',
  dictionary: ['.', 'eyJhbGciOiJub25lIn0', '=', '-', '_'],
  seeds: async () => (await seeds()).jwtSvids,
  async run(input) {
    const s = await seeds();
    const token = utf8(input);
    try {
      JwtSvid.parseInsecure(token, AUDIENCE);
    } finally {
      await JwtSvid.parseAndValidate(token, s.jwtBundle, AUDIENCE);
    }
  },
};

const trustBundle: FuzzTarget = {
  name: 'trust-bundle',
  entry: 'SpiffeBundle.parse, JwtBundle.parse (JWKS)',
  dictionary: [
    '"keys"',
    '"kty"',
    '"EC"',
    '"RSA"',
    '"OKP"',
    '"crv"',
    '"P-256"',
    '"x5c"',
    '"use"',
    '"x509-svid"',
    '"jwt-svid"',
    '"kid"',
    '"spiffe_sequence"',
    '"n"',
    '"e"',
  ],
  seeds: async () => (await seeds()).bundles,
  run(input) {
    const td = TrustDomain.parse(TRUST_DOMAIN);
    try {
      SpiffeBundle.parse(td, input);
    } finally {
      JwtBundle.parse(td, input);
    }
  },
};

/** Structure-aware: a SPIFFE bundle whose x509-svid key carries a mutated DER certificate in `x5c`. */
const bundleX5c: FuzzTarget = {
  name: 'bundle-x5c',
  entry: 'SpiffeBundle.parse on mutated x5c certificates',
  seeds: async () => [(await seeds()).caDer],
  async run(input) {
    const { caJwk } = await seeds();
    const doc = { keys: [{ ...caJwk, use: 'x509-svid', x5c: [input.toString('base64')] }] };
    SpiffeBundle.parse(TrustDomain.parse(TRUST_DOMAIN), JSON.stringify(doc));
  },
};

const ociTar: FuzzTarget = {
  name: 'oci-tar',
  entry: 'readTar, readImageLayout',
  dictionary: ['ustar\u000000', 'index.json', 'oci-layout', 'blobs/sha256/', '../', '.wh.', '"mediaType"', '"layers"', '"digest"'],
  seeds: async () => {
    const s = await seeds();
    return [...s.ociTars, ...s.layers];
  },
  run(input) {
    try {
      readTar(input, 'fuzz.tar');
    } finally {
      readImageLayout(input);
    }
  },
};

const ociUnpack: FuzzTarget = {
  name: 'oci-unpack',
  entry: 'unpackLayers',
  dictionary: ['../', '/', '.wh.', '.wh..wh..opq', 'etc/passwd'],
  seeds: async () => (await seeds()).layers,
  async run(input) {
    const dir = mkdtempSync(join(tmpdir(), 'evident-fuzz-unpack-'));
    try {
      await unpackLayers([input], join(dir, 'root'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

const sbom: FuzzTarget = {
  name: 'sbom',
  entry: 'readCycloneDx',
  dictionary: ['"components"', '"purl"', '"version"', '"bomFormat"', '"CycloneDX"', '"specVersion"', 'pkg:', '@', '%'],
  seeds: async () => (await seeds()).sboms,
  run(input) {
    readCycloneDx(utf8(input), 'fuzz.cdx.json');
  },
};

const osv: FuzzTarget = {
  name: 'osv',
  entry: 'parseOsv, isAffected',
  dictionary: [
    '"affected"',
    '"ranges"',
    '"events"',
    '"introduced"',
    '"fixed"',
    '"SEMVER"',
    '"ECOSYSTEM"',
    '"severity"',
    'CVSS:3.1/',
    '"versions"',
  ],
  seeds: async () => (await seeds()).advisories,
  run(input) {
    const advisory = parseOsv(utf8(input), 'fuzz.json');
    for (const entry of advisory.affected) for (const v of ['1.2.3', '0', '1.3.1-rc.1+b', '']) isAffected(entry, v);
  },
};

const VERSION_SEEDS = ['1.2.3', '1.2.3-rc.1+build.5', '0.0.0-0', '1.3.1', '2:1.2-3', '10.0.0-alpha.beta.1'];
const versions: FuzzTarget = {
  name: 'versions',
  entry: 'parseSemver, compareSemver, versionOrder(…).compare',
  dictionary: ['.', '-', '+', '0', '00', '99999999999999999999', 'alpha', ':', '~'],
  seeds: async () => VERSION_SEEDS.flatMap((a) => VERSION_SEEDS.map((b) => Buffer.from(`${a}\n${b}`))),
  run(input) {
    const [a = '', b = ''] = utf8(input).split('\n');
    const sa = parseSemver(a);
    const sb = parseSemver(b);
    if (sa && sb) compareSemver(sa, sb);
    for (const order of [versionOrder('SEMVER', 'npm'), versionOrder('ECOSYSTEM', 'generic'), versionOrder('ECOSYSTEM', 'Debian:12')]) {
      const pa = order.parse(a);
      const pb = order.parse(b);
      if (pa !== undefined && pb !== undefined) order.compare(pa, pb);
    }
  },
};

const cvss: FuzzTarget = {
  name: 'cvss',
  entry: 'cvss3BaseScore',
  dictionary: ['/AV:N', '/S:C', '/C:H', 'CVSS:3.0', 'CVSS:3.1', ':X', '/E:U'],
  seeds: async () => [
    Buffer.from('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'),
    Buffer.from('CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:C/C:L/I:N/A:N'),
  ],
  run(input) {
    cvss3BaseScore(utf8(input));
  },
};

const timestampRequest: FuzzTarget = {
  name: 'rfc3161-request',
  entry: 'readTimestampRequest (never throws)',
  seeds: async () => (await seeds()).timestampRequests,
  run(input) {
    readTimestampRequest(input, DEFAULT_TSA_POLICY);
  },
};

let tsaRoot: X509Certificate | undefined;
const timestampToken: FuzzTarget = {
  name: 'rfc3161-token',
  entry: 'readToken, verifyTimestampToken (never throw)',
  seeds: async () => (await seeds()).timestampTokens,
  async run(input) {
    tsaRoot ??= new X509Certificate((await seeds()).tsaRoot);
    readToken(input);
    verifyTimestampToken(input, Buffer.from('fuzz'), [tsaRoot]);
  },
};

const tpm: FuzzTarget = {
  name: 'tpm',
  entry: 'parsePublic (TPMT_PUBLIC)',
  seeds: async () => (await seeds()).tpmPublics,
  run(input) {
    parsePublic(input);
  },
};

const storeUpload: FuzzTarget = {
  name: 'store-upload',
  entry: 'parseEvidence',
  dictionary: JSON_WORDS,
  seeds: async () => {
    const s = await seeds();
    return [...s.links, ...s.layouts, ...s.dsse];
  },
  run(input) {
    parseEvidence(input);
  },
};

const celRule: FuzzTarget = {
  name: 'cel-rule',
  entry: 'compileRule',
  dictionary: [
    '.all(',
    '.exists(',
    'size(',
    '&&',
    '||',
    '!',
    '==',
    '"',
    "'",
    'subject',
    'predicate',
    'signer',
    'x, ',
    ')',
    '[',
    ']',
    '{',
    '}',
    '?:',
    '1e999',
  ],
  seeds: async () =>
    [
      'subject.all(s, s.digest.sha256 != "") && size(signer.keyid) > 0',
      'predicate.scanner.result.all(r, r.severity != "CRITICAL")',
      'predicateType == "https://in-toto.io/attestation/vulns" ? true : false',
      'subject.exists(s, s.name.startsWith("app") && s.name.endsWith(".tar"))',
    ].map((r) => Buffer.from(r)),
  run(input) {
    compileRule(utf8(input));
  },
};

/**
 * A gate request body as the server hands it on: fastify answers 400 itself when the body is not JSON, so
 * only what parses reaches evident's code.
 */
function gateBody(input: Buffer): { parsed: true; body: unknown } | { parsed: false } {
  try {
    return { parsed: true, body: JSON.parse(utf8(input)) };
  } catch {
    return { parsed: false };
  }
}

const HEX = 'ab'.repeat(32);
const GATE_WORDS = [
  '"containers"',
  '"initContainers"',
  '"ephemeralContainers"',
  '"template"',
  '"jobTemplate"',
  '"spec"',
  '"image"',
  '"Deployment"',
  '"CronJob"',
  '"StatefulSet"',
  '"UPDATE"',
  '"DELETE"',
  '"kube-system"',
  '@sha256:',
  `sha256:${HEX}`,
  ':latest',
];

/** Allows half the digests and refuses the rest with a reason, so both answers are built. */
const decideByDigest: DecideImage = async (image) =>
  image.digest !== undefined && image.digest.charCodeAt(7) % 2 === 0
    ? { allowed: true, reasons: [] }
    : { allowed: false, reasons: [`no verified evidence for ${image.text}`] };

const admissionReview: FuzzTarget = {
  name: 'admission-review',
  entry: 'reviewAdmission (POST /validate, AdmissionReview v1)',
  dictionary: GATE_WORDS,
  seeds: async () =>
    [
      { name: 'hello', namespace: 'default', image: `hello@sha256:${HEX}` },
      { name: 'migrate', namespace: 'payments', image: `registry.example/team/migrate@sha256:${'0c'.repeat(32)}` },
      { name: 'tagged', namespace: 'legacy', image: 'hello:1.2' },
      { name: 'system', namespace: 'kube-system', image: `pause@sha256:${HEX}` },
    ].map((pod) => Buffer.from(JSON.stringify(podAdmissionReview(pod)))),
  async run(input) {
    const body = gateBody(input);
    if (!body.parsed) return;
    // warn mode on odd-length inputs: the admitting-with-warnings answer is built too
    await reviewAdmission(body.body, decideByDigest, { warnOnly: input.length % 2 === 1, exemptNamespaces: ['kube-system'] });
  },
};

const gateAdmit: FuzzTarget = {
  name: 'admit-request',
  entry: 'admitRequest (POST /v1/admit)',
  dictionary: GATE_WORDS,
  seeds: async () =>
    [
      { artifact: `sha256:${HEX}` },
      { artifact: `hello@sha256:${HEX}`, context: { namespace: 'payments' } },
      { artifact: 'registry.example:5000/team/app:1.0' },
    ].map((b) => Buffer.from(JSON.stringify(b))),
  run(input) {
    const body = gateBody(input);
    if (body.parsed) admitRequest(body.body);
  },
};

export const TARGETS: readonly FuzzTarget[] = [
  metablock,
  dsse,
  layoutSpec,
  pem,
  x509Der,
  spiffeId,
  jwtSvid,
  trustBundle,
  bundleX5c,
  ociTar,
  ociUnpack,
  sbom,
  osv,
  versions,
  cvss,
  timestampRequest,
  timestampToken,
  tpm,
  storeUpload,
  celRule,
  admissionReview,
  gateAdmit,
];
