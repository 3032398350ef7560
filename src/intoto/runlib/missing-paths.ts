import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { EvidentError } from '../../errors.js';

/**
 * The paths among `paths` (relative to `base`) that name nothing: missing, or a symlink to nothing.
 * The reference records the step without them and says nothing; a mistyped `-p hello` then yields a
 * link with no product, found out only at verification.
 */
async function missingPaths(paths: readonly string[], base: string): Promise<string[]> {
  const missing: string[] = [];
  for (const path of paths) {
    try {
      await stat(resolve(base, path));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') missing.push(path);
    }
  }
  return missing;
}

/**
 * Refuses material or product paths (relative to `base`) that are not there: one line, naming the first
 * and what the refusal means for the step (`consequence`).
 *
 * @throws EvidentError BAD_INPUT
 */
export async function requirePaths(
  paths: readonly string[],
  base: string,
  role: 'material' | 'product',
  consequence: string,
): Promise<void> {
  const missing = await missingPaths(paths, base);
  if (missing.length > 0) throw missingPathsError(missing, role, consequence);
}

function missingPathsError(missing: readonly string[], role: 'material' | 'product', consequence: string): EvidentError {
  const others = missing.length > 1 ? ` (and ${missing.slice(1).join(', ')})` : '';
  return new EvidentError(
    'BAD_INPUT',
    `this ${role} does not exist${others}: ${consequence}; --allow-missing records the step without it`,
    {
      file: missing[0],
    },
  );
}
