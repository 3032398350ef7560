/**
 * The package as another project gets it: `npm pack`, installed from the tarball into a scratch project
 * (the native addon built by its install script), every subpath imported from plain ESM, its types checked
 * by the TypeScript compiler, and the CLI run from node_modules/.bin.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from '../helpers/child-process.js';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { PUBLIC_SURFACE } from './public-surface.js';

const run = promisify(execFile);
const REPO = resolve(import.meta.dirname, '..', '..');

test('npm pack, install the tarball into a scratch project, import every subpath, check its types', { timeout: 600_000 }, async (t) => {
  assert.ok(existsSync(join(REPO, 'dist', 'index.js')), 'dist/ is built (npm test builds it first)');
  const scratch = await mkdtemp(join(tmpdir(), 'evident-consumer-'));
  t.after(() => rm(scratch, { recursive: true, force: true }));

  // --ignore-scripts: dist/ is already built, and rebuilding it here would change it under the other tests
  await run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', scratch], { cwd: REPO });
  const tarball = (await readdir(scratch)).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack wrote a tarball');

  const project = join(scratch, 'consumer');
  await run('mkdir', [project]);
  const allowScripts = { evident: true, 'better-sqlite3': true, protobufjs: true };
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', allowScripts }));
  // it compiles the addon: minutes on a loaded machine, more than the default deadline of a test's child
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', join(scratch, tarball)], {
    cwd: project,
    maxBuffer: 16 << 20,
    timeout: 480_000,
  });
  assert.ok(
    existsSync(join(project, 'node_modules', 'evident', 'build', 'Release', 'peercred.node')),
    'the install script built the addon',
  );

  // plain ESM, no TypeScript, no loader: what every subpath exports at run time
  const subpaths = Object.keys(PUBLIC_SURFACE);
  await writeFile(
    join(project, 'consumer.mjs'),
    `const out = {};\nfor (const p of ${JSON.stringify(subpaths)}) out[p] = Object.keys(await import(p)).sort();\nconsole.log(JSON.stringify(out));\n`,
  );
  const { stdout } = await run(process.execPath, ['consumer.mjs'], { cwd: project });
  assert.deepEqual(JSON.parse(stdout), PUBLIC_SURFACE);

  // the declarations resolve through `exports` and type-check a typical use
  await writeFile(
    join(project, 'consumer.ts'),
    [
      "import { verify, formatReport, loadPublicKey, EvidentError, type VerificationReport } from 'evident';",
      "import { collectArtifacts, applyArtifactRules } from 'evident/intoto';",
      "import { SpiffeId } from 'evident/spiffe';",
      "import { IdentityServer } from 'evident/identity/server';",
      "import { Agent } from 'evident/identity/agent';",
      "import { canonicalJson } from 'evident/crypto';",
      "import { parseStatement } from 'evident/attestation';",
      "import { buildImage } from 'evident/oci';",
      "import { imageSbom } from 'evident/sbom';",
      "import { scanBom } from 'evident/scan';",
      'export async function check(layout: unknown): Promise<boolean> {',
      "  const report: VerificationReport = await verify({ layout, layoutKeys: [await loadPublicKey('owner.pub')], linkDir: '.' });",
      "  console.log(formatReport(report), SpiffeId.parse('spiffe://td/x').toString(), canonicalJson({}));",
      '  return report.ok && !(report instanceof EvidentError);',
      '}',
      'export const used = [collectArtifacts, applyArtifactRules, IdentityServer, Agent, parseStatement, buildImage, imageSbom, scanBom];',
      '',
    ].join('\n'),
  );
  const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  const typeRoots = join(REPO, 'node_modules', '@types');
  const flags = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck'];
  const checked = await run(process.execPath, [tsc, ...flags, '--typeRoots', typeRoots, '--types', 'node', 'consumer.ts'], {
    cwd: project,
  }).catch((e: { stdout: string }) => ({ stdout: e.stdout, failed: true }));
  assert.ok(!('failed' in checked), `the consumer type-checks:\n${checked.stdout}`);

  // the CLI the package installs
  const help = await run(join(project, 'node_modules', '.bin', 'evident'), ['--help'], { cwd: project });
  assert.match(help.stdout, /verify/);
});
