/**
 * The statements evident writes, validated against JSON Schemas of their predicates with Ajv, a validator of
 * the JSON Schema standard (draft 2020-12, with the formats `uri` and `date-time`):
 *
 * - CycloneDX: the official schema the CycloneDX project publishes (bom-1.5), as its own library ships and
 *   applies it (`@cyclonedx/cyclonedx-library`, strict: no field outside the spec);
 * - in-toto Statement v1 (with ResourceDescriptor, DigestSet, TypeURI, ResourceURI, Timestamp), the vulns
 *   predicate v0.2, SLSA Provenance v1 and the SLSA VSA v1: their specs publish no JSON Schema (in-toto and
 *   SLSA give markdown and protobuf), so `schemas/*.schema.json` are our own transcriptions of the specs'
 *   fields, required ones and types, as JSON Schemas (no fixture or schema copied from those projects).
 *
 * Each returns the problems found (`/subject/0/digest/sha256 must match pattern …`), [] when valid, so a test
 * can assert there are none and that a broken statement has some.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS: its function is the default export or the module itself, as the loader wraps it
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as unknown as (
  ajv: Ajv2020,
  formats: string[],
) => Ajv2020;

const SCHEMAS = join(import.meta.dirname, 'schemas');
const NAMES = ['statement-v1', 'vulns-v0.2', 'slsa-provenance-v1', 'slsa-vsa-v1'] as const;

// strict, but for `required` inside anyOf/allOf ("one of uri, digest, content"), which names properties defined beside it
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
addFormats(ajv, ['uri', 'date-time']);
const validators = Object.fromEntries(
  NAMES.map((name) => {
    const schema = JSON.parse(readFileSync(join(SCHEMAS, `${name}.schema.json`), 'utf8')) as { $id: string };
    ajv.addSchema(schema);
    return [name, schema.$id];
  }),
) as Record<(typeof NAMES)[number], string>;

function problems(name: (typeof NAMES)[number], value: unknown): string[] {
  const validate = ajv.getSchema(validators[name]) as ValidateFunction;
  return validate(value) ? [] : (validate.errors ?? []).map(describe);
}

function describe(e: ErrorObject): string {
  return `${e.instancePath === '' ? '(the document)' : e.instancePath} ${e.message ?? e.keyword}${e.keyword === 'const' || e.keyword === 'enum' ? ` ${JSON.stringify(e.params)}` : ''}`;
}

/** in-toto Statement v1, and its predicateType the one expected. */
export function statementProblems(statement: unknown, predicateType: string): string[] {
  const found = problems('statement-v1', statement);
  const type = (statement as { predicateType?: unknown } | null)?.predicateType;
  if (type !== predicateType) found.push(`/predicateType must be ${predicateType}, not ${JSON.stringify(type)}`);
  return found;
}

/** The vulns predicate v0.2 (https://in-toto.io/attestation/vulns/v0.2). */
export const vulnsProblems = (predicate: unknown): string[] => problems('vulns-v0.2', predicate);

/** SLSA Provenance v1 (https://slsa.dev/provenance/v1). */
export const provenanceProblems = (predicate: unknown): string[] => problems('slsa-provenance-v1', predicate);

/** SLSA Verification Summary v1 (https://slsa.dev/verification_summary/v1). */
export const vsaProblems = (predicate: unknown): string[] => problems('slsa-vsa-v1', predicate);

/** A CycloneDX BOM (the predicate of https://cyclonedx.org/bom) against the official JSON Schema of its specVersion, strictly. */
export async function cyclonedxProblems(bom: unknown): Promise<string[]> {
  const version = (bom as { specVersion?: unknown } | null)?.specVersion;
  const known = Object.values(Spec.Version) as string[];
  if (typeof version !== 'string' || !known.includes(version)) return [`/specVersion ${JSON.stringify(version)} is no CycloneDX version`];
  const validator = new Validation.JsonStrictValidator(version as Spec.Version);
  // null when valid, else Ajv's errors
  const errors = (await validator.validate(JSON.stringify(bom))) as unknown;
  if (errors === null) return [];
  return Array.isArray(errors) ? (errors as ErrorObject[]).map(describe) : [String(errors)];
}
