/**
 * evident: evidence-based trust for the software supply chain.
 *
 * The package's entry point holds what most programs need: record a step, verify a product against its
 * layout, load keys, and the typed errors every function throws. Each area has its own subpath with the
 * rest of its surface: `evident/crypto`, `evident/intoto`, `evident/attestation`, `evident/spiffe`,
 * `evident/identity/server`, `evident/identity/agent`, `evident/oci`, `evident/sbom`, `evident/scan`.
 * docs/ARCHITECTURE.md describes the areas and how they depend on each other.
 *
 * @example
 * import { readFile } from 'node:fs/promises';
 * import { loadPublicKey, verify, formatReport } from 'evident';
 * const layout = JSON.parse(await readFile('root.layout', 'utf8'));
 * const report = await verify({ layout, layoutKeys: [await loadPublicKey('owner.pub')], linkDir: '.' });
 * process.exitCode = report.ok ? 0 : 1;
 * console.log(formatReport(report));
 */
export { EvidentError, isEvidentError, describeError, exitCodeFor, type EvidentErrorCode } from './errors.js';
export { PublicKey, PrivateKey, loadPublicKey, loadPrivateKey, generatePrivateKey, saveKeyPair, type Signer } from './crypto/index.js';
export {
  verify,
  formatReport,
  reportToJson,
  runStep,
  recordStart,
  recordStop,
  collectArtifacts,
  compileLayoutSpec,
  loadMetadataFile,
  signMetablock,
  writeMetadataFile,
  type Layout,
  type Link,
  type VerificationReport,
  type VerifyOptions,
  type RunStepOptions,
} from './intoto/index.js';
export { SpiffeId, TrustDomain, X509Svid, JwtSvid, fetchX509SVID, fetchJWTSVID } from './spiffe/index.js';
