import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EvidentError } from '../errors.js';
import { loadPrivateKey } from '../crypto/key-files.js';
import { compileLayoutSpec } from '../intoto/layout-spec/compile.js';
import { signMetablock, writeMetadataFile } from '../intoto/models/metablock.js';
import { runEvident, runProcess, type ProcessResult } from './evident-process.js';

/** The example project the demo secures, shipped with the package. */
const EXAMPLE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'hello-world');

const PACKAGE_COMMAND = ['tar', '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-cf', 'hello.tar', 'hello'];

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
  attacks: AttackOutcome[];
  workdir: string;
}

/** Hooks an attack uses to interfere with the pipeline at the moment it would in real life. */
interface Tampering {
  /** After the developer's sign-off, before the build runner checks out the source. */
  afterSignOff?: (dir: string) => Promise<void>;
  /** The key the build is signed with (a rogue runner uses its own). */
  buildKey?: string;
  /** After delivery, before the deployer verifies. */
  beforeVerify?: (deliverDir: string) => Promise<void>;
  /** The layout the deployer verifies against. */
  layout?: string;
}

/**
 * The seed's demonstration: a Hello World pipeline recorded with evident, verified against its layout,
 * then each attack replayed on a fresh copy and shown to be caught.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const workdir = options.workdir ?? (await mkdtemp(join(tmpdir(), 'evident-demo-')));
  await mkdir(workdir, { recursive: true });
  const log = options.log;
  try {
    await checkCompiler();
    log(`evident demo: the Hello World supply chain, in ${workdir}`);
    const base = join(workdir, 'base');
    await prepareBase(base, log);

    log('\n== the honest pipeline');
    const honest = await pipeline(base, join(workdir, 'honest'), {}, log);
    log(indent(honest.stdout.trimEnd()));
    const honestPassed = honest.code === 0;
    log(honestPassed ? '✓ verification PASSED: the product followed its layout' : `✗ verification FAILED (exit ${honest.code}): ${honest.stderr.trim()}`);

    log('\n== attacks, each on a fresh copy');
    const attacks: AttackOutcome[] = [];
    for (const [name, tampering] of attackCatalogue()) {
      log(`-- ${name}`);
      const result = await pipeline(base, join(workdir, `attack-${attacks.length + 1}`), tampering, () => undefined);
      const reason = firstFailure(result);
      const caught = result.code === 1;
      attacks.push({ attack: name, caught, reason });
      log(caught ? `   caught: ${reason}` : `   NOT CAUGHT (exit ${result.code}) ${reason}`);
    }
    printSummary(honestPassed, attacks, log);
    return { honestPassed, attacks, workdir };
  } finally {
    if (options.workdir === undefined && !options.keep) await rm(workdir, { recursive: true, force: true });
  }
}

async function checkCompiler(): Promise<void> {
  const r = await runProcess('sh', ['-c', 'command -v cc && command -v tar'], process.cwd()).catch(() => undefined);
  if (!r || r.code !== 0) throw new EvidentError('ENVIRONMENT', 'the demo compiles C and packs a tar archive: install a C compiler (cc) and tar');
}

/** Keys and the signed layout, made once and copied into every run. */
async function prepareBase(base: string, log: (line: string) => void): Promise<void> {
  await cp(EXAMPLE_DIR, base, { recursive: true, filter: (src) => !src.endsWith('pipeline.sh') });
  await mkdir(join(base, 'keys'), { recursive: true });
  await evident(['keygen', 'keys/owner'], base);
  await evident(['keygen', 'keys/developer'], base);
  await evident(['keygen', '-t', 'ecdsa', 'keys/builder'], base);
  await evident(['keygen', '-t', 'ecdsa', 'keys/rogue'], base);
  log('✓ keys: owner and developer (ed25519, people), builder (ecdsa, the build runner)');
  await evident(['layout', 'create', 'layout.yaml', '-k', 'keys/owner', '-o', 'root.layout'], base);
  // `layout create` refuses a date in the past, so the stale layout is made as it once was: compiled on
  // a day long gone, when its 30 days were still ahead.
  const stale = await compileLayoutSpec(join(base, 'layout.yaml'), { now: new Date('2020-01-01T00:00:00Z') });
  await writeMetadataFile(join(base, 'expired.layout'), signMetablock(stale, [await loadPrivateKey(join(base, 'keys', 'owner'))]));
  log('✓ layout: root.layout from layout.yaml, signed by the owner');
}

/** Runs the three steps and the deployer's verification in `dir`, with an attack's tampering if any. */
async function pipeline(base: string, dir: string, tampering: Tampering, log: (line: string) => void): Promise<ProcessResult> {
  await cp(base, dir, { recursive: true });
  await evident(['run', '-n', 'code', '-k', 'keys/developer', '-x', '-p', 'src/hello.c'], dir);
  log('✓ code: the developer signed off src/hello.c');
  await tampering.afterSignOff?.(dir);
  await evident(['run', '-n', 'build', '-k', tampering.buildKey ?? 'keys/builder', '-m', 'src/hello.c', '-p', 'hello', '--', 'cc', '-o', 'hello', 'src/hello.c'], dir);
  log('✓ build: the build runner compiled hello');
  await evident(['run', '-n', 'package', '-k', 'keys/builder', '-m', 'hello', '-p', 'hello.tar', '--', ...PACKAGE_COMMAND], dir);
  log('✓ package: the build runner packed hello.tar');
  const deliver = join(dir, 'deliver');
  await mkdir(deliver);
  const layout = tampering.layout ?? 'root.layout';
  await cp(join(dir, layout), join(deliver, 'root.layout'));
  await cp(join(dir, 'hello.tar'), join(deliver, 'hello.tar'));
  for (const f of await readdir(dir)) if (f.endsWith('.link')) await cp(join(dir, f), join(deliver, f));
  await tampering.beforeVerify?.(deliver);
  log('✓ delivered hello.tar with its layout and links; the deployer verifies:');
  return runEvident(['verify', '-l', 'root.layout', '-k', join(dir, 'keys', 'owner.pub')], deliver);
}

function attackCatalogue(): [string, Tampering][] {
  return [
    [
      'a one-line change to the source after the sign-off',
      { afterSignOff: async (dir) => appendLine(join(dir, 'src', 'hello.c'), '/* backdoor */ int sneaky = 1;') },
    ],
    [
      'a swapped binary inside the delivered archive',
      {
        beforeVerify: async (deliver) => {
          const evil = join(deliver, 'evil');
          await mkdir(evil);
          await writeFile(join(evil, 'hello'), '#!/bin/sh\necho pwned\n', { mode: 0o755 });
          await must(runProcess('tar', PACKAGE_COMMAND.slice(1, -3).concat(['-cf', join(deliver, 'hello.tar'), 'hello']), evil));
          await rm(evil, { recursive: true });
        },
      },
    ],
    ['a build performed by a rogue runner with its own key', { buildKey: 'keys/rogue' }],
    [
      'a link edited after signing (the build product hash replaced)',
      {
        beforeVerify: async (deliver) => {
          const file = (await readdir(deliver)).find((f) => f.startsWith('build.') && f.endsWith('.link'))!;
          const text = await readFile(join(deliver, file), 'utf8');
          await writeFile(join(deliver, file), text.replace(/("hello": \{\s*"sha256": ")[0-9a-f]{64}/, `$1${'e'.repeat(64)}`));
        },
      },
    ],
    ['an expired layout', { layout: 'expired.layout' }],
  ];
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

/** The verifier's first ✗ line, which names the step, rule and artifact. */
function firstFailure(r: ProcessResult): string {
  const line = `${r.stdout}\n${r.stderr}`.split('\n').find((l) => l.trimStart().startsWith('✗'));
  return (line ?? r.stderr.trim().split('\n')[0] ?? '').trim();
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `   ${l}`)
    .join('\n');
}

function printSummary(honestPassed: boolean, attacks: AttackOutcome[], log: (line: string) => void): void {
  const width = Math.max(...attacks.map((a) => a.attack.length), 'honest pipeline'.length);
  log('\n== summary');
  log(`${'honest pipeline'.padEnd(width)}  ${honestPassed ? 'passed ✓' : 'FAILED ✗'}`);
  for (const a of attacks) log(`${a.attack.padEnd(width)}  ${a.caught ? 'caught ✓' : 'MISSED ✗'}`);
}
