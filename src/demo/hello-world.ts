import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EvidentError } from '../errors.js';
import { loadPrivateKey } from '../crypto/key-files.js';
import { compileLayoutSpec } from '../intoto/layout-spec/compile.js';
import { signMetablock, writeMetadataFile } from '../intoto/models/metablock.js';
import { BackdatingAttacker } from './backdating-attacker.js';
import { DemoStores, type DemoStore } from './evidence-store.js';
import { runEvident, runProcess, type ProcessResult } from './evident-process.js';
import { DEMO_SVID_TTL_SECONDS, DEMO_TRUST_DOMAIN, IdentityPlane } from './identity-plane.js';
import { sha256File } from './sha256-file.js';

/** The example project the demo secures, shipped with the package. */
const EXAMPLE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'hello-world');

export interface DemoOptions {
  /** Where the demo works; a new temporary folder when absent. */
  workdir?: string;
  /** Keep the work folder afterwards (always kept when `workdir` is given). */
  keep?: boolean;
  /** Attest the runners with TPM 2.0 simulators (swtpm) instead of join tokens (`evident demo --tpm`). */
  tpm?: boolean;
  /**
   * Called once the demo is done, while the honest pipeline's evidence store (and the identity plane)
   * still run; they stop when it resolves. `evident demo --keep` waits here for Ctrl-C.
   */
  whileUp?: (result: DemoResult) => Promise<void>;
  log: (line: string) => void;
}

export interface AttackOutcome {
  attack: string;
  caught: boolean;
  reason: string;
}

export interface DemoResult {
  honestPassed: boolean;
  /** The honest evidence verified again once every SVID that signed it had expired. */
  honestLaterPassed: boolean;
  attacks: AttackOutcome[];
  workdir: string;
  /** The honest pipeline's evidence store, where every signer uploaded its link (it stops with the demo). */
  storeUrl: string;
  /** The image the deployer verified from the store alone, `sha256:HEX`. */
  image: string;
  /** The store's page for that image. */
  imagePage: string;
}

/** How a pipeline identity signs its step: the flags `evident run` gets. */
interface Signers {
  developer: string[];
  builder: string[];
  scanner: string[];
  /** A workload that is not the builder, doing the build. */
  rogue: string[];
  /** Someone who copied the builder's SVID and key at the start, and keeps them after the SVID expired. */
  thief: BackdatingAttacker;
}

type Stage = 'code' | 'build' | 'package' | 'scan';
const STAGES: Stage[] = ['code', 'build', 'package', 'scan'];

/** Hooks an attack uses to interfere with the pipeline at the moment it would in real life. */
interface Tampering {
  /** Before the developer's sign-off (an honest but vulnerable change). */
  beforeSignOff?: (dir: string) => Promise<void>;
  /** After the sign-off, before the build runner checks out the source. */
  afterSignOff?: (dir: string) => Promise<void>;
  /** The build is done by another runner. */
  rogueBuild?: boolean;
  /** After the build, before the build runner packages the image. */
  beforePackage?: (dir: string) => Promise<void>;
  /** After delivery, before the deployer verifies. */
  beforeVerify?: (delivery: Delivery) => Promise<void>;
  /** The layout the deployer verifies against. */
  layout?: string;
  /** `beforeVerify` uploads to the store (the attack then gets a store of its own). */
  uploads?: boolean;
}

/** Where an attack stands once the image is delivered: what its `beforeVerify` may change. */
interface Delivery {
  /** The deployer's folder: the image, its scan report and the layout (the links are in the store). */
  deliver: string;
  /** The pipeline's folder, with its links and build products. */
  dir: string;
  signers: Signers;
  /** The store the deployer verifies from: the attack's own when it uploads (with the stolen token), else the honest one. */
  store: DemoStore;
  /** The attacker's look-alike image, built once for every attack that ships it. */
  evilImage: () => Promise<EvilImage>;
  /** Prints a line under the attack's name. */
  say: (line: string) => void;
}

/** An image like hello-image.tar around the attacker's binary. */
interface EvilImage {
  path: string;
  /** SHA-256 (hex) of the binary, and of the image. */
  binary: string;
  image: string;
}

interface Attack {
  name: string;
  tampering: Tampering;
  /** The first stage the attack changes; earlier stages are taken from the honest run. */
  from: Stage | 'deliver';
}

/**
 * The seed's demonstration: a Hello World pipeline recorded with evident, each link uploaded to an
 * evidence store, the image verified by its digest from the store alone against its layout; then each
 * attack replayed on a fresh copy of the pipeline and of its store, and shown to be caught.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const workdir = options.workdir ?? (await mkdtemp(join(tmpdir(), 'evident-demo-')));
  await mkdir(workdir, { recursive: true });
  const log = options.log;
  const identity = new IdentityPlane(join(workdir, 'identity'), { tpm: options.tpm === true });
  const stores = new DemoStores(join(workdir, 'stores'));
  try {
    await checkTools();
    log(`evident demo: the Hello World supply chain, in ${workdir}`);
    // the honest store starts with the identity plane, the attacks' stores while its agents wait for their
    // first entries (idle time); an attack that uploads evidence has a store of its own, so that no other
    // verification sees what it uploaded
    let attackStores: (Promise<DemoStore> | undefined)[] = [];
    const startAttackStores = () => {
      attackStores = ATTACKS.map((attack, i) => (uploadsEvidence(attack) ? settledLater(stores.start(`attack-${i + 1}`)) : undefined));
    };
    const [signers, honestStore] = await both(startIdentityPlane(identity, log, startAttackStores), stores.start('honest'));
    log(
      `✓ evidence store at ${honestStore.url} (SQLite in stores/honest): every signer uploads its link there, with a token the demo made`,
    );
    const base = join(workdir, 'base');
    await prepareBase(base, identity, log);

    log('\n== the honest pipeline');
    const honestDir = join(workdir, 'honest');
    await cp(base, honestDir, { recursive: true });
    await runStages(honestDir, 'code', {}, signers, honestStore, log);
    // the first attack's store is given the honest links it needs while the deployer verifies
    let nextStore = seeded(attackStores, 0, honestDir);
    log('✓ delivered hello-image.tar with the signed layout; the links and attestations stay in the store');
    const honest = await deliverAndVerify(honestDir, honestStore);
    log(`✓ the deployer verifies the image by its digest, ${honest.image}, with the links the store holds for it:`);
    log(`   ${honest.found}`);
    log(indent(honest.result.stdout.trimEnd()));
    const honestPassed = honest.result.code === 0 && honest.links > 0;
    const stepsSignedBy = Date.now();
    log(
      honestPassed
        ? '✓ verification PASSED: the product followed its layout, on the evidence in the store alone'
        : `✗ verification FAILED (exit ${honest.result.code}): ${firstFailure(honest.result)}`,
    );
    log(await describeVsa(join(honestDir, VSA_FILE)));
    // the pages judge against the layout: a second server over the honest store's database, given it
    const pages = await stores.start('honest', { layout: join(honestDir, 'root.layout'), layoutKey: join(honestDir, 'keys', 'owner.pub') });
    const imagePage = pages.pageUrl(honest.image);
    log(`✓ the store's page for the verified image, its chain drawn with the layout's verdict: ${imagePage}`);
    if (options.whileUp === undefined) log('   (the store stops when the demo ends: `evident demo --keep` keeps it up)');

    log('\n== attacks, each on a fresh copy of the pipeline (and of its store, when the attack uploads evidence)');
    const evilImage = once(() => buildEvilImage(base, join(workdir, 'evil')));
    const attacks: AttackOutcome[] = [];
    for (const [i, attack] of ATTACKS.entries()) {
      log(`-- ${attack.name}`);
      const own = await nextStore;
      // the next attack's store is given its links while this one runs
      if (i + 1 < ATTACKS.length) nextStore = seeded(attackStores, i + 1, honestDir);
      try {
        const store = own ?? honestStore;
        attacks.push(await replay(attack, join(workdir, `attack-${i + 1}`), { base, honestDir, signers, store, evilImage, log }));
      } finally {
        await own?.stop();
      }
    }
    const honestLaterPassed = await verifyAfterSvidsExpired(honestDir, stepsSignedBy, honestStore, log);
    printSummary(honestPassed, honestLaterPassed, attacks, log);
    const result: DemoResult = {
      honestPassed,
      honestLaterPassed,
      attacks,
      workdir,
      storeUrl: honestStore.url,
      image: honest.image,
      imagePage,
    };
    await options.whileUp?.(result);
    return result;
  } finally {
    await stores.stop();
    await identity.stop();
    if (options.workdir === undefined && !options.keep) await rm(workdir, { recursive: true, force: true });
  }
}

/** Both, and when one fails, only once the other has settled too: nothing may go on starting after the demo stopped. */
async function both<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === 'rejected') throw ra.reason;
  if (rb.status === 'rejected') throw rb.reason;
  return [ra.value, rb.value];
}

function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
}

/** A promise whose failure surfaces where it is awaited, and nowhere else (not as an unhandled rejection). */
function settledLater<T>(pending: Promise<T>): Promise<T> {
  pending.catch(() => undefined);
  return pending;
}

/** Whether the attack uploads evidence (its runners or the attacker): then it gets a store of its own. */
function uploadsEvidence(attack: Attack): boolean {
  return attack.from !== 'deliver' || attack.tampering.uploads === true;
}

/**
 * The own store of attack `index` (none when it reads the honest one), holding the links of the stages
 * the attack takes from the honest run, as their signers uploaded them.
 */
function seeded(attackStores: (Promise<DemoStore> | undefined)[], index: number, honestDir: string): Promise<DemoStore | undefined> {
  const pending = attackStores[index];
  if (pending === undefined) return Promise.resolve(undefined);
  const from = ATTACKS[index]!.from;
  const kept = from === 'deliver' ? STAGES : STAGES.slice(0, STAGES.indexOf(from));
  return settledLater(
    pending.then(async (store) => {
      const links = (await readdir(honestDir)).filter((f) => isEvidence(f) && kept.some((stage) => f.startsWith(`${stage}.`)));
      await store.copy(links.map((f) => join(honestDir, f)));
      return store;
    }),
  );
}

interface ReplayContext {
  base: string;
  honestDir: string;
  signers: Signers;
  store: DemoStore;
  evilImage: () => Promise<EvilImage>;
  log: (line: string) => void;
}

/** One attack in `dir`: the pipeline from its first changed stage on, uploading to its store, then the deployer. */
async function replay(attack: Attack, dir: string, c: ReplayContext): Promise<AttackOutcome> {
  await cp(attack.from === 'code' ? c.base : c.honestDir, dir, { recursive: true, filter: (src) => !src.endsWith('/deliver') });
  // a step a runner refuses to record leaves no link behind, which the deployer then notices
  const refused: string[] = [];
  if (attack.from !== 'deliver') await runStages(dir, attack.from, attack.tampering, c.signers, c.store, () => undefined, refused);
  const hook = attack.tampering.beforeVerify;
  const say = (line: string) => c.log(`   ${line}`);
  const verdict = await deliverAndVerify(
    dir,
    c.store,
    attack.tampering.layout,
    hook && ((deliver) => hook({ deliver, dir, signers: c.signers, store: c.store, evilImage: c.evilImage, say })),
  );
  const reason = [...refused, deployerSaw(verdict)].join('\n     then the deployer: ');
  const caught = verdict.result.code === 1;
  c.log(caught ? `   caught: ${reason}` : `   NOT CAUGHT (exit ${verdict.result.code}) ${reason}`);
  return { attack: attack.name, caught, reason };
}

/** What the attackers would rather ship than hello. */
const EVIL_BINARY = '#!/bin/sh\necho pwned\n';

const BUILDER = `spiffe://${DEMO_TRUST_DOMAIN}/ci/builder`;
const SCANNER = `spiffe://${DEMO_TRUST_DOMAIN}/ci/scanner`;

/**
 * The identity server and two runners; each pipeline identity is issued on its own runner only.
 * `whileSyncing` is called once the agents run, while they wait to learn of their entries.
 */
async function startIdentityPlane(identity: IdentityPlane, log: (line: string) => void, whileSyncing: () => void): Promise<Signers> {
  await identity.start(['build-runner', 'scan-runner']);
  whileSyncing();
  log(`✓ identity server for ${DEMO_TRUST_DOMAIN}; agents on build-runner and scan-runner, each attested with ${identity.attestation}`);
  await identity.register(BUILDER, 'build-runner');
  await identity.register(SCANNER, 'scan-runner');
  log(`✓ entries: ${BUILDER} on build-runner, ${SCANNER} on scan-runner (selectors: this uid, this node binary's sha256)`);
  log(
    `✓ SVIDs live ${DEMO_SVID_TTL_SECONDS} s here (an hour by default); every SVID signature is time-stamped by the server's TSA, so the evidence outlives them`,
  );
  // the back-dating attack's thief copies the builder's identity now, while it is valid
  const thief = await BackdatingAttacker.steal(identity.socketUri('build-runner'), BUILDER);
  return {
    developer: ['-k', 'keys/developer'],
    builder: identity.signWith('build-runner'),
    scanner: identity.signWith('scan-runner'),
    // a build run on the scan runner: whatever it signs with, it is not the builder's identity
    rogue: identity.signWith('scan-runner'),
    thief,
  };
}

const ATTACKS: Attack[] = [
  {
    name: 'a one-line change to the source after the sign-off',
    from: 'build',
    tampering: { afterSignOff: async (dir) => appendLine(join(dir, 'src', 'hello.c'), '/* backdoor */ int sneaky = 1;') },
  },
  {
    name: 'a swapped binary inside the delivered image',
    from: 'deliver',
    tampering: {
      // the attacker builds a look-alike image around their own binary and ships it instead: the deployer
      // looks up the image it was given, and nothing in the store made it
      beforeVerify: async ({ deliver, evilImage }) => cp((await evilImage()).path, join(deliver, 'hello-image.tar')),
    },
  },
  { name: 'a build performed by a workload without the builder identity (a rogue runner)', from: 'build', tampering: { rogueBuild: true } },
  {
    name: 'links edited after signing to vouch for another image, uploaded with a stolen store token',
    from: 'deliver',
    tampering: {
      uploads: true,
      beforeVerify: async ({ deliver, dir, store, evilImage, say }) => {
        const evil = await evilImage();
        await cp(evil.path, join(deliver, 'hello-image.tar'));
        // the build and package links made to say the attacker's binary and image, byte for byte otherwise
        const swap = await swapFor(dir, evil);
        const edited = join(dir, 'edited');
        await mkdir(edited, { recursive: true });
        const files: string[] = [];
        for (const step of ['build', 'package']) {
          const file = await linkOf(dir, step);
          let text = await readFile(join(dir, file), 'utf8');
          for (const [honest, theirs] of swap) text = text.replaceAll(honest, theirs);
          await writeFile(join(edited, file), text);
          files.push(join(edited, file));
        }
        say(
          `the store took them (it checks no signatures: trust is the verifier's decision): ${(await store.push(files, dir)).join(', ')}`,
        );
      },
    },
  },
  { name: 'an expired layout', from: 'deliver', tampering: { layout: 'expired.layout' } },
  {
    name: 'build and package links signed with a stolen builder key after its SVID expired, back-dated',
    from: 'deliver',
    tampering: {
      uploads: true,
      beforeVerify: async ({ deliver, dir, signers, store, evilImage, say }) => {
        const thief = signers.thief;
        // the theft was at the start; the attack comes once the stolen SVID is dead
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, thief.expiresAt.getTime() - Date.now() + 500)));
        const evil = await evilImage();
        await cp(evil.path, join(deliver, 'hello-image.tar'));
        const swap = await swapFor(dir, evil);
        const forged: string[] = [];
        for (const step of ['build', 'package'])
          forged.push(await thief.forgeLink(join(dir, await linkOf(dir, step)), swap, join(dir, 'forged')));
        say(`uploaded with a stolen store token: ${(await store.push(forged, dir)).join(', ')}`);
      },
    },
  },
  {
    name: 'a backdoored library behind a backslash-named decoy of it',
    from: 'package',
    tampering: {
      // `\` was recorded as `/` (as the in-toto reference does): the decoy's digest stood for the real file
      beforePackage: async (dir) => {
        const library = join(dir, 'vendor', 'zlib-1.3.1', 'libz.so.1');
        await cp(library, join(dir, 'vendor', 'zlib-1.3.1\\libz.so.1'));
        await appendLine(library, 'backdoor');
      },
    },
  },
  {
    name: 'a library with a known critical advisory added to the image',
    from: 'code',
    tampering: {
      // an honest, signed-off change: only the scan policy stands between it and production
      beforeSignOff: async (dir) => {
        const path = join(dir, 'image.yaml');
        await writeFile(path, (await readFile(path, 'utf8')).replaceAll('1.3.1', '1.2.11'));
      },
    },
  },
];

async function checkTools(): Promise<void> {
  const r = await runProcess('sh', ['-c', 'command -v cc'], process.cwd()).catch(() => undefined);
  if (!r || r.code !== 0) throw new EvidentError('ENVIRONMENT', 'the demo compiles C: install a C compiler (cc)');
}

/** Keys and the signed layouts, made once and copied into every run. */
async function prepareBase(base: string, identity: IdentityPlane, log: (line: string) => void): Promise<void> {
  await cp(EXAMPLE_DIR, base, { recursive: true, filter: (src) => !src.endsWith('pipeline.sh') });
  await cp(identity.bundlePath, join(base, 'identity-bundle.pem'));
  await mkdir(join(base, 'keys'), { recursive: true });
  await evident(['keygen', 'keys/owner'], base);
  await evident(['keygen', 'keys/developer'], base);
  await evident(['keygen', 'keys/deployer'], base);
  log('✓ keys: the project owner, the developer and the deployer (people hold keys; CI runners do not)');
  await evident(['layout', 'create', 'layout.yaml', '-k', 'keys/owner', '-o', 'root.layout'], base);
  // `layout create` refuses a date in the past, so the stale layout is made as it once was: compiled on
  // a day long gone, when its 30 days were still ahead.
  const stale = await compileLayoutSpec(join(base, 'layout.yaml'), { now: new Date('2020-01-01T00:00:00Z') });
  await writeMetadataFile(join(base, 'expired.layout'), signMetablock(stale, [await loadPrivateKey(join(base, 'keys', 'owner'))]));
  log("✓ layout: root.layout from layout.yaml, signed by the owner, trusting the identity server's root");
}

/** Runs the pipeline's steps in `dir` from stage `from` on, each through `evident run`. */
async function runStages(
  dir: string,
  from: Stage,
  tampering: Tampering,
  signers: Signers,
  store: DemoStore,
  log: (line: string) => void,
  refused?: string[],
): Promise<void> {
  // whoever signs a link uploads it: the developer, each runner (a rogue one too: it has the runners' token)
  const upload = store.uploadFlags();
  const todo = STAGES.slice(STAGES.indexOf(from));
  // evidence of the stages about to run again must not linger from the run this one was copied from
  for (const f of await readdir(dir)) if (todo.some((stage) => f.startsWith(`${stage}.`) && isEvidence(f))) await rm(join(dir, f));
  if (todo.includes('code')) {
    await tampering.beforeSignOff?.(dir);
    await evident(['run', '-n', 'code', ...signers.developer, ...upload, '-x', '-p', 'src/hello.c', 'image.yaml', 'vendor'], dir);
    log('✓ code: the developer signed off the source, the image description and the vendored library, and uploaded the link');
  }
  if (todo.includes('build')) {
    await tampering.afterSignOff?.(dir);
    const builder = tampering.rogueBuild ? signers.rogue : signers.builder;
    // --provenance: SLSA provenance for hello beside the link, signed by the same SVID and uploaded after it
    await evident(
      [
        'run',
        '-n',
        'build',
        ...builder,
        ...upload,
        '--provenance',
        '-m',
        'src/hello.c',
        '-p',
        'hello',
        '--',
        'cc',
        '-o',
        'hello',
        'src/hello.c',
      ],
      dir,
    );
    log('✓ build: the build runner compiled hello and signed its SLSA provenance (each runner uploads its evidence too)');
  }
  if (todo.includes('package')) {
    await tampering.beforePackage?.(dir);
    const command = ['evident', 'image', 'build', '--config', 'image.yaml', '-o', 'hello-image.tar', '--sbom', 'sbom.cdx.json'];
    const args = [
      'run',
      '-n',
      'package',
      ...signers.builder,
      ...upload,
      '-m',
      'hello',
      'image.yaml',
      'vendor',
      '-p',
      'hello-image.tar',
      'sbom.cdx.json',
      '--',
      ...command,
    ];
    const r = await runEvident(args, dir);
    if (r.code === 2 && refused !== undefined) refused.push(`the build runner refused to record the package step: ${r.stderr.trim()}`);
    else await must(Promise.resolve(r), `evident ${args.join(' ')}`);
    log('✓ package: the build runner built the OCI image hello-image.tar and its SBOM');
  }
  if (todo.includes('scan')) {
    // the scanner signs what it found, about the SBOM, as an in-toto vulnerability attestation (with its own SVID)
    const attest = ['--attest', ...signers.scanner, '--subject', 'sbom.cdx.json', '-o', SCAN_ATTESTATION];
    const command = ['evident', 'scan', 'run', 'sbom.cdx.json', '--advisories', 'advisories', ...attest];
    // the scan's link travels as an in-toto attestation too: a Statement in a DSSE envelope
    await evident(
      [
        'run',
        '-n',
        'scan',
        ...signers.scanner,
        ...upload,
        '--format',
        'dsse',
        '-m',
        'sbom.cdx.json',
        'advisories',
        '-p',
        SCAN_ATTESTATION,
        '--',
        ...command,
      ],
      dir,
    );
    // the attestation goes to the store with the link: the deployer's rule reads it from there
    await store.push([SCAN_ATTESTATION], dir);
    log(`✓ scan: the scan runner matched the SBOM against the advisory feed and uploaded its signed findings, ${SCAN_ATTESTATION}`);
  }
}

/** The scanner's vulnerability attestation, the scan step's product. */
const SCAN_ATTESTATION = 'scan.vulns.json';

/** A file a signer uploads to the store: a link, the build's provenance, the scan's attestation. */
function isEvidence(file: string): boolean {
  return file.endsWith('.link') || file.endsWith('.provenance.json') || file === SCAN_ATTESTATION;
}

/** Where the deployer's verification summary (VSA) is written, beside the deliver folder. */
const VSA_FILE = 'hello-image.vsa.json';

/** What the deployer found and concluded. */
interface Verdict {
  result: ProcessResult;
  /** The delivered image it looked up, `sha256:HEX`. */
  image: string;
  /** How many links the store gave for it, and verify's line saying so. */
  links: number;
  found: string;
}

/**
 * Hands the image and the layout to the deployer (no link or attestation travels with them), who verifies
 * the image by its digest with the evidence the store holds for it, and signs a verification summary.
 */
async function deliverAndVerify(
  dir: string,
  store: DemoStore,
  layout = 'root.layout',
  tamper?: (deliver: string) => Promise<void>,
): Promise<Verdict> {
  const deliver = join(dir, 'deliver');
  await rm(deliver, { recursive: true, force: true });
  await mkdir(deliver);
  await cp(join(dir, layout), join(deliver, 'root.layout'));
  await cp(join(dir, 'hello-image.tar'), join(deliver, 'hello-image.tar'));
  await tamper?.(deliver);
  const image = `sha256:${await sha256File(join(deliver, 'hello-image.tar'))}`;
  const result = await runEvident(
    [
      'verify',
      '-l',
      'root.layout',
      '-k',
      join(dir, 'keys', 'owner.pub'),
      ...store.readFlags(),
      '--product',
      image,
      '--vsa',
      join(dir, VSA_FILE),
      '--vsa-key',
      join(dir, 'keys', 'deployer'),
    ],
    deliver,
  );
  const found = /^evident: verify: ((\d+) links? for .*)$/m.exec(result.stderr);
  return { result, image, links: found ? Number(found[2]) : 0, found: found?.[1] ?? 'no links from the store' };
}

/** Where the deployer's signed verification summary is and what it says, for others to consume. */
async function describeVsa(path: string): Promise<string> {
  const envelope = JSON.parse(await readFile(path, 'utf8')) as { payload: string };
  const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as {
    predicate: { verifier: { id: string }; resourceUri: string; policy: { digest: { sha256: string } }; verificationResult: string };
  };
  const p = statement.predicate;
  return (
    `✓ the deployer signed a verification summary (SLSA VSA) for others to consume: ${path}\n` +
    `   ${p.resourceUri}: ${p.verificationResult} against the layout sha256:${p.policy.digest.sha256.slice(0, 16)}…, verifier ${p.verifier.id}`
  );
}

/** Why the deployer refused: verify's first failure, after the store's silence when it had nothing for the image. */
function deployerSaw(v: Verdict): string {
  const first = firstFailure(v.result);
  return v.links === 0 && v.result.code === 1 ? `the store holds no link that made ${v.image}: ${first}` : first;
}

/** The attacker's image, built in `dir` from the project's image description and vendored library. */
async function buildEvilImage(base: string, dir: string): Promise<EvilImage> {
  await mkdir(dir, { recursive: true });
  await cp(join(base, 'image.yaml'), join(dir, 'image.yaml'));
  await cp(join(base, 'vendor'), join(dir, 'vendor'), { recursive: true });
  await writeFile(join(dir, 'hello'), EVIL_BINARY, { mode: 0o755 });
  await evident(['image', 'build', '--config', 'image.yaml', '-o', 'hello-image.tar'], dir);
  const path = join(dir, 'hello-image.tar');
  return { path, binary: createHash('sha256').update(EVIL_BINARY).digest('hex'), image: await sha256File(path) };
}

/** The honest binary's and image's digests (hex) in `dir`, each to be replaced by the attacker's. */
async function swapFor(dir: string, evil: EvilImage): Promise<Map<string, string>> {
  return new Map([
    [await sha256File(join(dir, 'hello')), evil.binary],
    [await sha256File(join(dir, 'hello-image.tar')), evil.image],
  ]);
}

/** The file name of the link of `step` in `dir`. */
async function linkOf(dir: string, step: string): Promise<string> {
  const file = (await readdir(dir)).find((f) => f.startsWith(`${step}.`) && f.endsWith('.link'));
  if (file === undefined) throw new EvidentError('INTERNAL', `demo: no ${step} link in ${dir}`);
  return file;
}

async function evident(args: string[], cwd: string): Promise<void> {
  await must(runEvident(args, cwd), `evident ${args.join(' ')}`);
}

async function must(pending: Promise<ProcessResult>, what = 'command'): Promise<void> {
  const r = await pending;
  if (r.code !== 0) throw new EvidentError('INTERNAL', `demo: ${what} failed (exit ${r.code}): ${r.stderr.trim()}`);
}

async function appendLine(path: string, line: string): Promise<void> {
  await writeFile(path, `${await readFile(path, 'utf8')}${line}\n`);
}

/**
 * The verifier's first ✗ line, which names the step, rule and artifact (an attestation rule: the package,
 * version and advisory it failed on), with what a failed inspection printed under it.
 */
function firstFailure(r: ProcessResult): string {
  const lines = `${r.stdout}\n${r.stderr}`.split('\n');
  const at = lines.findIndex((l) => l.trimStart().startsWith('✗'));
  if (at === -1) return (r.stderr.trim().split('\n')[0] ?? '').trim();
  const output = [];
  for (let i = at + 1; i < lines.length && lines[i]!.startsWith('  │ '); i++) output.push(`\n     ${lines[i]!.trim()}`);
  return `${lines[at]!.trim()}${output.join('')}`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `   ${l}`)
    .join('\n');
}

/**
 * The deployer verifies the honest image again, from the store, once every SVID that signed its links has
 * expired, as an audit would months later: the timestamps carry the evidence past its signers' lifetimes.
 */
async function verifyAfterSvidsExpired(
  honestDir: string,
  signedBy: number,
  store: DemoStore,
  log: (line: string) => void,
): Promise<boolean> {
  log('\n== later: every SVID that signed the honest pipeline has expired');
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, signedBy + DEMO_SVID_TTL_SECONDS * 1000 + 500 - Date.now())));
  const verdict = await deliverAndVerify(honestDir, store);
  const later = verdict.result;
  const passed = later.code === 0 && verdict.links > 0;
  const timestamped = later.stdout.split('\n').filter((l) => l.includes('(timestamped '));
  for (const line of timestamped) log(`   ${line.trim()}`);
  log(
    passed ? '✓ verification PASSED again: each certificate was checked at its timestamp' : `✗ verification FAILED: ${firstFailure(later)}`,
  );
  return passed;
}

function printSummary(honestPassed: boolean, honestLaterPassed: boolean, attacks: AttackOutcome[], log: (line: string) => void): void {
  const later = 'honest pipeline, after its SVIDs expired';
  const width = Math.max(...attacks.map((a) => a.attack.length), later.length);
  log('\n== summary');
  log(`${'honest pipeline'.padEnd(width)}  ${honestPassed ? 'passed ✓' : 'FAILED ✗'}`);
  log(`${later.padEnd(width)}  ${honestLaterPassed ? 'passed ✓' : 'FAILED ✗'}`);
  for (const a of attacks) log(`${a.attack.padEnd(width)}  ${a.caught ? 'caught ✓' : 'MISSED ✗'}`);
}
