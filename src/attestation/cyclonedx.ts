import { STATEMENT_TYPE, type ResourceDescriptor, type Statement } from './statement.js';

/** The CycloneDX predicate type (in-toto/attestation spec/predicates/cyclonedx.md): the predicate is the BOM itself. */
export const CYCLONEDX_PREDICATE_TYPE = 'https://cyclonedx.org/bom';

/** A CycloneDX BOM as a Statement about `subject` (the artifact the BOM describes). */
export function cyclonedxStatement(bom: object, subject: ResourceDescriptor[]): Statement<object> {
  return { _type: STATEMENT_TYPE, subject, predicateType: CYCLONEDX_PREDICATE_TYPE, predicate: bom };
}
