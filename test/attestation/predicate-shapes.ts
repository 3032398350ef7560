/**
 * The published shapes of the predicates evident writes, transcribed field by field from their specs (our
 * own transcription, no fixture copied): in-toto Statement v1 and ResourceDescriptor (in-toto/attestation
 * spec/v1), vulns v0.2 (spec/predicates/vulns_02.md), SLSA Provenance v1 and Verification Summary v1
 * (slsa.dev/spec/v1.0), CycloneDX (spec/predicates/cyclonedx.md: the predicate is a CycloneDX BOM).
 * Each returns the problems found, so a test can assert there are none and that a broken statement has some.
 */

type Json = unknown;
const isObj = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** RFC 3339, as the in-toto Timestamp field type requires (a `Z` or an offset). */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
/** A URI: a scheme, then anything (TypeURI and ResourceURI, RFC 3986). */
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:.+/;

class Problems {
  readonly list: string[] = [];
  at(v: Json, path: string[]): Json {
    return path.reduce<Json>((o, k) => (isObj(o) ? o[k] : Array.isArray(o) ? o[Number(k)] : undefined), v);
  }
  need(ok: boolean, what: string): void {
    if (!ok) this.list.push(what);
  }
  string(v: Json, where: string, pattern?: RegExp): void {
    this.need(
      typeof v === 'string' && (pattern === undefined || pattern.test(v)),
      `${where} must be a string${pattern ? ` matching ${pattern}` : ''}`,
    );
  }
  optionalString(v: Json, where: string, pattern?: RegExp): void {
    if (v !== undefined) this.string(v, where, pattern);
  }
  object(v: Json, where: string): v is Record<string, Json> {
    this.need(isObj(v), `${where} must be an object`);
    return isObj(v);
  }
  array(v: Json, where: string): v is Json[] {
    this.need(Array.isArray(v), `${where} must be a list`);
    return Array.isArray(v);
  }
  /** DigestSet: algorithm → lowercase hex (sha256 64 digits). */
  digestSet(v: Json, where: string): void {
    if (!this.object(v, where)) return;
    for (const [alg, hex] of Object.entries(v)) this.string(hex, `${where}.${alg}`, /^[0-9a-f]+$/);
    if (v.sha256 !== undefined) this.string(v.sha256, `${where}.sha256`, /^[0-9a-f]{64}$/);
  }
  /** ResourceDescriptor: at least one of uri, digest, content; name, uri, etc. strings. */
  resourceDescriptor(v: Json, where: string): void {
    if (!this.object(v, where)) return;
    this.need(v.uri !== undefined || v.digest !== undefined || v.content !== undefined, `${where} needs one of uri, digest, content`);
    this.optionalString(v.name, `${where}.name`);
    this.optionalString(v.uri, `${where}.uri`);
    if (v.digest !== undefined) this.digestSet(v.digest, `${where}.digest`);
  }
}

/** in-toto Statement v1: _type, subject (non-empty, each with a digest), predicateType (a URI), predicate (an object). */
export function statementProblems(s: Json, predicateType: string): string[] {
  const p = new Problems();
  if (!p.object(s, 'statement')) return p.list;
  p.need(s._type === 'https://in-toto.io/Statement/v1', '_type must be https://in-toto.io/Statement/v1');
  if (p.array(s.subject, 'subject')) {
    p.need(s.subject.length > 0, 'subject must not be empty');
    s.subject.forEach((d, i) => {
      p.resourceDescriptor(d, `subject[${i}]`);
      p.need(isObj(d) && d.digest !== undefined, `subject[${i}] must have a digest`);
    });
  }
  p.need(s.predicateType === predicateType, `predicateType must be ${predicateType}`);
  p.object(s.predicate, 'predicate');
  return p.list;
}

/** vulns v0.2: scanner.uri; scanner.db.lastUpdate when db is given; scanner.result[*].id and severity[*].{method, score}; metadata times. */
export function vulnsProblems(predicate: Json): string[] {
  const p = new Problems();
  const at = (...path: string[]) => p.at(predicate, path);
  p.string(at('scanner', 'uri'), 'scanner.uri', URI);
  p.optionalString(at('scanner', 'version'), 'scanner.version');
  if (at('scanner', 'db') !== undefined) {
    p.optionalString(at('scanner', 'db', 'uri'), 'scanner.db.uri', URI);
    p.optionalString(at('scanner', 'db', 'version'), 'scanner.db.version');
    p.string(at('scanner', 'db', 'lastUpdate'), 'scanner.db.lastUpdate', TIMESTAMP);
  }
  const result = at('scanner', 'result');
  if (p.array(result, 'scanner.result'))
    result.forEach((r, i) => {
      p.string(p.at(r, ['id']), `scanner.result[${i}].id`);
      const severity = p.at(r, ['severity']);
      if (p.array(severity, `scanner.result[${i}].severity`))
        severity.forEach((s, j) => {
          p.string(p.at(s, ['method']), `scanner.result[${i}].severity[${j}].method`);
          p.string(p.at(s, ['score']), `scanner.result[${i}].severity[${j}].score`);
        });
      const annotations = p.at(r, ['annotations']);
      if (annotations !== undefined && p.array(annotations, `scanner.result[${i}].annotations`))
        annotations.forEach((a, j) => p.object(a, `scanner.result[${i}].annotations[${j}]`));
    });
  p.string(at('metadata', 'scanStartedOn'), 'metadata.scanStartedOn', TIMESTAMP);
  p.string(at('metadata', 'scanFinishedOn'), 'metadata.scanFinishedOn', TIMESTAMP);
  return p.list;
}

/** SLSA Provenance v1: buildDefinition.{buildType (URI), externalParameters (object), internalParameters?, resolvedDependencies?}, runDetails.{builder.id (URI), metadata?, byproducts?}. */
export function provenanceProblems(predicate: Json): string[] {
  const p = new Problems();
  const at = (...path: string[]) => p.at(predicate, path);
  p.string(at('buildDefinition', 'buildType'), 'buildDefinition.buildType', URI);
  p.object(at('buildDefinition', 'externalParameters'), 'buildDefinition.externalParameters');
  if (at('buildDefinition', 'internalParameters') !== undefined)
    p.object(at('buildDefinition', 'internalParameters'), 'buildDefinition.internalParameters');
  const deps = at('buildDefinition', 'resolvedDependencies');
  if (deps !== undefined && p.array(deps, 'buildDefinition.resolvedDependencies'))
    deps.forEach((d, i) => p.resourceDescriptor(d, `buildDefinition.resolvedDependencies[${i}]`));
  p.string(at('runDetails', 'builder', 'id'), 'runDetails.builder.id', URI);
  const metadata = at('runDetails', 'metadata');
  if (metadata !== undefined && p.object(metadata, 'runDetails.metadata')) {
    p.optionalString(metadata.invocationId, 'runDetails.metadata.invocationId');
    p.optionalString(metadata.startedOn, 'runDetails.metadata.startedOn', TIMESTAMP);
    p.optionalString(metadata.finishedOn, 'runDetails.metadata.finishedOn', TIMESTAMP);
  }
  return p.list;
}

/** SLSA VSA v1: verifier.id, timeVerified, resourceUri, policy (with a uri), inputAttestations? (each with a digest), verificationResult, verifiedLevels. */
export function vsaProblems(predicate: Json): string[] {
  const p = new Problems();
  const at = (...path: string[]) => p.at(predicate, path);
  p.string(at('verifier', 'id'), 'verifier.id', URI);
  p.string(at('timeVerified'), 'timeVerified', TIMESTAMP);
  p.string(at('resourceUri'), 'resourceUri');
  p.resourceDescriptor(at('policy'), 'policy');
  p.string(at('policy', 'uri'), 'policy.uri');
  const inputs = at('inputAttestations');
  if (inputs !== undefined && p.array(inputs, 'inputAttestations'))
    inputs.forEach((d, i) => {
      p.resourceDescriptor(d, `inputAttestations[${i}]`);
      p.need(isObj(d) && d.digest !== undefined, `inputAttestations[${i}] must have a digest`);
    });
  p.need(at('verificationResult') === 'PASSED' || at('verificationResult') === 'FAILED', 'verificationResult must be PASSED or FAILED');
  const levels = at('verifiedLevels');
  if (p.array(levels, 'verifiedLevels')) {
    levels.forEach((l, i) => p.string(l, `verifiedLevels[${i}]`, /^(SLSA_BUILD_LEVEL_[0-3]|FAILED|(?!SLSA_)[A-Z0-9_]+)$/));
    if (at('verificationResult') === 'FAILED') p.need(levels.includes('FAILED'), 'a FAILED result has verifiedLevels ["FAILED"]');
  }
  p.optionalString(at('slsaVersion'), 'slsaVersion', /^\d+\.\d+$/);
  return p.list;
}

/** CycloneDX: bomFormat "CycloneDX", specVersion, and the BOM's lists. */
export function cyclonedxProblems(predicate: Json): string[] {
  const p = new Problems();
  p.need(p.at(predicate, ['bomFormat']) === 'CycloneDX', 'bomFormat must be CycloneDX');
  p.string(p.at(predicate, ['specVersion']), 'specVersion', /^1\.\d+$/);
  const components = p.at(predicate, ['components']);
  if (components !== undefined && p.array(components, 'components'))
    components.forEach((c, i) => {
      p.string(p.at(c, ['type']), `components[${i}].type`);
      p.string(p.at(c, ['name']), `components[${i}].name`);
    });
  return p.list;
}
