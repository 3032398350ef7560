import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Compiles a benchmark file and the library it imports with tsc into `buildDir`, so the measured child
 * starts as shipped code does (no tsx: under tsx every hashing thread would first compile its sources).
 * The output sits beside a symlink to the repo's node_modules, so package imports resolve. `extra` names
 * entries loaded by URL rather than imported (a worker's script). Returns the compiled benchmark file.
 */
export function compileBenchChild(benchFile: string, buildDir: string, extra: string[] = []): string {
  rmSync(buildDir, { recursive: true, force: true });
  mkdirSync(buildDir, { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(buildDir, 'node_modules'));
  writeFileSync(join(buildDir, 'package.json'), '{"type":"module"}');
  const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = ['--outDir', join(buildDir, 'out'), '--rootDir', REPO, '--module', 'NodeNext', '--moduleResolution', 'NodeNext'];
  args.push('--target', 'ES2022', '--lib', 'ES2023', '--types', 'node', '--skipLibCheck', '--strict', benchFile, ...extra);
  execFileSync(process.execPath, [tsc, ...args], { cwd: REPO, stdio: 'inherit' });
  return join(buildDir, 'out', 'bench', basename(benchFile).replace(/\.ts$/, '.js'));
}
