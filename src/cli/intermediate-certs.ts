import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { EvidentError } from '../errors.js';

/** A PEM file of intermediates is a few kilobytes; anything this big is not one. */
const MAX_BYTES = 1024 * 1024;

/**
 * The PEM text of `verify --intermediate-certs` files (in-toto-golang's `verify -i`), each checked to hold
 * certificates now, so a bad file is named before verification starts rather than failing a step.
 *
 * @throws EvidentError BAD_INPUT naming the file
 */
export async function readIntermediateCerts(files: readonly string[], cwd: string): Promise<string[]> {
  const { parseCertificatesPem } = await import('../crypto/x509/index.js');
  const out: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      const bytes = await readFile(resolve(cwd, file));
      if (bytes.length > MAX_BYTES) throw new Error(`is ${bytes.length} bytes, more than a certificate file has`);
      text = bytes.toString('utf8');
      parseCertificatesPem(text);
    } catch (e) {
      const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
      throw new EvidentError('BAD_INPUT', `intermediate certificates: ${reason}`, { file });
    }
    out.push(text);
  }
  return out;
}
