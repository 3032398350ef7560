import { badInput, EvidentError } from '../errors.js';
import { readRegularFile } from '../util/regular-file.js';
import { loadPrivateKey } from '../crypto/key-files.js';
import { parseCertificatesPem } from '../crypto/x509/pem.js';
import type { X509Certificate } from '../crypto/x509/x509.js';
import type { TsaSigner } from './token-signer.js';
import { tsaSigner } from './tsa-certificate.js';

/** A certificate chain is a few kilobytes; a larger file is not one. */
const MAX_CHAIN_FILE_BYTES = 1 << 20;

/**
 * The signer of `keyFile` (PEM or securesystemslib private key) and `certFile` (PEM: the TSA
 * certificate, then its intermediates), each error naming its file as `name` gives it.
 */
export async function loadTsaSigner(keyFile: string, certFile: string, name: (file: string) => string = (f) => f): Promise<TsaSigner> {
  const key = await loadPrivateKey(keyFile).catch((e: unknown) => {
    throw named(e, name(keyFile));
  });
  const chain = await loadCertificateChain(certFile).catch((e: unknown) => {
    throw named(e, name(certFile));
  });
  try {
    return tsaSigner(key.keyObject, chain);
  } catch (e) {
    throw named(e, name(certFile));
  }
}

/** The certificates of a PEM file, in order. */
export async function loadCertificateChain(file: string): Promise<X509Certificate[]> {
  const read = await readRegularFile(file, MAX_CHAIN_FILE_BYTES);
  if (read.kind === 'not-regular') throw badInput(read.problem, file);
  if (read.kind === 'too-large') throw badInput(`is larger than ${MAX_CHAIN_FILE_BYTES} bytes, not a certificate chain`, file);
  return parseCertificatesPem(read.bytes.toString('utf8'));
}

/** An error of reading `file`, as one naming it (system errors included: a missing file is the user's input). */
function named(e: unknown, file: string): unknown {
  if (e instanceof EvidentError) return new EvidentError(e.code, e.message, { file, cause: e.cause });
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string' && typeof err.path === 'string') {
    return new EvidentError('BAD_INPUT', err.code === 'ENOENT' ? 'no such file or directory' : err.message, { file, cause: e });
  }
  return e;
}
