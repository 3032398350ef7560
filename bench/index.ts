/**
 * Runs the benchmarks named on the command line (`npm run bench -- record verify`), or all of them but
 * the soak (`identity-soak` runs for minutes with processes killed on purpose: only when named).
 * Each benchmark is a file `bench/<name>.ts` whose default export runs it and prints its own ratios
 * against a peer measured in the same run.
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'index.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort();

const args = process.argv.slice(2);
const names = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
// `identity` runs both identity benchmarks; run on its own, the whole set would run them twice
const ONLY_WHEN_NAMED = new Set(['identity', 'identity-soak']);
const chosen = names.length > 0 ? names : available.filter((n) => !ONLY_WHEN_NAMED.has(n));
if (names.length === 0) process.stdout.write(`bench: all but ${[...ONLY_WHEN_NAMED].join(', ')} (name them to run them)\n`);
for (const name of chosen) {
  if (!available.includes(name)) {
    process.stderr.write(`bench: no benchmark '${name}' (have: ${available.join(', ')})\n`);
    process.exitCode = 2;
    continue;
  }
  const mod = (await import(`./${name}.ts`)) as { default: (flags: string[]) => Promise<void> };
  process.stdout.write(`\n== bench ${name}\n`);
  try {
    await mod.default(flags);
  } catch (e) {
    // a benchmark that cannot run says why in one line; the others still run
    process.stderr.write(`bench ${name}: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
