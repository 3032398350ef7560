/**
 * The demo's chain (examples/hello-world), recorded with keys instead of SVIDs, for `npm run bench -- policy`:
 * the same steps, commands and artifact rules, the build's SLSA provenance and the scanner's vulnerability
 * attestation made by the real CLI (`run --provenance`, `scan run --attest`), and the demo's layout twice:
 * as it is (two attestation rules) and without its `expected_predicates`. What a rule costs the deployer is
 * then the difference between the two verifications of the same chain, in one run.
 */
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runEvident } from '../src/demo/evident-process.js';

const EXAMPLE = join(import.meta.dirname, '..', 'examples', 'hello-world');

export interface DemoChain {
  dir: string;
  /** Layouts in `dir`: the demo's, and the same without attestation rules. */
  withRules: string;
  withoutRules: string;
  /** `evident verify` arguments for a layout of `dir`, run in `dir/deliver` (links and attestations in `dir/evidence`). */
  verifyArgs: (layout: string) => string[];
  remove: () => Promise<void>;
}

/** The demo layout's text with key functionaries (no identity plane here), and optionally without rules. */
function keyedLayout(text: string, rules: boolean): string {
  const out: string[] = [];
  let skipping = false;
  for (const line of text.split('\n')) {
    const indent = line.length - line.trimStart().length;
    if (skipping && (line.trim() === '' || line.trimStart().startsWith('#') || indent > 4)) continue;
    skipping = false;
    if (!rules && line.trim() === 'expected_predicates:') {
      skipping = true;
      continue;
    }
    if (/^\s*require_timestamps:/.test(line)) continue;
    out.push(
      line
        .replace('{spiffe: "spiffe://demo.evident/ci/builder", roots: [demo]}', 'builder')
        .replace('{spiffe: "spiffe://demo.evident/ci/scanner", roots: [demo]}', 'scanner')
        // a key signer's provenance names its keyid as the builder: the same comparison, against the signer
        .replace("== 'spiffe://demo.evident/ci/builder'", "== 'urn:evident:keyid:' + signer.keyid"),
    );
  }
  return out
    .join('\n')
    .replace(/^roots:\n( {2}.*\n)+/m, '')
    .replace(/^timestamp_authorities:\n( {2}.*\n)+/m, '')
    .replace(/^keys:\n/m, 'keys:\n  builder: keys/builder.pub\n  scanner: keys/scanner.pub\n');
}

async function must(args: string[], cwd: string): Promise<void> {
  const r = await runEvident(args, cwd);
  if (r.code !== 0) throw new Error(`bench: evident ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
}

/** Records the demo's pipeline in a temporary folder, as the demo does, signed with keys. Needs dist/ built and `cc`. */
export async function recordDemoChain(): Promise<DemoChain> {
  const dir = await mkdtemp(join(tmpdir(), 'evident-bench-demo-chain-'));
  try {
    await cp(EXAMPLE, dir, { recursive: true, filter: (src) => !src.endsWith('pipeline.sh') });
    for (const who of ['owner', 'developer', 'builder', 'scanner']) await must(['keygen', `keys/${who}`], dir);
    const spec = await readFile(join(dir, 'layout.yaml'), 'utf8');
    await writeFile(join(dir, 'rules.yaml'), keyedLayout(spec, true));
    await writeFile(join(dir, 'plain.yaml'), keyedLayout(spec, false));
    await must(['layout', 'create', 'rules.yaml', '-k', 'keys/owner', '-o', 'rules.layout'], dir);
    await must(['layout', 'create', 'plain.yaml', '-k', 'keys/owner', '-o', 'plain.layout'], dir);
    await must(['run', '-n', 'code', '-k', 'keys/developer', '-x', '-p', 'src/hello.c', 'image.yaml', 'vendor'], dir);
    await must(
      [
        'run',
        '-n',
        'build',
        '-k',
        'keys/builder',
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
    const image = [
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
      'hello-image.manifest.json',
    ];
    await must(
      [
        'run',
        '-n',
        'package',
        '-k',
        'keys/builder',
        '-m',
        'hello',
        'image.yaml',
        'vendor',
        '-p',
        'hello-image.tar',
        'hello-image.manifest.json',
        'sbom.cdx.json',
        '--',
        ...image,
      ],
      dir,
    );
    const scan = [
      'evident',
      'scan',
      'run',
      'sbom.cdx.json',
      '--advisories',
      'advisories',
      '--attest',
      '-k',
      'keys/scanner',
      '--subject',
      'sbom.cdx.json',
      '-o',
      'scan.vulns.json',
    ];
    await must(
      [
        'run',
        '-n',
        'scan',
        '-k',
        'keys/scanner',
        '--format',
        'dsse',
        '-m',
        'sbom.cdx.json',
        'advisories',
        '-p',
        'scan.vulns.json',
        '--',
        ...scan,
      ],
      dir,
    );
    // the deployer's folder holds the image (the unpack inspection allows nothing else); layouts and evidence lie beside it
    await mkdir(join(dir, 'deliver'));
    await mkdir(join(dir, 'evidence'));
    await cp(join(dir, 'hello-image.tar'), join(dir, 'deliver', 'hello-image.tar'));
    for (const f of await readdir(dir))
      if (f.endsWith('.link') || f.endsWith('.provenance.json') || f === 'scan.vulns.json')
        await cp(join(dir, f), join(dir, 'evidence', f));
    return {
      dir,
      withRules: 'rules.layout',
      withoutRules: 'plain.layout',
      verifyArgs: (layout) => [
        'verify',
        '-q',
        '-l',
        join(dir, layout),
        '-k',
        join(dir, 'keys', 'owner.pub'),
        '--link-dir',
        join(dir, 'evidence'),
      ],
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}
