import { createHash, X509Certificate } from 'node:crypto';
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
import { DemoGate } from './gate-process.js';
import { DEMO_SVID_TTL_SECONDS, DEMO_TRUST_DOMAIN, IdentityPlane } from './identity-plane.js';
import { imageDigest } from './image-digest.js';
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

/** What the deployer's gate answered when a Pod with an image of the demo was to be created. */
export interface GateOutcome {
  /** Whose image: `honest pipeline`, or the attack's name. */
  subject: string;
  /** The Pod's image, `hello@sha256:HEX`, and its namespace; absent when the gate was not asked. */
  image?: string;
  namespace?: string;
  /** The gate's answer; absent when it was not asked (the attack delivered the honest image itself). */
  allowed?: boolean;
  /** The refusal's `status.message`, as `kubectl` prints it; or why the gate was not asked. */
  message: string;
}

export interface DemoResult {
  honestPassed: boolean;
  /** The honest evidence verified again once every SVID that signed it had expired. */
  honestLaterPassed: boolean;
  attacks: AttackOutcome[];
  /** The gate admitted the honest image and refused every image an attack made. */
  gatePassed: boolean;
  /** The gate's answers: the honest image first, then each attack's. */
  gate: GateOutcome[];
  workdir: string;
  /** The honest pipeline's evidence store, where every signer uploaded its link (it stops with the demo). */
  storeUrl: string;
  /**
   * The image the deployer verified from the store alone, by the digest of its OCI manifest (`sha256:HEX`):
   * the digest a registry and a cluster name it by.
   */
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
  /** SHA-256 (hex) of the binary, of the image tarball and of its manifest. */
  binary: string;
  image: string;
  manifest: string;
}

interface Attack {
  name: string;
  tampering: Tampering;
  /** The first stage the attack changes; earlier stages are taken from the honest run. */
  from: Stage | 'deliver';
  /** When the attack delivers the honest image itself: what its image is, for the gate's part. */
  honestImage?: string;
}

/**
 * The seed's demonstration: a Hello World pipeline recorded with evident, each link uploaded to an
 * evidence store, the image verified by its digest from the store alone against its layout; each attack
 * replayed on a copy of the pipeline (and of its store), and shown to be caught; then the deployer's gate
 * asked, as a Kubernetes API server asks it, to admit the honest image and each attack's.
 *
 * What does not depend on each other runs side by side (the attacks beside the honest pipeline, each from
 * a copy of its folder taken once the stages it keeps are done); what is printed stays in order.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const workdir = options.workdir ?? (await mkdtemp(join(tmpdir(), 'evident-demo-')));
  await mkdir(workdir, { recursive: true });
  const log = options.log;
  // a server or agent lost mid-demo is said at once: the steps that then fail would say only that a socket is gone
  const identity = new IdentityPlane(join(workdir, 'identity'), { tpm: options.tpm === true, onExit: log });
  const stores = new DemoStores(join(workdir, 'stores'));
  const background = new Background();
  let gateStarting: Promise<DemoGate> | undefined;
  try {
    await checkTools();
    log(`evident demo: the Hello World supply chain, in ${workdir}`);
    const base = join(workdir, 'base');
    // side by side, each mostly waiting: the identity plane, the people's keys, and the stores (in this
    // process): the honest pipeline's, the cluster's, and one for each attack that uploads evidence, so
    // that no other verification sees what it uploaded
    const keys = background.add(makeKeys(base));
    const honestStarting = stores.start('honest');
    const clusterStarting = background.add(stores.start('cluster'));
    const attackStores = ATTACKS.map((attack, i) =>
      uploadsEvidence(attack) ? background.add(stores.start(`attack-${i + 1}`)) : undefined,
    );
    const [signers, honestStore] = await both(startIdentityPlane(identity, log), honestStarting);
    log(
      `✓ evidence store at ${honestStore.url} (SQLite in stores/honest): every signer uploads its link there, with a token the demo made`,
    );
    await keys;
    log('✓ keys: the project owner, the developer and the deployer (people hold keys; CI runners do not)');
    await makeLayouts(base, identity);
    log("✓ layout: root.layout from layout.yaml, signed by the owner, trusting the identity server's root");
    // wanted only later, made while the pipeline runs: the attackers' look-alike image, the deployer's gate
    const evilImage = once(() => buildEvilImage(base, join(workdir, 'evil')));
    background.add(evilImage());
    gateStarting = background.add(clusterStarting.then((cluster) => startGate(base, join(workdir, 'gate'), cluster)));

    log('\n== the honest pipeline');
    const honestDir = join(workdir, 'honest');
    await cp(base, honestDir, { recursive: true });
    const replays: Promise<Replayed>[] = [];
    const context: ReplayContext = { signers, honestStore, attackStores, cluster: clusterStarting, evilImage };
    // an attack starts from a copy of the pipeline's folder as the honest run leaves it after the attack's
    // first stage (whose evidence the attack then replaces); one that changes the source starts from scratch
    const launch = async (after: Stage | 'base', source: string) => {
      for (const [i, attack] of ATTACKS.entries()) {
        if (launchedAfter(attack) !== after) continue;
        const dir = join(workdir, `attack-${i + 1}`);
        await cp(source, dir, { recursive: true, filter: (src) => !src.endsWith('/deliver') });
        replays[i] = background.add(replay(attack, i, dir, context));
      }
    };
    await launch('base', base);
    await runStages(honestDir, 'code', {}, signers, honestStore, log, { afterStage: (stage) => launch(stage, honestDir) });
    const signersExpire = await lastSvidExpiry(honestDir);
    log('✓ delivered hello-image.tar with the signed layout; the links and attestations stay in the store');
    const honest = await deliverAndVerify(honestDir, honestStore, { vsa: true });
    log(`✓ the deployer verifies the image by the digest of its OCI manifest, ${honest.image}, with the links the store holds for it:`);
    log(`   ${honest.found}`);
    log(indent(honest.result.stdout.trimEnd()));
    const honestPassed = honest.result.code === 0 && honest.links > 0;
    log(
      honestPassed
        ? '✓ verification PASSED: the product followed its layout, on the evidence in the store alone'
        : `✗ verification FAILED (exit ${honest.result.code}): ${firstFailure(honest.result)}`,
    );
    log(await describeVsa(join(honestDir, VSA_FILE)));
    // what the honest signers uploaded is in the cluster's store too; printed after the attacks: the honest
    // image verified again once every SVID that signed its evidence is dead
    const honestCopied = background.add(clusterStarting.then((cluster) => honestStore.copyAllTo(cluster)));
    const later = background.add(verifyAfterSvidsExpired(honestDir, signersExpire, honestStore));
    // the pages judge against the layout: a second server over the honest store's database, given it
    const pages = await stores.start('honest', { layout: join(honestDir, 'root.layout'), layoutKey: join(honestDir, 'keys', 'owner.pub') });
    const imagePage = pages.pageUrl(honest.image);
    log(`✓ the store's page for the verified image, its chain drawn with the layout's verdict: ${imagePage}`);
    if (options.whileUp === undefined) log('   (the store stops when the demo ends: `evident demo --keep` keeps it up)');

    log('\n== attacks, each on a copy of the pipeline (and of its store, when the attack uploads evidence), run side by side');
    const replayed: Replayed[] = [];
    for (const pending of replays) {
      const r = await pending;
      for (const line of r.lines) log(line);
      replayed.push(r);
    }
    const attacks = replayed.map((r) => r.outcome);

    const gate = await askTheGate(await gateStarting, await clusterStarting, honest.image, replayed, honestCopied, log);
    const gatePassed = gate[0]!.allowed === true && gate.slice(1).every((g) => g.allowed !== true);

    log('\n== later: every SVID that signed the honest pipeline has expired');
    const { passed: honestLaterPassed, lines } = await later;
    for (const line of lines) log(line);
    printSummary(honestPassed, honestLaterPassed, attacks, gate, log);
    const result: DemoResult = {
      honestPassed,
      honestLaterPassed,
      attacks,
      gatePassed,
      gate,
      workdir,
      storeUrl: honestStore.url,
      image: honest.image,
      imagePage,
    };
    await options.whileUp?.(result);
    return result;
  } catch (e) {
    // an identity process that died is the cause to report, not the socket error a step met after it
    identity.assertRunning();
    throw e;
  } finally {
    // nothing started in the background may still be running when its stores and identities stop
    await background.settled();
    await (await gateStarting?.catch(() => undefined))?.stop();
    await stores.stop();
    await identity.stop();
    if (options.workdir === undefined && !options.keep) await rm(workdir, { recursive: true, force: true });
  }
}

/**
 * Work the demo runs beside what it narrates (attacks, uploads, the gate's start). A failure surfaces
 * where the work is awaited, and nowhere else; all of it has settled before anything it uses stops.
 */
class Background {
  private readonly pending: Promise<unknown>[] = [];

  add<T>(work: Promise<T>): Promise<T> {
    work.catch(() => undefined);
    this.pending.push(work);
    return work;
  }

  async settled(): Promise<void> {
    await Promise.allSettled(this.pending);
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

/** Whether the attack uploads evidence (its runners or the attacker): then it gets a store of its own. */
function uploadsEvidence(attack: Attack): boolean {
  return attack.from !== 'deliver' || attack.tampering.uploads === true;
}

/**
 * After which stage of the honest run an attack's copy of its folder is taken: once the stage the attack
 * begins with is done there (the attack replaces that stage's evidence with its own, and a refused step
 * finds the honest products, as a rerun in that folder would); `base` for one that begins with the code.
 */
function launchedAfter(attack: Attack): Stage | 'base' {
  return attack.from === 'code' ? 'base' : attack.from === 'deliver' ? 'scan' : attack.from;
}

interface ReplayContext {
  signers: Signers;
  honestStore: DemoStore;
  /** Each attack's own store, when it uploads evidence. */
  attackStores: (Promise<DemoStore> | undefined)[];
  /** The store a cluster's gate reads: every attack's evidence is given to it once the attack is done. */
  cluster: Promise<DemoStore>;
  evilImage: () => Promise<EvilImage>;
}

/** What an attack came to: its outcome, what it printed, and the image its deployer was given. */
interface Replayed {
  attack: Attack;
  outcome: AttackOutcome;
  lines: string[];
  /** `sha256:HEX` of the delivered image's manifest. */
  image: string;
}

/**
 * One attack in `dir` (a copy of the pipeline): the pipeline from its first changed stage on, uploading to
 * the attack's store (given first the honest evidence of the stages it keeps), then the deployer.
 */
async function replay(attack: Attack, index: number, dir: string, c: ReplayContext): Promise<Replayed> {
  const lines = [`-- ${attack.name}`];
  const say = (line: string) => lines.push(`   ${line}`);
  const own = await c.attackStores[index];
  try {
    if (own !== undefined) await seed(own, attack.from, dir);
    const store = own ?? c.honestStore;
    // a step a runner refuses to record leaves no link behind, which the deployer then notices
    const refused: string[] = [];
    if (attack.from !== 'deliver') await runStages(dir, attack.from, attack.tampering, c.signers, store, () => undefined, { refused });
    const hook = attack.tampering.beforeVerify;
    const verdict = await deliverAndVerify(dir, store, {
      layout: attack.tampering.layout,
      tamper: hook && ((deliver) => hook({ deliver, dir, signers: c.signers, store, evilImage: c.evilImage, say })),
    });
    const reason = [...refused, deployerSaw(verdict)].join('\n     then the deployer: ');
    const caught = verdict.result.code === 1;
    lines.push(caught ? `   caught: ${reason}` : `   NOT CAUGHT (exit ${verdict.result.code}) ${reason}`);
    // what the attack's signers and attacker uploaded reaches the store a cluster reads
    if (own !== undefined) await own.copyAllTo(await c.cluster);
    return { attack, outcome: { attack: attack.name, caught, reason }, lines, image: verdict.image };
  } finally {
    await own?.stop();
  }
}

/** Gives an attack's store the honest evidence of the stages the attack keeps, as their signers uploaded it. */
async function seed(store: DemoStore, from: Stage | 'deliver', dir: string): Promise<void> {
  const kept = from === 'deliver' ? STAGES : STAGES.slice(0, STAGES.indexOf(from));
  const files = (await readdir(dir)).filter((f) => isEvidence(f) && kept.some((stage) => f.startsWith(`${stage}.`)));
  await store.copy(files.map((f) => join(dir, f)));
}

/** What the attackers would rather ship than hello. */
const EVIL_BINARY = '#!/bin/sh\necho pwned\n';

const BUILDER = `spiffe://${DEMO_TRUST_DOMAIN}/ci/builder`;
const SCANNER = `spiffe://${DEMO_TRUST_DOMAIN}/ci/scanner`;

/**
 * The identity server and two runners; each pipeline identity is issued on its own runner only. The
 * entries are made before the agents start, under the IDs the agents' attestation will give them: each
 * agent brings them from its first sync.
 */
async function startIdentityPlane(identity: IdentityPlane, log: (line: string) => void): Promise<Signers> {
  await identity.start(
    ['build-runner', 'scan-runner'],
    [
      { spiffeId: BUILDER, runner: 'build-runner' },
      { spiffeId: SCANNER, runner: 'scan-runner' },
    ],
  );
  log(`✓ identity server for ${DEMO_TRUST_DOMAIN}; agents on build-runner and scan-runner, each attested with ${identity.attestation}`);
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
  {
    name: 'a build performed by a workload without the builder identity (a rogue runner)',
    from: 'build',
    tampering: { rogueBuild: true },
    honestImage:
      "its build made the honest binary, byte for byte, so its image is the honest one: the gate judges an image by the evidence for its bytes, and the rogue runner's link adds nothing it would accept",
  },
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
    honestImage:
      'the build runner refused to package the decoy, so no image with the backdoored library was made: what it delivered is the honest image',
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

/** The example project and the people's keys, made once and copied into every run: each keygen in its own process, side by side. */
async function makeKeys(base: string): Promise<void> {
  await cp(EXAMPLE_DIR, base, { recursive: true, filter: (src) => !src.endsWith('pipeline.sh') });
  await mkdir(join(base, 'keys'), { recursive: true });
  await Promise.all(['owner', 'developer', 'deployer'].map((person) => evident(['keygen', `keys/${person}`], base)));
}

/**
 * The owner's signed layouts, trusting the identity server's root: root.layout, and expired.layout for
 * the attack that delivers a stale one. What `evident layout create layout.yaml -k keys/owner -o
 * root.layout` does, here in the demo's process, where the compiler and the signer are loaded already.
 */
async function makeLayouts(base: string, identity: IdentityPlane): Promise<void> {
  await cp(identity.bundlePath, join(base, 'identity-bundle.pem'));
  const spec = join(base, 'layout.yaml');
  const owner = await loadPrivateKey(join(base, 'keys', 'owner'));
  await writeMetadataFile(join(base, 'root.layout'), signMetablock(await compileLayoutSpec(spec), [owner]));
  // `layout create` refuses a date in the past, so the stale layout is made as it once was: compiled on
  // a day long gone, when its 30 days were still ahead.
  const stale = await compileLayoutSpec(spec, { now: new Date('2020-01-01T00:00:00Z') });
  await writeMetadataFile(join(base, 'expired.layout'), signMetablock(stale, [owner]));
}

/**
 * Runs the pipeline's steps in `dir` from stage `from` on, each through `evident run`. `refused` collects
 * a step a runner refused to record (the pipeline goes on without its link); `afterStage` is called once
 * each stage is done, before the next begins.
 */
async function runStages(
  dir: string,
  from: Stage,
  tampering: Tampering,
  signers: Signers,
  store: DemoStore,
  log: (line: string) => void,
  hooks: { refused?: string[]; afterStage?: (stage: Stage) => Promise<void> } = {},
): Promise<void> {
  const { refused, afterStage } = hooks;
  // whoever signs a link uploads it: the developer, each runner (a rogue one too: it has the runners' token)
  const upload = store.uploadFlags();
  const todo = STAGES.slice(STAGES.indexOf(from));
  // evidence of the stages about to run again must not linger from the run this one was copied from
  for (const f of await readdir(dir)) if (todo.some((stage) => f.startsWith(`${stage}.`) && isEvidence(f))) await rm(join(dir, f));
  if (todo.includes('code')) {
    await tampering.beforeSignOff?.(dir);
    await evident(['run', '-n', 'code', ...signers.developer, ...upload, '-x', '-p', 'src/hello.c', 'image.yaml', 'vendor'], dir);
    log('✓ code: the developer signed off the source, the image description and the vendored library, and uploaded the link');
    await afterStage?.('code');
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
    await afterStage?.('build');
  }
  if (todo.includes('package')) {
    await tampering.beforePackage?.(dir);
    // --manifest: the manifest's exact bytes, a product too, so that its digest (the image's, in a registry
    // and a cluster) names this link in the store
    const command = [
      'evident',
      'image',
      'build',
      '--config',
      'image.yaml',
      '-o',
      'hello-image.tar',
      '--sbom',
      'sbom.cdx.json',
      '--manifest',
      MANIFEST_FILE,
    ];
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
      MANIFEST_FILE,
      'sbom.cdx.json',
      '--',
      ...command,
    ];
    const r = await runEvident(args, dir);
    if (r.code === 2 && refused !== undefined) refused.push(`the build runner refused to record the package step: ${r.stderr.trim()}`);
    else await must(Promise.resolve(r), `evident ${args.join(' ')}`);
    log(`✓ package: the build runner built the OCI image hello-image.tar, its manifest ${MANIFEST_FILE} and its SBOM`);
    await afterStage?.('package');
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
    // the attestation goes to the store with the link: the deployer's rule reads it from there (what
    // `evident store push` does, made by the demo's client as the runner's upload)
    await store.copy([join(dir, SCAN_ATTESTATION)]);
    log(`✓ scan: the scan runner matched the SBOM against the advisory feed and uploaded its signed findings, ${SCAN_ATTESTATION}`);
    await afterStage?.('scan');
  }
}

/** The package step's image manifest: its sha256 is the image's digest. */
const MANIFEST_FILE = 'hello-image.manifest.json';

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
  /** The delivered image it looked up, by the digest of its manifest, `sha256:HEX`. */
  image: string;
  /** How many links the store gave for it, and verify's line saying so. */
  links: number;
  found: string;
}

/**
 * Hands the image and the layout to the deployer (no link or attestation travels with them), who verifies
 * the image by its digest (its manifest's) with the evidence the store holds for it; with `vsa`, and signs
 * a verification summary (the honest verification: a summary of a refusal would be signed for nobody).
 */
async function deliverAndVerify(
  dir: string,
  store: DemoStore,
  options: { layout?: string | undefined; tamper?: ((deliver: string) => Promise<void>) | undefined; vsa?: boolean } = {},
): Promise<Verdict> {
  const deliver = join(dir, 'deliver');
  await rm(deliver, { recursive: true, force: true });
  await mkdir(deliver);
  await cp(join(dir, options.layout ?? 'root.layout'), join(deliver, 'root.layout'));
  await cp(join(dir, 'hello-image.tar'), join(deliver, 'hello-image.tar'));
  await options.tamper?.(deliver);
  const image = await imageDigest(join(deliver, 'hello-image.tar'));
  const vsa = options.vsa === true ? ['--vsa', join(dir, VSA_FILE), '--vsa-key', join(dir, 'keys', 'deployer')] : [];
  const result = await runEvident(
    ['verify', '-l', 'root.layout', '-k', join(dir, 'keys', 'owner.pub'), ...store.readFlags(), '--product', image, ...vsa],
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
  await evident(['image', 'build', '--config', 'image.yaml', '-o', 'hello-image.tar', '--manifest', MANIFEST_FILE], dir);
  const path = join(dir, 'hello-image.tar');
  return {
    path,
    binary: createHash('sha256').update(EVIL_BINARY).digest('hex'),
    image: await sha256File(path),
    manifest: await sha256File(join(dir, MANIFEST_FILE)),
  };
}

/** The honest binary's, image's and manifest's digests (hex) in `dir`, each to be replaced by the attacker's. */
async function swapFor(dir: string, evil: EvilImage): Promise<Map<string, string>> {
  return new Map([
    [await sha256File(join(dir, 'hello')), evil.binary],
    [await sha256File(join(dir, 'hello-image.tar')), evil.image],
    [await sha256File(join(dir, MANIFEST_FILE)), evil.manifest],
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
 * When the last SVID that signed evidence in `dir` (links, provenance, the scan's attestation) stops being
 * valid, epoch ms: the certificate each signature carries says so.
 */
async function lastSvidExpiry(dir: string): Promise<number> {
  let last = 0;
  for (const file of await readdir(dir)) {
    if (!isEvidence(file)) continue;
    const signed = JSON.parse(await readFile(join(dir, file), 'utf8')) as { signatures?: { cert?: unknown }[] };
    for (const { cert } of signed.signatures ?? []) {
      if (typeof cert === 'string') last = Math.max(last, Date.parse(new X509Certificate(cert).validTo));
    }
  }
  // none found (not expected: the runners sign with SVIDs): as long as an SVID issued now would live
  return last > 0 ? last : Date.now() + DEMO_SVID_TTL_SECONDS * 1000;
}

/**
 * The deployer verifies the honest image again, from the store, once every SVID that signed its evidence
 * has expired (`expired`, epoch ms), as an audit would months later: the timestamps carry the evidence past
 * its signers' lifetimes. Run beside the attacks; what it has to say, for the demo to print after them.
 */
async function verifyAfterSvidsExpired(
  honestDir: string,
  expired: number,
  store: DemoStore,
): Promise<{ passed: boolean; lines: string[] }> {
  // a certificate's notAfter is to the second: one more, and it is past for sure
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, expired + 1000 - Date.now())));
  const verdict = await deliverAndVerify(honestDir, store);
  const later = verdict.result;
  const passed = later.code === 0 && verdict.links > 0;
  const lines = later.stdout
    .split('\n')
    .filter((l) => l.includes('(timestamped '))
    .map((l) => `   ${l.trim()}`);
  lines.push(
    passed ? '✓ verification PASSED again: each certificate was checked at its timestamp' : `✗ verification FAILED: ${firstFailure(later)}`,
  );
  return { passed, lines };
}

/**
 * The deployer's gate policies (docs/gate.md): every Pod's hello image must follow root.layout; namespace
 * `legacy` is still held to the layout of January 2020, long expired (the expired-layout attack's policy).
 */
const GATE_POLICY = `# The deployer's gate: the first policy that applies to an image decides.
policies:
  # a namespace still held to the layout of January 2020, which expired after its 30 days
  - name: expired.layout
    layout: expired.layout
    layoutKeys: [keys/owner.pub]
    namespaces: [legacy]
    images: [hello]
    skipInspections: true   # a gate runs no commands: the layout's unpack inspection is not run
  - name: root.layout
    layout: root.layout
    layoutKeys: [keys/owner.pub]
    images: [hello]
    skipInspections: true
`;

/** The namespace whose gate policy is the expired layout. */
const LEGACY_NAMESPACE = 'legacy';

/** `evident gate serve` in `dir`, with the owner's layouts and key and the policy file above, reading `store`. */
async function startGate(base: string, dir: string, store: DemoStore): Promise<DemoGate> {
  await mkdir(join(dir, 'keys'), { recursive: true });
  for (const file of ['root.layout', 'expired.layout']) await cp(join(base, file), join(dir, file));
  await cp(join(base, 'keys', 'owner.pub'), join(dir, 'keys', 'owner.pub'));
  await writeFile(join(dir, 'gate.yaml'), GATE_POLICY);
  // the policy by its full path: the process names the demo's folder, like every other one the demo starts
  return DemoGate.start(['--store', store.url, '--policy', join(dir, 'gate.yaml')], dir);
}

/**
 * The deployment: a Pod with the image, `hello@sha256:<manifest digest>`, as the Kubernetes API server asks
 * a validating webhook about it. The gate reads the cluster's store, which holds everything every signer
 * and attacker uploaded (each attack's store given to it when the attack was done). An attack that
 * delivered the honest image itself is not asked about (the answer is the honest one's); the expired
 * layout's is asked in the namespace held to that layout.
 */
async function askTheGate(
  gate: DemoGate,
  cluster: DemoStore,
  honestImage: string,
  replayed: readonly Replayed[],
  honestCopied: Promise<unknown>,
  log: (line: string) => void,
): Promise<GateOutcome[]> {
  await honestCopied;
  const items = await cluster.count();
  log('\n== the deployment gate: what a cluster admits');
  log(
    `✓ the cluster's evidence store at ${cluster.url} holds what every signer and attacker uploaded: the honest pipeline's and each attack's (${items} pieces of evidence)`,
  );
  log(
    `✓ evident gate serve at ${gate.url} reads it, with the deployer's gate.yaml: images named hello must follow root.layout, and in namespace ${LEGACY_NAMESPACE} expired.layout (inspections are not run: a gate runs no commands)`,
  );
  log(
    '   each deployment asked as the Kubernetes API server asks a validating webhook: POST /validate, an AdmissionReview v1 to CREATE Pod hello',
  );
  const pod = (image: string, namespace: string) => ({ name: 'hello', namespace, image: `hello@${image}` });
  const ask = async (subject: string, image: string, namespace: string): Promise<GateOutcome> => {
    const answer = await gate.admit(pod(image, namespace));
    return { subject, image: `hello@${image}`, namespace, allowed: answer.allowed, message: answer.status?.message ?? '' };
  };
  const asked = await Promise.all([
    ask('honest pipeline', honestImage, 'default'),
    ...replayed.map(async ({ attack, image }): Promise<GateOutcome> => {
      if (attack.tampering.layout !== undefined) return ask(attack.name, image, LEGACY_NAMESPACE);
      if (image !== honestImage) return ask(attack.name, image, 'default');
      const why = attack.honestImage ?? 'it delivered the honest image itself';
      return { subject: attack.name, message: `not asked: ${why} (hello@${honestImage}, admitted above)` };
    }),
  ]);
  const said = new Map<string, string>();
  for (const outcome of asked) {
    log(`-- ${outcome.subject}`);
    if (outcome.allowed === undefined) {
      log(`   ${outcome.message}`);
      continue;
    }
    const where = `Pod ${outcome.namespace}/hello with ${shortImage(outcome.image!)}`;
    if (outcome.allowed) {
      log(`   ${where}: admitted`);
      continue;
    }
    const same = said.get(outcome.message);
    if (same !== undefined) {
      log(`   ${where}: refused, as for "${same}" (the same image, the same answer)`);
      continue;
    }
    said.set(outcome.message, outcome.subject);
    log(`   ${where}: refused; what kubectl would print:`);
    for (const line of outcome.message.split('\n')) log(`     ${clip(line, 400)}`);
  }
  return asked;
}

/** `hello@sha256:` and the digest's first 16 hex digits. */
function shortImage(image: string): string {
  return image.replace(/(sha256:[0-9a-f]{16})[0-9a-f]{48}/, '$1…');
}

function clip(line: string, max: number): string {
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

function printSummary(
  honestPassed: boolean,
  honestLaterPassed: boolean,
  attacks: AttackOutcome[],
  gate: GateOutcome[],
  log: (line: string) => void,
): void {
  const later = 'honest pipeline, after its SVIDs expired';
  const rows: [string, string][] = [
    ['honest pipeline', honestPassed ? 'passed ✓' : 'FAILED ✗'],
    [later, honestLaterPassed ? 'passed ✓' : 'FAILED ✗'],
    ...attacks.map((a): [string, string] => [a.attack, a.caught ? 'caught ✓' : 'MISSED ✗']),
  ];
  const [honest, ...others] = gate;
  const asked = others.filter((g) => g.allowed !== undefined);
  const refused = asked.filter((g) => g.allowed === false).length;
  rows.push(['the gate, for the honest image', honest?.allowed === true ? 'admitted ✓' : 'REFUSED ✗']);
  rows.push([
    `the gate, for the attacks' images (${asked.length} asked)`,
    refused === asked.length ? `all refused ✓` : `${asked.length - refused} ADMITTED ✗`,
  ]);
  const width = Math.max(...rows.map(([name]) => name.length));
  log('\n== summary');
  for (const [name, verdict] of rows) log(`${name.padEnd(width)}  ${verdict}`);
}
