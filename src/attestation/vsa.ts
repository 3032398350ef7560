import { SLSA_VSA_PREDICATE_TYPE } from '../intoto/models/expected-vsa.js';
import { STATEMENT_TYPE, type ResourceDescriptor, type Statement } from './statement.js';

/** SLSA Verification Summary Attestation v1 (slsa.dev/spec/v1.0/verification_summary): what verification takes as a step's evidence too. */
export const SLSA_VSA_TYPE = SLSA_VSA_PREDICATE_TYPE;

export interface VsaInput {
  verifierId: string;
  verifierVersion: string;
  timeVerified: Date;
  /** The verified artifacts: the products the chain was verified for, by digest. */
  subject: ResourceDescriptor[];
  /** Where the artifacts were meant to go, or what they are (a URI: fileResourceUri for a file's name). */
  resourceUri: string;
  /** The layout: a URI naming it (fileResourceUri of its file), the sha256 of its bytes as digest. */
  policy: { uri: string; sha256: string };
  /** The links (and attestations) the verification read: name (the file's path) and sha256 of each. */
  inputAttestations: { name: string; sha256: string }[];
  passed: boolean;
}

/**
 * The VSA of an `evident verify`. verifiedLevels: evident's layouts check who performed each step and how
 * artifacts flowed, not the build platform's isolation, so evident claims no SLSA_BUILD_LEVEL_n of its own.
 * A PASSED result names one custom value, `EVIDENT_LAYOUT_VERIFIED` (the VSA spec allows custom values that
 * do not start with `SLSA_`); a FAILED one names `FAILED`, as the spec says.
 */
export function vsaStatement(input: VsaInput): Statement {
  return {
    _type: STATEMENT_TYPE,
    subject: input.subject,
    predicateType: SLSA_VSA_TYPE,
    predicate: {
      verifier: { id: input.verifierId, version: { evident: input.verifierVersion } },
      timeVerified: input.timeVerified.toISOString(),
      resourceUri: input.resourceUri,
      policy: { uri: input.policy.uri, digest: { sha256: input.policy.sha256 } },
      inputAttestations: input.inputAttestations.map((a) => ({ name: a.name, digest: { sha256: a.sha256 } })),
      verificationResult: input.passed ? 'PASSED' : 'FAILED',
      verifiedLevels: input.passed ? ['EVIDENT_LAYOUT_VERIFIED'] : ['FAILED'],
      slsaVersion: '1.0',
    },
  };
}

/**
 * A local file's path as a ResourceURI (an RFC 3986 URI, which a relative path is not): the generic Package
 * URL the in-toto spec recommends, `pkg:generic/` and the path's segments percent-encoded (`dist/lib.tar` →
 * `pkg:generic/dist/lib.tar`; a leading `./` dropped, `\` read as `/`).
 */
export function fileResourceUri(path: string): string {
  const segments = path
    .replaceAll('\\', '/')
    .split('/')
    .filter((s, i) => s !== '' && !(i === 0 && s === '.'));
  return `pkg:generic/${segments.map((s) => encodeURIComponent(s)).join('/')}`;
}
