import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EvidentError } from '../errors.js';
import { parseOsv, type OsvAdvisory } from './osv.js';

export interface AdvisoryFeed {
  advisories: OsvAdvisory[];
  /** sha256 over the sorted `<sha256 of file>  <file name>` lines: which feed a report was made with. */
  digest: string;
}

/**
 * Loads an OSV feed: every `*.json` file of a folder (subfolders included), one advisory per file.
 * A malformed file, or two files with the same id, is an input error naming the file.
 */
export async function loadAdvisoryFeed(dir: string, displayDir = dir): Promise<AdvisoryFeed> {
  let names: string[];
  try {
    names = (await readdir(dir, { recursive: true })).filter((n) => n.endsWith('.json')).sort();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new EvidentError(
      'BAD_INPUT',
      err.code === 'ENOENT'
        ? 'no such advisory folder'
        : err.code === 'ENOTDIR'
          ? 'advisories must be a folder of OSV JSON files'
          : err.message,
      { file: displayDir },
    );
  }
  const advisories: OsvAdvisory[] = [];
  const seen = new Map<string, string>();
  const listing: string[] = [];
  for (const name of names) {
    const shown = join(displayDir, name);
    const bytes = await readFile(join(dir, name));
    listing.push(`${createHash('sha256').update(bytes).digest('hex')}  ${name}\n`);
    const adv = parseOsv(bytes.toString('utf8'), shown);
    const prior = seen.get(adv.id);
    if (prior !== undefined) throw new EvidentError('BAD_INPUT', `advisory: ${adv.id} is also defined in ${prior}`, { file: shown });
    seen.set(adv.id, shown);
    advisories.push(adv);
  }
  return { advisories, digest: createHash('sha256').update(listing.join('')).digest('hex') };
}
