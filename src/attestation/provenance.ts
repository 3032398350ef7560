import { randomUUID } from 'node:crypto';
import { arch, platform } from 'node:os';
import type { ArtifactDict } from '../intoto/models/types.js';
import { STATEMENT_TYPE, type Statement } from './statement.js';

/** SLSA Provenance v1 (slsa.dev/spec/v1.0/provenance). */
export const SLSA_PROVENANCE_TYPE = 'https://slsa.dev/provenance/v1';

/**
 * The buildType of a step recorded by `evident run` (docs/policy.md): externalParameters are
 * `{step, command}`, internalParameters `{evident, platform, arch, node, workdir}`, resolvedDependencies the
 * step's materials. Versioned: a change to what the parameters mean is a new URI.
 */
export const EVIDENT_RUN_BUILD_TYPE = 'https://evident.dev/run/v1';

export interface ProvenanceInput {
  step: string;
  command: string[];
  materials: ArtifactDict;
  products: ArtifactDict;
  /** builder.id: the signer's SPIFFE ID, or the key fallback (signerUri). */
  builderId: string;
  startedOn: Date;
  finishedOn: Date;
  /** The working folder of the step, as the link's environment would record it. */
  workdir: string;
  evidentVersion: string;
}

/**
 * A link's artifacts as resource descriptors: name the recorded path, digest its digests. No `uri`: a
 * recorded path is relative, not the RFC 3986 URI a ResourceURI must be (the digest identifies the artifact).
 */
function descriptors(artifacts: ArtifactDict): { name: string; digest: Record<string, string> }[] {
  return Object.entries(artifacts).map(([path, digest]) => ({ name: path, digest: { ...digest } }));
}

/**
 * The SLSA Provenance v1 Statement of a step: its subjects are the products that have a sha256 (a
 * product without one cannot be matched by anyone reading the provenance). internalParameters hold only
 * what says which evident ran where: never the process environment, which may hold tokens and passwords.
 */
export function provenanceStatement(input: ProvenanceInput): Statement {
  const subject = Object.entries(input.products).flatMap(([path, digest]) =>
    digest.sha256 !== undefined ? [{ name: path, digest: { sha256: digest.sha256 } }] : [],
  );
  return {
    _type: STATEMENT_TYPE,
    subject,
    predicateType: SLSA_PROVENANCE_TYPE,
    predicate: {
      buildDefinition: {
        buildType: EVIDENT_RUN_BUILD_TYPE,
        externalParameters: { step: input.step, command: input.command },
        internalParameters: {
          evident: input.evidentVersion,
          platform: platform(),
          arch: arch(),
          node: process.versions.node,
          workdir: input.workdir.replaceAll('\\', '/'),
        },
        resolvedDependencies: descriptors(input.materials),
      },
      runDetails: {
        builder: { id: input.builderId },
        metadata: {
          invocationId: randomUUID(),
          startedOn: input.startedOn.toISOString(),
          finishedOn: input.finishedOn.toISOString(),
        },
      },
    },
  };
}

/** `<step>.<keyid[:8]>.provenance.json`, beside `<step>.<keyid[:8]>.link`. */
export function provenanceFileName(step: string, keyid: string): string {
  return `${step}.${keyid.slice(0, 8)}.provenance.json`;
}
