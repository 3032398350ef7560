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
import { runEvident, runProcess, type ProcessResult } from './evident-process.js';
import { DEMO_SVID_TTL_SECONDS, DEMO_TRUST_DOMAIN, IdentityPlane } from './identity-plane.js';

/** The example project the demo secures, shipped with the package. */
const EXAMPLE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'hello-world');

export interface DemoOptions {
  /** Where the demo works; a new temporary folder when absent. */
  workdir?: string;
  /** Keep the work folder afterwards (always kept when `workdir` is given). */
  keep?: boolean;
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
  beforeVerify?: (deliverDir: string, signers: Signers) => Promise<void>;
  /** The layout the deployer verifies against. */
  layout?: string;
}

interface Attack {
  name: string;
  tampering: Tampering;
  /** The first stage the attack changes; earlier stages are taken from the honest run. */
  from: Stage | 'deliver';
}

/**
 * The seed's demonstration: a Hello World pipeline recorded with evident, verified against its layout,
 * then each attack replayed on a fresh copy and shown to be caught.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const workdir = options.workdir ?? (await mkdtemp(join(tmpdir(), 'evident-demo-')));
  await mkdir(workdir, { recursive: true });
  const log = options.log;
  const identity = new IdentityPlane(join(workdir, 'identity'));
  try {
    await checkTools();
    log(`evident demo: the Hello World supply chain, in ${workdir}`);
    const signers = await startIdentityPlane(identity, log);
    const base = join(workdir, 'base');
    await prepareBase(base, identity, log);

    log('\n== the honest pipeline');
    const honestDir = join(workdir, 'honest');
    await cp(base, honestDir, { recursive: true });
    await runStages(honestDir, 'code', {}, signers, log);
    const honest = await deliverAndVerify(honestDir, {}, signers, log);
    log(indent(honest.stdout.trimEnd()));
    const honestPassed = honest.code === 0;
    const stepsSignedBy = Date.now();
    log(
      honestPassed
        ? '✓ verification PASSED: the product followed its layout'
        : `✗ verification FAILED (exit ${honest.code}): ${honest.stderr.trim()}`,
    );

    log('\n== attacks, each on a fresh copy');
    const attacks: AttackOutcome[] = [];
    for (const attack of ATTACKS) {
      log(`-- ${attack.name}`);
      const dir = join(workdir, `attack-${attacks.length + 1}`);
      await cp(attack.from === 'code' ? base : honestDir, dir, { recursive: true, filter: (src) => !src.endsWith('/deliver') });
      // a step a runner refuses to record leaves no link behind, which the deployer then notices
      const refused: string[] = [];
      if (attack.from !== 'deliver') await runStages(dir, attack.from, attack.tampering, signers, () => undefined, refused);
      const result = await deliverAndVerify(dir, attack.tampering, signers, () => undefined);
      const reason = [...refused, firstFailure(result)].join('\n     then the deployer: ');
      const caught = result.code === 1;
      attacks.push({ attack: attack.name, caught, reason });
      log(caught ? `   caught: ${reason}` : `   NOT CAUGHT (exit ${result.code}) ${reason}`);
    }
    const honestLaterPassed = await verifyAfterSvidsExpired(honestDir, stepsSignedBy, signers, log);
    printSummary(honestPassed, honestLaterPassed, attacks, log);
    return { honestPassed, honestLaterPassed, attacks, workdir };
  } finally {
    await identity.stop();
    if (options.workdir === undefined && !options.keep) await rm(workdir, { recursive: true, force: true });
  }
}

/** What the attackers would rather ship than hello. */
const EVIL_BINARY = '#!/bin/sh\necho pwned\n';

const BUILDER = `spiffe://${DEMO_TRUST_DOMAIN}/ci/builder`;
const SCANNER = `spiffe://${DEMO_TRUST_DOMAIN}/ci/scanner`;

/** The identity server and two runners; each pipeline identity is issued on its own runner only. */
async function startIdentityPlane(identity: IdentityPlane, log: (line: string) => void): Promise<Signers> {
  await identity.start(['build-runner', 'scan-runner']);
  log(`✓ identity server for ${DEMO_TRUST_DOMAIN}; agents on build-runner and scan-runner, each attested with its own join token`);
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
      beforeVerify: async (deliver) => {
        // the attacker builds a look-alike image around their own binary and ships it instead
        const evil = join(deliver, '..', 'evil');
        await cp(join(deliver, '..', 'image.yaml'), join(evil, 'image.yaml'));
        await cp(join(deliver, '..', 'vendor'), join(evil, 'vendor'), { recursive: true });
        await writeFile(join(evil, 'hello'), EVIL_BINARY, { mode: 0o755 });
        await must(runEvident(['image', 'build', '--config', 'image.yaml', '-o', join(deliver, 'hello-image.tar')], evil));
      },
    },
  },
  { name: 'a build performed by a workload without the builder identity (a rogue runner)', from: 'build', tampering: { rogueBuild: true } },
  {
    name: 'a link edited after signing (the build product hash replaced)',
    from: 'deliver',
    tampering: {
      beforeVerify: async (deliver) => {
        const file = (await readdir(deliver)).find((f) => f.startsWith('build.') && f.endsWith('.link'))!;
        const text = await readFile(join(deliver, file), 'utf8');
        await writeFile(join(deliver, file), text.replace(/("hello": \{\s*"sha256": ")[0-9a-f]{64}/, `$1${'e'.repeat(64)}`));
      },
    },
  },
  { name: 'an expired layout', from: 'deliver', tampering: { layout: 'expired.layout' } },
  {
    name: 'a build link signed with a stolen builder key after its SVID expired, back-dated',
    from: 'deliver',
    tampering: {
      beforeVerify: async (deliver, signers) => {
        const thief = signers.thief;
        // the theft was at the start; the attack comes once the stolen SVID is dead
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, thief.expiresAt.getTime() - Date.now() + 500)));
        const file = (await readdir(deliver)).find((f) => f.startsWith('build.') && f.endsWith('.link'))!;
        await thief.forgeBuildLink(join(deliver, file), createHash('sha256').update(EVIL_BINARY).digest('hex'));
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
  log('✓ keys: the project owner and the developer (people hold keys; CI runners do not)');
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
  log: (line: string) => void,
  refused?: string[],
): Promise<void> {
  const todo = STAGES.slice(STAGES.indexOf(from));
  // links of the stages about to run again must not linger from the run this one was copied from
  for (const f of await readdir(dir)) if (todo.some((stage) => f.startsWith(`${stage}.`) && f.endsWith('.link'))) await rm(join(dir, f));
  if (todo.includes('code')) {
    await tampering.beforeSignOff?.(dir);
    await evident(['run', '-n', 'code', ...signers.developer, '-x', '-p', 'src/hello.c', 'image.yaml', 'vendor'], dir);
    log('✓ code: the developer signed off the source, the image description and the vendored library');
  }
  if (todo.includes('build')) {
    await tampering.afterSignOff?.(dir);
    const builder = tampering.rogueBuild ? signers.rogue : signers.builder;
    await evident(['run', '-n', 'build', ...builder, '-m', 'src/hello.c', '-p', 'hello', '--', 'cc', '-o', 'hello', 'src/hello.c'], dir);
    log('✓ build: the build runner compiled hello');
  }
  if (todo.includes('package')) {
    await tampering.beforePackage?.(dir);
    const command = ['evident', 'image', 'build', '--config', 'image.yaml', '-o', 'hello-image.tar', '--sbom', 'sbom.cdx.json'];
    const args = [
      'run',
      '-n',
      'package',
      ...signers.builder,
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
    const command = ['evident', 'scan', 'run', 'sbom.cdx.json', '--advisories', 'advisories', '-o', 'scan-report.json'];
    // the scan's evidence travels as an in-toto attestation: a Statement in a DSSE envelope
    await evident(
      [
        'run',
        '-n',
        'scan',
        ...signers.scanner,
        '--format',
        'dsse',
        '-m',
        'sbom.cdx.json',
        'advisories',
        '-p',
        'scan-report.json',
        '--',
        ...command,
      ],
      dir,
    );
    log('✓ scan: the scan runner matched the SBOM against the advisory feed (its link is a DSSE attestation)');
  }
}

/** Hands the image, the scan report, the links and the layout to the deployer, who verifies them. */
async function deliverAndVerify(dir: string, tampering: Tampering, signers: Signers, log: (line: string) => void): Promise<ProcessResult> {
  const deliver = join(dir, 'deliver');
  await rm(deliver, { recursive: true, force: true });
  await mkdir(deliver);
  await cp(join(dir, tampering.layout ?? 'root.layout'), join(deliver, 'root.layout'));
  for (const f of ['hello-image.tar', 'scan-report.json']) await cp(join(dir, f), join(deliver, f));
  for (const f of await readdir(dir)) if (f.endsWith('.link')) await cp(join(dir, f), join(deliver, f));
  await tampering.beforeVerify?.(deliver, signers);
  log('✓ delivered hello-image.tar with its scan report, layout and links; the deployer verifies:');
  return runEvident(['verify', '-l', 'root.layout', '-k', join(dir, 'keys', 'owner.pub')], deliver);
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
 * The verifier's first ✗ line, which names the step, rule and artifact, with what a failed inspection
 * printed under it (a scan policy names the package, version and advisory there).
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
 * The deployer verifies the honest delivery again once every SVID that signed it has expired, as an
 * audit would months later: the timestamps carry the evidence past its signers' lifetimes.
 */
async function verifyAfterSvidsExpired(
  honestDir: string,
  signedBy: number,
  signers: Signers,
  log: (line: string) => void,
): Promise<boolean> {
  log('\n== later: every SVID that signed the honest pipeline has expired');
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, signedBy + DEMO_SVID_TTL_SECONDS * 1000 + 500 - Date.now())));
  const later = await deliverAndVerify(honestDir, {}, signers, () => undefined);
  const passed = later.code === 0;
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
