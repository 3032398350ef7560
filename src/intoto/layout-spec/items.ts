import type { PublicKey } from '../../crypto/keys.js';
import { checkRule } from '../models/rule.js';
import { nameProblem, Problems } from '../models/problems.js';
import { shellSplit } from '../models/shell-split.js';
import type { CertificateConstraint, Inspection, RuleTokens, Step } from '../models/types.js';
import type { At, SpecReader } from './spec-reader.js';
import { compilePredicates, type SpecRule } from './predicates.js';
import { compileVsa, type SpecPolicyFile } from './vsa.js';

const STEP_KEYS = [
  'name',
  'functionaries',
  'threshold',
  'command',
  'materials',
  'products',
  'require_timestamps',
  'expected_predicates',
  'vsa',
] as const;
const INSPECTION_KEYS = ['name', 'run', 'materials', 'products', 'expected_predicates'] as const;
const SPIFFE_KEYS = ['spiffe', 'roots'] as const;
const SPIFFE_ID = /^spiffe:\/\/[a-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

export interface ItemContext {
  /** Functionary name → key, from the spec's `keys`. */
  keys: Map<string, PublicKey>;
  /** Root name → keyids of its CA certificates, from the spec's `roots`. */
  roots: Map<string, string[]>;
  /** Whether the spec names any time-stamping authority (`timestamp_authorities`), which `require_timestamps` needs. */
  timestampAuthorities: boolean;
  /** Every attestation rule of the spec, with its place, collected to be type-checked (compile.ts). */
  rules: SpecRule[];
  /** The layout files steps' `vsa: {policy}` name, collected to be hashed (compile.ts). */
  policyFiles: SpecPolicyFile[];
}

/** Compiles `steps` and `inspections`; problems go to the reader, with lines. */
export function compileItems(
  reader: SpecReader,
  stepsAt: At | undefined,
  inspectionsAt: At | undefined,
  context: ItemContext,
): { steps: Step[]; inspections: Inspection[] } {
  const names = new Map<string, At>();
  const matchTargets: { at: At; step: string }[] = [];
  const steps: Step[] = [];
  const inspections: Inspection[] = [];
  if (stepsAt === undefined) reader.report(reader.root, 'steps are missing (a list of the supply chain steps)');
  for (const at of (stepsAt && reader.seq(stepsAt, 'of steps')) ?? []) {
    const step = compileStep(reader, at, context, names, matchTargets);
    if (step) steps.push(step);
  }
  for (const at of (inspectionsAt && reader.seq(inspectionsAt, 'of inspections')) ?? []) {
    const inspection = compileInspection(reader, at, context, names, matchTargets);
    if (inspection) inspections.push(inspection);
  }
  for (const { at, step } of matchTargets) {
    // the reference would accept it, then fail every verification for want of that step's link
    if (!names.has(step)) reader.report(at, `MATCH … FROM ${step}: there is no step or inspection named '${step}'`);
  }
  return { steps, inspections };
}

function compileStep(
  reader: SpecReader,
  at: At,
  context: ItemContext,
  names: Map<string, At>,
  targets: { at: At; step: string }[],
): Step | undefined {
  const before = reader.problemCount;
  const fields = reader.map(
    at,
    STEP_KEYS,
    'a step: name, functionaries, threshold, command, materials, products, require_timestamps, expected_predicates, vsa',
  );
  if (!fields) return undefined;
  const name = compileName(reader, at, fields.get('name'), names);
  const pubkeys: string[] = [];
  const constraints: CertificateConstraint[] = [];
  const functionariesAt = fields.get('functionaries');
  const beforeFunctionaries = reader.problemCount;
  if (functionariesAt === undefined) reader.report(at, 'functionaries are missing (who may perform this step)');
  for (const f of (functionariesAt && reader.seq(functionariesAt, 'of key names or {spiffe: ID, roots: [names]}')) ?? []) {
    if (reader.isScalarString(f)) {
      const keyName = reader.string(f, 'a key name') as string;
      const key = context.keys.get(keyName);
      if (key === undefined)
        reader.report(f, `no key named '${keyName}' in keys${context.keys.size ? ` (known: ${[...context.keys.keys()].join(', ')})` : ''}`);
      else if (!pubkeys.includes(key.keyid)) pubkeys.push(key.keyid);
    } else {
      const c = compileSpiffe(reader, f, context);
      if (c) constraints.push(c);
    }
  }
  const functionariesOk = reader.problemCount === beforeFunctionaries;
  let threshold = 1;
  const thresholdAt = fields.get('threshold');
  if (thresholdAt) {
    threshold = reader.integer(thresholdAt, 'a whole number of functionaries') ?? 1;
    if (threshold < 1) reader.report(thresholdAt, `must be at least 1, not ${threshold}`);
    else if (constraints.length === 0 && threshold > pubkeys.length && functionariesOk) {
      reader.report(
        thresholdAt,
        `${threshold} signer${threshold === 1 ? ' is' : 's are'} needed, but only ${pubkeys.length} functionar${pubkeys.length === 1 ? 'y is' : 'ies are'} listed`,
      );
    }
  }
  const command = compileCommand(reader, fields.get('command'));
  const materials = compileRules(reader, fields.get('materials'), targets);
  const products = compileRules(reader, fields.get('products'), targets);
  const requireTimestamps = compileRequireTimestamps(reader, fields.get('require_timestamps'), context);
  const predicatesAt = fields.get('expected_predicates');
  const predicates = predicatesAt && compilePredicates(reader, predicatesAt, context.keys, context.rules, { inspection: false });
  const vsaAt = fields.get('vsa');
  const vsa = vsaAt && compileVsa(reader, vsaAt, context.policyFiles);
  const commandAt = fields.get('command');
  if (vsa !== undefined && commandAt !== undefined)
    reader.report(commandAt, 'a step whose evidence is a VSA (vsa) runs no command: leave command out');
  if (reader.problemCount > before) return undefined;
  const step: Step = {
    _type: 'step',
    name: name as string,
    threshold,
    expected_materials: materials,
    expected_products: products,
    pubkeys,
    expected_command: command,
  };
  if (constraints.length > 0) step.cert_constraints = constraints;
  if (requireTimestamps) step.require_timestamps = true;
  if (predicates !== undefined) step.expected_predicates = predicates;
  if (vsa !== undefined) step.expected_vsa = vsa;
  return step;
}

/** `require_timestamps: true`: only signatures with a token from one of the spec's `timestamp_authorities` count. */
function compileRequireTimestamps(reader: SpecReader, at: At | undefined, context: ItemContext): boolean {
  if (at === undefined) return false;
  const value = reader.boolean(at, 'true or false');
  if (value === true && !context.timestampAuthorities) {
    reader.report(at, 'the spec names no timestamp_authorities to check the tokens against');
  }
  return value === true;
}

/**
 * `{spiffe: ID, roots: [names]}`: a signer whose certificate carries exactly that SPIFFE ID as its URI
 * SAN and chains to one of the roots (all of the spec's roots when `roots` is left out). Other
 * attributes are "*" (any), since an SVID is identified by its URI alone.
 */
function compileSpiffe(reader: SpecReader, at: At, context: ItemContext): CertificateConstraint | undefined {
  const fields = reader.map(at, SPIFFE_KEYS, 'a key name, or {spiffe: ID, roots: [names]}');
  if (!fields) return undefined;
  const idAt = fields.get('spiffe');
  if (idAt === undefined) {
    reader.report(at, 'spiffe: the SPIFFE ID is missing');
    return undefined;
  }
  const id = reader.string(idAt, 'a SPIFFE ID (spiffe://trust.domain/path)');
  if (id !== undefined && !SPIFFE_ID.test(id))
    reader.report(idAt, `'${id}' is not a SPIFFE ID (spiffe://trust.domain/path, lower-case trust domain)`);
  const rootIds: string[] = [];
  const rootsAt = fields.get('roots');
  if (rootsAt === undefined) {
    if (context.roots.size === 0) reader.report(at, 'a SPIFFE functionary needs roots: the spec declares none');
    for (const ids of context.roots.values()) rootIds.push(...ids);
  } else {
    for (const r of reader.seq(rootsAt, 'of root names') ?? []) {
      const rootName = reader.string(r, 'a root name');
      if (rootName === undefined) continue;
      const ids = context.roots.get(rootName);
      if (ids === undefined)
        reader.report(
          r,
          `no root named '${rootName}' in roots${context.roots.size ? ` (known: ${[...context.roots.keys()].join(', ')})` : ''}`,
        );
      else rootIds.push(...ids);
    }
  }
  if (id === undefined) return undefined;
  return { common_name: '*', dns_names: ['*'], emails: ['*'], organizations: ['*'], roots: [...new Set(rootIds)], uris: [id] };
}

function compileInspection(
  reader: SpecReader,
  at: At,
  context: ItemContext,
  names: Map<string, At>,
  targets: { at: At; step: string }[],
): Inspection | undefined {
  const before = reader.problemCount;
  const fields = reader.map(at, INSPECTION_KEYS, 'an inspection: name, run, materials, products, expected_predicates');
  if (!fields) return undefined;
  const name = compileName(reader, at, fields.get('name'), names);
  const runAt = fields.get('run');
  if (runAt === undefined) reader.report(at, 'run is missing (the command verification runs)');
  const run = compileCommand(reader, runAt);
  const materials = compileRules(reader, fields.get('materials'), targets);
  const products = compileRules(reader, fields.get('products'), targets);
  const predicatesAt = fields.get('expected_predicates');
  const predicates = predicatesAt && compilePredicates(reader, predicatesAt, context.keys, context.rules, { inspection: true });
  if (reader.problemCount > before) return undefined;
  const inspection: Inspection = {
    _type: 'inspection',
    name: name as string,
    expected_materials: materials,
    expected_products: products,
    run,
  };
  if (predicates !== undefined) inspection.expected_predicates = predicates;
  return inspection;
}

function compileName(reader: SpecReader, item: At, at: At | undefined, names: Map<string, At>): string | undefined {
  if (at === undefined) {
    reader.report(item, 'name is missing');
    return undefined;
  }
  const name = reader.string(at, 'a name');
  if (name === undefined) return undefined;
  const bad = nameProblem(name);
  if (bad) reader.report(at, bad);
  const first = names.get(name);
  if (first)
    reader.report(at, `'${name}' is already the name of ${first.path.replace(/\.name$/, '')}; step and inspection names must be unique`);
  else names.set(name, at);
  return name;
}

/** A command as a string (split as a shell would, like the reference's `shlex.split`) or a list. */
function compileCommand(reader: SpecReader, at: At | undefined): string[] {
  if (at === undefined) return [];
  if (reader.isScalarString(at)) {
    try {
      return shellSplit(reader.string(at, 'a command') as string);
    } catch (e) {
      reader.report(at, (e as Error).message);
      return [];
    }
  }
  const words = reader.seq(at, 'a command: a string, or a list of words') ?? [];
  return words.map((w) => reader.string(w, 'a word of the command') ?? '');
}

/** Rules as one string each (`MATCH src/* WITH PRODUCTS FROM code`), or as lists of tokens. */
function compileRules(reader: SpecReader, at: At | undefined, targets: { at: At; step: string }[]): RuleTokens[] {
  if (at === undefined) return [];
  const rules: RuleTokens[] = [];
  for (const r of reader.seq(at, 'of rules such as "CREATE src/*"') ?? []) {
    let tokens: string[] | undefined;
    if (reader.isScalarString(r)) {
      try {
        tokens = shellSplit(reader.string(r, 'a rule') as string);
      } catch (e) {
        reader.report(r, (e as Error).message);
        continue;
      }
    } else {
      tokens = (reader.seq(r, 'a rule: a string such as "CREATE src/*"') ?? []).map((t) => reader.string(t, 'a rule word') ?? '');
    }
    const problems = new Problems();
    const rule = checkRule(tokens, '', problems);
    for (const p of problems.list()) reader.report(r, p);
    if (rule === undefined) continue;
    if (rule.type === 'MATCH') targets.push({ at: r, step: rule.destinationStep });
    rules.push(tokens);
  }
  return rules;
}
