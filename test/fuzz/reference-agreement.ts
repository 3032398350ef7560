/**
 * Reference agreement: a corpus of mutations of reference-shaped supply chains, each verified by the Python
 * reference (`in-toto-verify`) and by `evident verify`, which must agree on accept or reject — except where
 * a mutation is a known, documented difference (docs/interop.md, "Where evident and the Python reference
 * disagree"), which must then show in the direction listed.
 *
 * The base chains are made here, never copied: keys by the reference's `in-toto-keygen` and by evident,
 * the `write-code` link by the reference's `in-toto-run` and the `package` link by `evident run` (and the
 * other way round in the second base), the layout by the reference's model classes, signed by the
 * reference (first base) or by evident (second base). A mutation changes the layout, a link or a file; a
 * changed document is signed again by the key that signed it (evident's canonical bytes are the
 * reference's), unless the mutation is a tampering, which keeps the old signature.
 *
 * The reference runs in one Python process for the whole corpus: its `in-toto-verify` main() per case,
 * with its own argument parsing and exit code, minus the interpreter start-up per case.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadPrivateKey } from '../../src/crypto/key-files.js';
import { generatePrivateKey, saveKeyPair } from '../../src/crypto/key-files.js';
import type { PrivateKey } from '../../src/crypto/keys.js';
import { serializeMetablock, signMetablock } from '../../src/intoto/models/metablock.js';
import type { Layout, Link } from '../../src/intoto/models/types.js';
import { runCli } from '../helpers/cli.js';
import { seededRandom } from '../helpers/random.js';
import { REFERENCE_BIN, runReferencePython } from '../helpers/reference.js';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any -- mutations reach anywhere in the documents
type Verdict = 'accept' | 'reject';
type Signer = 'owner' | 'alice' | 'bob';

interface Document {
  signed: Json;
  signatures: Json[];
  signer: Signer;
  /** Keep `signatures` as they are (a tampering) instead of signing the changed document again. */
  keepSignatures?: boolean;
}

/** One supply chain as files: the layout, the links by file name, and the product the inspection unpacks. */
interface Chain {
  layout: Document;
  links: Map<string, Document>;
  tarball: Buffer | undefined;
}

export interface Base {
  name: string;
  chain: Chain;
  keys: Record<Signer, PrivateKey>;
  ownerPub: string;
}

/** A documented difference: the mutation makes the reference say one thing and evident the other. */
export interface Difference {
  reference: Verdict;
  evident: Verdict;
  why: string;
}

export interface Mutation {
  name: string;
  apply(chain: Chain, base: Base, pick: <T>(items: readonly T[]) => T): void;
  differs?: Difference;
}

export interface AgreementCase {
  id: number;
  base: string;
  mutations: string[];
  files: Record<string, string | Buffer>;
}

export interface AgreementResult {
  case: AgreementCase;
  reference: { verdict: Verdict; code: number; message: string };
  evident: { verdict: Verdict; code: number; message: string };
  /** For a disagreement: the documented difference that explains it, if any. */
  explained?: string;
}

const STEP_KEYS: Record<string, Signer> = { 'write-code': 'alice', package: 'bob' };

/** Rules a mutation puts into a step or inspection: valid ones of each kind, and malformed ones. */
const RULES: readonly Json[][] = [
  ['CREATE', 'foo.py'],
  ['DELETE', 'foo.py'],
  ['MODIFY', 'foo.py'],
  ['ALLOW', '*'],
  ['ALLOW', 'foo.*'],
  ['DISALLOW', '*'],
  ['DISALLOW', 'foo.py'],
  ['REQUIRE', 'foo.py'],
  ['REQUIRE', 'bar.py'],
  ['MATCH', 'foo.py', 'WITH', 'PRODUCTS', 'FROM', 'write-code'],
  ['MATCH', '*', 'WITH', 'MATERIALS', 'FROM', 'package'],
  ['MATCH', 'foo.py', 'WITH', 'PRODUCTS', 'FROM', 'nonexistent'],
  ['MATCH', 'foo.py', 'IN', 'sub', 'WITH', 'PRODUCTS', 'IN', 'sub', 'FROM', 'write-code'],
  ['MATCH', '*', 'WITH', 'PRODUCTS', 'IN', 'x', 'FROM', 'write-code'],
  ['CREATE'],
  ['create', 'foo.py'],
  ['MATCH', 'foo.py', 'WITH', 'ARTIFACTS', 'FROM', 'write-code'],
  ['FOO', 'foo.py'],
  [],
  ['ALLOW', '*', 'extra'],
  ['MATCH', 'foo.py', 'FROM', 'write-code'],
  ['ALLOW', 1],
];

/** Patterns for one artifact, foo.py: some match it (glob semantics), some do not, some only by a reading of their own. */
const PATTERNS: readonly string[] = [
  '*.py',
  'foo.p?',
  'f[a-z]o.py',
  'f[!x]o.py',
  'f[^x]o.py',
  '*',
  '**',
  'foo.py*',
  '*/foo.py',
  'FOO.py',
  '?oo.py',
  'foo\\.py',
  '[]]',
  '',
  './foo.py',
  'foo.py/',
  'sub/../foo.py',
  'f*o*.py',
  '[f]oo.py',
];

/** Prefixes for MATCH … IN: how each reference normalizes a slash or a dot decides whether src/foo.py is found. */
const PREFIXES: readonly string[] = ['src', 'src/', './src', '/src', 'src//', '', '.', 'SRC'];

const ruleLists = (item: Json): Json[][] => [item.expected_materials, item.expected_products];

function items(layout: Json): Json[] {
  return [...(Array.isArray(layout.steps) ? layout.steps : []), ...(Array.isArray(layout.inspect) ? layout.inspect : [])];
}

function linkOf(chain: Chain, step: string): [string, Document] {
  const found = [...chain.links.entries()].find(([file]) => file.startsWith(`${step}.`));
  if (found === undefined) throw new Error(`no link of ${step}`);
  return found;
}

function stepOf(chain: Chain, name: string): Json {
  const step = (chain.layout.signed.steps as Json[]).find((s) => s.name === name);
  if (step === undefined) throw new Error(`no step ${name}`);
  return step;
}

function keyidOf(base: Base, who: Signer): string {
  return base.keys[who].keyid;
}

/** Every mutation: its name says what it changes, `differs` when the references do not agree on it. */
export const MUTATIONS: readonly Mutation[] = [
  {
    name: 'layout.create-pattern',
    apply: (c, _b, pick) =>
      void (stepOf(c, 'write-code').expected_products = [
        ['CREATE', pick(PATTERNS)],
        ['DISALLOW', '*'],
      ]),
  },
  {
    name: 'layout.disallow-pattern',
    apply: (c, _b, pick) =>
      void (stepOf(c, 'write-code').expected_products = [
        ['DISALLOW', pick(PATTERNS)],
        ['ALLOW', '*'],
      ]),
  },
  {
    name: 'layout.match-pattern',
    apply: (c, _b, pick) =>
      void (stepOf(c, 'package').expected_materials = [
        ['MATCH', pick(PATTERNS), 'WITH', 'PRODUCTS', 'FROM', 'write-code'],
        ['DISALLOW', '*'],
      ]),
  },
  {
    name: 'layout.require-pattern',
    apply: (c, _b, pick) =>
      void (stepOf(c, 'write-code').expected_products = [
        ['REQUIRE', pick(PATTERNS)],
        ['ALLOW', '*'],
      ]),
  },
  {
    name: 'chain.match-in-prefix',
    apply: (c, _b, pick) => {
      // write-code makes src/foo.py; package reads it as foo.py: MATCH foo.py WITH PRODUCTS IN <prefix> FROM write-code
      const products = linkOf(c, 'write-code')[1].signed.products;
      products['src/foo.py'] = products['foo.py'];
      delete products['foo.py'];
      stepOf(c, 'write-code').expected_products = [
        ['CREATE', 'src/foo.py'],
        ['DISALLOW', '*'],
      ];
      stepOf(c, 'package').expected_materials = [
        ['MATCH', 'foo.py', 'WITH', 'PRODUCTS', 'IN', pick(PREFIXES), 'FROM', 'write-code'],
        ['DISALLOW', '*'],
      ];
    },
  },
  {
    name: 'link.artifact-renamed',
    apply: (c, _b, pick) => {
      // the same new name in write-code's products and package's materials, so only the rules decide
      const name = pick(['sub/foo.py', 'FOO.py', 'foo.py.bak', '.foo.py', 'a b.py', 'f[o]o.py', 'foo.py/', 'é.py', 'x\\foo.py']);
      for (const [step, field] of [
        ['write-code', 'products'],
        ['package', 'materials'],
      ] as const) {
        const artifacts = linkOf(c, step)[1].signed[field];
        artifacts[name] = artifacts['foo.py'];
        delete artifacts['foo.py'];
      }
    },
  },
  {
    name: 'layout.expires-offset',
    apply: (c, _b, pick) =>
      void (c.layout.signed.expires = pick([
        '2036-01-01T00:00:00+00:00',
        '2036-01-01T00:00:00z',
        '2036-01-01 00:00:00Z',
        '2036-01-01T00:00Z',
      ])),
  },
  { name: 'layout.threshold-float', apply: (c, _b, pick) => void (pick(c.layout.signed.steps as Json[]).threshold = 1.5) },
  {
    name: 'layout.pubkeys-uppercase',
    apply: (c, _b, pick) => {
      const step = pick(c.layout.signed.steps as Json[]);
      step.pubkeys = (step.pubkeys as string[]).map((k) => k.toUpperCase());
    },
  },
  { name: 'link.materials-list', apply: (c, _b, pick) => void (linkOf(c, pick(['write-code', 'package']))[1].signed.materials = []) },
  {
    name: 'link.hash-uppercase',
    apply: (c) => {
      const hashes = linkOf(c, 'write-code')[1].signed.products['foo.py'];
      if (hashes !== undefined) hashes.sha256 = String(hashes.sha256).toUpperCase();
    },
  },
  {
    name: 'link.signature-extra-field',
    differs: { reference: 'accept', evident: 'reject', why: 'evident refuses a signature entry with a field it does not know' },
    apply: (c, _b, pick) => {
      // a field beside keyid and sig: the signed part is unchanged, so the signature itself still holds
      const doc = linkOf(c, pick(['write-code', 'package']))[1];
      doc.keepSignatures = true;
      doc.signatures = doc.signatures.map((sig) => ({ ...sig, note: 'extra' }));
    },
  },
  { name: 'layout.expired', apply: (c) => void (c.layout.signed.expires = '2001-01-01T00:00:00Z') },
  { name: 'layout.expires-date-only', apply: (c) => void (c.layout.signed.expires = '2036-01-01') },
  { name: 'layout.expires-fraction', apply: (c) => void (c.layout.signed.expires = '2036-01-01T00:00:00.5Z') },
  { name: 'layout.threshold-2', apply: (c, _b, pick) => void (pick(c.layout.signed.steps as Json[]).threshold = 2) },
  {
    name: 'layout.threshold-0',
    apply: (c, _b, pick) => void (pick(c.layout.signed.steps as Json[]).threshold = 0),
    differs: { reference: 'accept', evident: 'reject', why: 'a step with threshold 0 needs no link at all; evident refuses such a layout' },
  },
  { name: 'layout.threshold-string', apply: (c, _b, pick) => void (pick(c.layout.signed.steps as Json[]).threshold = '1') },
  {
    name: 'layout.pubkeys-swapped',
    apply: (c, b) => {
      for (const s of c.layout.signed.steps as Json[]) s.pubkeys = [keyidOf(b, STEP_KEYS[s.name] === 'alice' ? 'bob' : 'alice')];
    },
  },
  {
    name: 'layout.pubkeys-dangling',
    apply: (c, _b, pick) => void (pick(c.layout.signed.steps as Json[]).pubkeys as string[]).push('ab'.repeat(32)),
  },
  { name: 'layout.pubkeys-empty', apply: (c, _b, pick) => void (pick(c.layout.signed.steps as Json[]).pubkeys = []) },
  { name: 'layout.key-removed', apply: (c, b, pick) => void delete c.layout.signed.keys[keyidOf(b, pick(['alice', 'bob'] as const))] },
  {
    name: 'layout.key-value-swapped',
    apply: (c, b) => {
      const keys = c.layout.signed.keys;
      keys[keyidOf(b, 'alice')].keyval = { ...keys[keyidOf(b, 'bob')].keyval };
    },
  },
  {
    name: 'layout.rule-replaced',
    apply: (c, _b, pick) => {
      const list = pick(ruleLists(pick(items(c.layout.signed))).filter((l) => Array.isArray(l) && l.length > 0));
      if (list !== undefined) list[Math.floor(list.length / 2)] = structuredClone(pick(RULES));
    },
  },
  {
    name: 'layout.rule-appended',
    apply: (c, _b, pick) => void pick(ruleLists(pick(items(c.layout.signed)))).push(structuredClone(pick(RULES))),
  },
  {
    name: 'layout.rule-prepended',
    apply: (c, _b, pick) => void pick(ruleLists(pick(items(c.layout.signed)))).unshift(structuredClone(pick(RULES))),
  },
  {
    name: 'layout.rules-emptied',
    apply: (c, _b, pick) => {
      const item = pick(items(c.layout.signed));
      item[pick(['expected_materials', 'expected_products'])] = [];
    },
  },
  {
    name: 'layout.step-renamed',
    apply: (c, _b, pick) => void (pick(c.layout.signed.steps as Json[]).name = 'renamed'),
  },
  {
    name: 'layout.step-duplicated',
    apply: (c, _b, pick) => void (c.layout.signed.steps as Json[]).push(structuredClone(pick(c.layout.signed.steps as Json[]))),
  },
  { name: 'layout.steps-reversed', apply: (c) => void (c.layout.signed.steps as Json[]).reverse() },
  {
    name: 'layout.expected-command-changed',
    apply: (c, _b, pick) => void (pick(c.layout.signed.steps as Json[]).expected_command = ['make', 'all']),
  },
  { name: 'layout.unknown-field', apply: (c) => void (c.layout.signed.extra = 'field') },
  { name: 'layout.unknown-step-field', apply: (c, _b, pick) => void (pick(c.layout.signed.steps as Json[]).extra = 'field') },
  { name: 'layout.readme-removed', apply: (c) => void delete c.layout.signed.readme },
  { name: 'layout.inspect-removed', apply: (c) => void delete c.layout.signed.inspect },
  { name: 'layout.keys-removed', apply: (c) => void delete c.layout.signed.keys },
  { name: 'layout.type-wrong', apply: (c) => void (c.layout.signed._type = 'link') },
  { name: 'layout.inspection-fails', apply: (c) => void ((c.layout.signed.inspect as Json[])[0].run = ['false']) },
  { name: 'layout.inspection-lists', apply: (c) => void ((c.layout.signed.inspect as Json[])[0].run = ['tar', 'tzf', 'foo.tar.gz']) },
  { name: 'layout.inspection-named-as-step', apply: (c) => void ((c.layout.signed.inspect as Json[])[0].name = 'package') },
  { name: 'layout.tampered', apply: (c) => void ((c.layout.keepSignatures = true), (c.layout.signed.readme = 'changed after signing')) },
  { name: 'layout.signed-by-other', apply: (c, _b, pick) => void (c.layout.signer = pick(['alice', 'bob'] as const)) },
  { name: 'layout.signatures-emptied', apply: (c) => void ((c.layout.keepSignatures = true), (c.layout.signatures = [])) },

  { name: 'link.product-added', apply: (c) => void (linkOf(c, 'write-code')[1].signed.products['evil.py'] = { sha256: 'ab'.repeat(32) }) },
  {
    name: 'link.product-hash-changed',
    apply: (c) => void (linkOf(c, 'write-code')[1].signed.products['foo.py'] = { sha256: 'cd'.repeat(32) }),
  },
  {
    name: 'link.product-removed',
    apply: (c, _b, pick) => void delete linkOf(c, pick(['write-code', 'package']))[1].signed.products[pick(['foo.py', 'foo.tar.gz'])],
  },
  { name: 'link.material-added', apply: (c) => void (linkOf(c, 'package')[1].signed.materials['extra.txt'] = { sha256: 'ef'.repeat(32) }) },
  {
    name: 'link.hash-algorithm-added',
    apply: (c) => {
      const hashes = linkOf(c, 'write-code')[1].signed.products['foo.py'];
      if (hashes !== undefined) hashes.sha512 = '12'.repeat(64);
    },
  },
  {
    name: 'link.path-dot-slash',
    apply: (c, _b, pick) => {
      const link = linkOf(c, pick(['write-code', 'package']))[1].signed;
      link.products = Object.fromEntries(Object.entries(link.products as Json).map(([k, v]) => [`./${k}`, v]));
    },
  },
  {
    name: 'link.name-changed',
    apply: (c, _b, pick) => void (linkOf(c, pick(['write-code', 'package']))[1].signed.name = 'other-step'),
    differs: {
      reference: 'accept',
      evident: 'reject',
      why: "a link counts only for the step it names; the reference goes by the file's name",
    },
  },
  {
    name: 'link.command-changed',
    apply: (c, _b, pick) => void (linkOf(c, pick(['write-code', 'package']))[1].signed.command = ['rm', '-rf', '/']),
  },
  {
    name: 'link.return-value-nonzero',
    apply: (c, _b, pick) => void (linkOf(c, pick(['write-code', 'package']))[1].signed.byproducts['return-value'] = 1),
  },
  {
    name: 'link.environment-added',
    apply: (c, _b, pick) => void (linkOf(c, pick(['write-code', 'package']))[1].signed.environment = { PATH: '/bin' }),
  },
  { name: 'link.unknown-field', apply: (c, _b, pick) => void (linkOf(c, pick(['write-code', 'package']))[1].signed.extra = 'field') },
  { name: 'link.type-wrong', apply: (c, _b, pick) => void (linkOf(c, pick(['write-code', 'package']))[1].signed._type = 'layout') },
  { name: 'link.byproducts-removed', apply: (c, _b, pick) => void delete linkOf(c, pick(['write-code', 'package']))[1].signed.byproducts },
  {
    name: 'link.tampered',
    apply: (c, _b, pick) => {
      const doc = linkOf(c, pick(['write-code', 'package']))[1];
      doc.keepSignatures = true;
      doc.signed.byproducts.stdout = 'changed after signing';
    },
  },
  {
    name: 'link.signed-by-other',
    apply: (c, _b, pick) => {
      const doc = linkOf(c, pick(['write-code', 'package']))[1];
      doc.signer = doc.signer === 'alice' ? 'bob' : 'alice';
    },
  },
  {
    name: 'link.file-renamed',
    apply: (c, _b, pick) => {
      const [file, doc] = linkOf(c, pick(['write-code', 'package']));
      c.links.delete(file);
      c.links.set(`${file.split('.')[0]}.0badc0de.link`, doc);
    },
  },
  {
    name: 'link.removed',
    apply: (c, _b, pick) => void c.links.delete(linkOf(c, pick(['write-code', 'package']))[0]),
  },
  {
    name: 'link.extra-by-unauthorized',
    apply: (c, b) => {
      const [, doc] = linkOf(c, 'write-code');
      c.links.set(`write-code.${keyidOf(b, 'owner').slice(0, 8)}.link`, { ...structuredClone(doc), signer: 'owner' });
    },
  },
  {
    name: 'link.signature-duplicated',
    apply: (c, _b, pick) => void linkOf(c, pick(['write-code', 'package']))[1].signatures.push({ keyid: 'ab'.repeat(32), sig: '00' }),
  },

  { name: 'files.tarball-changed', apply: (c) => void (c.tarball = Buffer.from('not the packaged tarball')) },
  { name: 'files.tarball-removed', apply: (c) => void (c.tarball = undefined) },
];

/** Signs (or keeps the signatures of) a document and writes it as the reference does, or as JSON when it cannot be canonical. */
function serialize(doc: Document, base: Base): string {
  let signatures = doc.signatures;
  if (!doc.keepSignatures) {
    try {
      signatures = signMetablock(doc.signed as Link | Layout, [base.keys[doc.signer]]).signatures;
    } catch {
      // a value canonical JSON cannot encode: the old signature stays, as if the document had been edited after signing
    }
  }
  try {
    return serializeMetablock({ signed: doc.signed, signatures });
  } catch {
    return JSON.stringify({ signed: doc.signed, signatures }, null, 1);
  }
}

function cloneChain(chain: Chain): Chain {
  return {
    layout: structuredClone(chain.layout),
    links: new Map([...chain.links].map(([f, d]) => [f, structuredClone(d)])),
    tarball: chain.tarball,
  };
}

/**
 * `count` cases from `bases`: the first of each base unchanged (both must accept it), then one to three
 * mutations each, chosen by a generator seeded with `seed` (the same seed, the same corpus).
 */
export function makeCases(bases: readonly Base[], count: number, seed: number): AgreementCase[] {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const cases: AgreementCase[] = [];
  for (let id = 0; id < count; id++) {
    const base = bases[id % bases.length]!;
    const chain = cloneChain(base.chain);
    const mutations: string[] = [];
    const n = id < bases.length ? 0 : random() < 0.6 ? 1 : random() < 0.75 ? 2 : 3;
    for (let i = 0; i < n; i++) {
      const m = pick(MUTATIONS);
      try {
        m.apply(chain, base, pick);
        mutations.push(m.name);
      } catch {
        // the mutation had nothing to change (a link an earlier one removed): the case goes on without it
      }
    }
    cases.push(caseOf(id, base, chain, mutations));
  }
  return cases;
}

/** The case of `base` changed by the named mutations, in order (choices within them seeded by `id`). */
export function makeCase(base: Base, names: readonly string[], id = 0): AgreementCase {
  const random = seededRandom(id + 1);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const chain = cloneChain(base.chain);
  for (const name of names) {
    const m = MUTATIONS.find((x) => x.name === name);
    if (m === undefined) throw new Error(`no mutation ${name}`);
    m.apply(chain, base, pick);
  }
  return caseOf(id, base, chain, [...names]);
}

function caseOf(id: number, base: Base, chain: Chain, mutations: string[]): AgreementCase {
  const files: Record<string, string | Buffer> = { 'root.layout': serialize(chain.layout, base), 'owner.pub': base.ownerPub };
  for (const [file, doc] of chain.links) files[file] = serialize(doc, base);
  if (chain.tarball !== undefined) files['foo.tar.gz'] = chain.tarball;
  return { id, base: base.name, mutations, files };
}

/** The reference's layout, made with its own model classes and signed by it. */
const REFERENCE_LAYOUT = `
import json, sys
from securesystemslib import interface
from in_toto.models.layout import Layout
from in_toto.models.metadata import Metablock
owner = interface.import_ed25519_privatekey_from_file("keys/owner")
alice = interface.import_ed25519_publickey_from_file("keys/alice.pub")
bob = interface.import_ed25519_publickey_from_file("keys/bob.pub")
layout = Layout.read({
  "_type": "layout",
  "expires": "2036-01-01T00:00:00Z",
  "readme": "a reference-shaped supply chain for the agreement fuzz",
  "keys": {alice["keyid"]: alice, bob["keyid"]: bob},
  "steps": [
    {"_type": "step", "name": "write-code", "threshold": 1, "pubkeys": [alice["keyid"]],
     "expected_command": [], "expected_materials": [],
     "expected_products": [["CREATE", "foo.py"], ["DISALLOW", "*"]]},
    {"_type": "step", "name": "package", "threshold": 1, "pubkeys": [bob["keyid"]],
     "expected_command": ["tar", "czf", "foo.tar.gz", "foo.py"],
     "expected_materials": [["MATCH", "foo.py", "WITH", "PRODUCTS", "FROM", "write-code"], ["DISALLOW", "*"]],
     "expected_products": [["CREATE", "foo.tar.gz"], ["ALLOW", "foo.py"], ["DISALLOW", "*"]]},
  ],
  "inspect": [
    {"_type": "inspection", "name": "untar", "run": ["tar", "xzf", "foo.tar.gz"],
     "expected_materials": [["MATCH", "foo.tar.gz", "WITH", "PRODUCTS", "FROM", "package"], ["ALLOW", "*"]],
     "expected_products": [["MATCH", "foo.py", "WITH", "PRODUCTS", "FROM", "write-code"], ["ALLOW", "*"]]},
  ],
})
metablock = Metablock(signed=layout)
metablock.sign(owner)
metablock.dump(sys.argv[1])
`;

async function readDocument(path: string, signer: Signer): Promise<Document> {
  const mb = JSON.parse(await readFile(path, 'utf8')) as { signed: Json; signatures: Json[] };
  return { signed: mb.signed, signatures: mb.signatures, signer };
}

/**
 * The two base chains, in `dir`: `reference-first` (the reference writes code and signs the layout,
 * evident packages) and `evident-first` (evident writes code and signs the layout, the reference packages).
 */
export async function makeBases(dir: string): Promise<Base[]> {
  const keysDir = join(dir, 'keys');
  await mkdir(keysDir, { recursive: true });
  for (const name of ['owner', 'alice'])
    execFileSync(`${REFERENCE_BIN}/in-toto-keygen`, ['-t', 'ed25519', join(keysDir, name)], { stdio: 'ignore' });
  await saveKeyPair(generatePrivateKey('ed25519'), join(keysDir, 'bob'), { format: 'securesystemslib' });
  const keys = {
    owner: await loadPrivateKey(join(keysDir, 'owner')),
    alice: await loadPrivateKey(join(keysDir, 'alice')),
    bob: await loadPrivateKey(join(keysDir, 'bob')),
  };
  const ownerPub = await readFile(join(keysDir, 'owner.pub'), 'utf8');
  await runReferencePython(`import sys\nsys.argv = ["", "root.layout"]\n${REFERENCE_LAYOUT}`, { cwd: dir });
  const layout = await readDocument(join(dir, 'root.layout'), 'owner');

  const bases: Base[] = [];
  for (const referenceWrites of [true, false]) {
    const work = join(dir, referenceWrites ? 'reference-first' : 'evident-first');
    await mkdir(work);
    const write = ['sh', '-c', `printf 'print("hello from ${referenceWrites ? 'the reference' : 'evident'}")\\n' > foo.py`];
    const pack = ['tar', 'czf', 'foo.tar.gz', 'foo.py'];
    const reference = (step: string, key: string, args: string[], command: string[]) =>
      execFileSync(`${REFERENCE_BIN}/in-toto-run`, ['-n', step, '-k', join(keysDir, key), '-t', 'ed25519', ...args, '--', ...command], {
        cwd: work,
        stdio: 'ignore',
      });
    const evident = async (step: string, key: string, args: string[], command: string[]) => {
      const r = await runCli(['run', '-n', step, '-k', join(keysDir, key), ...args, '--', ...command], { cwd: work });
      if (r.code !== 0) throw new Error(`evident run ${step}: ${r.stderr}`);
    };
    if (referenceWrites) {
      reference('write-code', 'alice', ['-p', 'foo.py'], write);
      await evident('package', 'bob', ['-m', 'foo.py', '-p', 'foo.tar.gz'], pack);
    } else {
      await evident('write-code', 'alice', ['-p', 'foo.py'], write);
      reference('package', 'bob', ['-m', 'foo.py', '-p', 'foo.tar.gz'], pack);
    }
    const links = new Map<string, Document>();
    for (const [step, who] of Object.entries(STEP_KEYS)) {
      const file = `${step}.${keys[who].keyid.slice(0, 8)}.link`;
      links.set(file, await readDocument(join(work, file), who));
    }
    const chainLayout = structuredClone(layout);
    // the second base's layout is the same document, signed by evident instead of the reference
    if (!referenceWrites) chainLayout.signatures = signMetablock(chainLayout.signed as Layout, [keys.owner]).signatures;
    bases.push({
      name: referenceWrites ? 'reference-first' : 'evident-first',
      chain: { layout: chainLayout, links, tarball: await readFile(join(work, 'foo.tar.gz')) },
      keys,
      ownerPub,
    });
  }
  return bases;
}

/** Runs in-toto-verify's main() on each folder in one interpreter; prints a JSON line per folder. */
const REFERENCE_DRIVER = `
import io, json, os, sys, logging
from in_toto import in_toto_verify, log
folders = json.load(sys.stdin)
for folder in folders:
  os.chdir(folder)
  sys.argv = ["in-toto-verify", "-l", "root.layout", "-k", "owner.pub", "-t", "ed25519"]
  captured = io.StringIO()
  log.HANDLER.setStream(captured)
  code = 0
  try:
    in_toto_verify.main()
  except SystemExit as e:
    code = e.code if isinstance(e.code, int) else 1
  except BaseException as e:
    code, captured = 99, io.StringIO(repr(e))
  errors = [l for l in captured.getvalue().splitlines() if "in-toto-verify" in l] or captured.getvalue().splitlines()[-1:]
  print(json.dumps({"folder": folder, "code": code, "message": " ".join(errors)[:400]}), flush=True)
`;

/** Writes each case twice (the verifiers run inspections, which change their folder) and runs both verifiers. */
export async function judge(cases: readonly AgreementCase[], dir: string): Promise<AgreementResult[]> {
  const folders: string[] = [];
  for (const c of cases) {
    for (const who of ['reference', 'evident']) {
      const folder = join(dir, `case-${c.id}`, who);
      await mkdir(folder, { recursive: true });
      for (const [file, content] of Object.entries(c.files)) await writeFile(join(folder, file), content);
    }
    folders.push(join(dir, `case-${c.id}`, 'reference'));
  }
  const lines = (await runReferencePython(REFERENCE_DRIVER, { input: JSON.stringify(folders) })).trim().split('\n');
  const byFolder = new Map(lines.map((l) => JSON.parse(l) as { folder: string; code: number; message: string }).map((r) => [r.folder, r]));
  const results: AgreementResult[] = [];
  for (const c of cases) {
    const ref = byFolder.get(join(dir, `case-${c.id}`, 'reference'));
    if (ref === undefined) throw new Error(`the reference driver said nothing about case ${c.id}`);
    const ev = await runCli(['verify', '-l', 'root.layout', '-k', 'owner.pub'], { cwd: join(dir, `case-${c.id}`, 'evident') });
    const evMessage = [...ev.stdout.split('\n').filter((l) => l.startsWith('✗')), ev.stderr.trim()].filter((l) => l !== '').join(' ');
    const result: AgreementResult = {
      case: c,
      reference: { verdict: ref.code === 0 ? 'accept' : 'reject', code: ref.code, message: ref.code === 0 ? '' : ref.message },
      evident: { verdict: ev.code === 0 ? 'accept' : 'reject', code: ev.code, message: evMessage.slice(0, 400) },
    };
    if (result.reference.verdict !== result.evident.verdict) {
      const known = c.mutations
        .map((name) => MUTATIONS.find((m) => m.name === name)?.differs)
        .find((d) => d !== undefined && d.reference === result.reference.verdict && d.evident === result.evident.verdict);
      if (known !== undefined) result.explained = known.why;
    }
    results.push(result);
  }
  return results;
}

/** One line per disagreement (and a count of agreements), for a person reading a test failure or a fuzz run. */
export function describe(results: readonly AgreementResult[]): string {
  const agreed = results.filter((r) => r.reference.verdict === r.evident.verdict);
  const lines = [
    `${results.length} cases: ${agreed.length} agree (${agreed.filter((r) => r.reference.verdict === 'accept').length} accepted by both), ${results.length - agreed.length} disagree`,
  ];
  for (const r of results) {
    if (r.reference.verdict === r.evident.verdict) continue;
    lines.push(
      `case ${r.case.id} (${r.case.base}: ${r.case.mutations.join(', ') || 'unchanged'}): reference ${r.reference.verdict}s, evident ${r.evident.verdict}s — ${r.explained ?? 'UNEXPLAINED'}`,
      `  reference: ${r.reference.message || `exit ${r.reference.code}`}`,
      `  evident: ${r.evident.message || `exit ${r.evident.code}`}`,
    );
  }
  return lines.join('\n');
}
