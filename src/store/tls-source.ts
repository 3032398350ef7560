import { readFile } from 'node:fs/promises';
import type { SecureContextOptions } from 'node:tls';
import { EvidentError } from '../errors.js';
import type { UploaderBundle } from './auth.js';

/** What the store serves HTTPS with at one moment, and whose client X509-SVIDs may write then. */
export interface StoreTls {
  /** The certificate chain (PEM, leaf first) and its private key (PEM). */
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** The CAs a client certificate is asked for under and judged by; undefined: none is asked for. */
  readonly uploaders: UploaderBundle | undefined;
}

/**
 * Where the store's TLS comes from when it changes while the store runs: the workload's X509-SVID from
 * the Workload API (workload-tls.ts), which the agent renews before it expires. The store takes every
 * new one for new connections without a restart. Fixed files (`--tls-cert/--tls-key`) are one StoreTls
 * for good (readTlsFiles).
 */
export interface StoreTlsSource {
  /** Waits for the first; throws an EvidentError (ENVIRONMENT: exit 3) when none comes in time. */
  first(): Promise<StoreTls>;
  /** Tells `listener` of each later one, in order. */
  onChange(listener: (tls: StoreTls) => void): void;
  /** Stops watching; the store calls it when it closes or fails to start. */
  close(): void;
}

/** `--tls-cert` and `--tls-key`, read once; an unreadable one is a usage error naming the file. */
export async function readTlsFiles(certFile: string, keyFile: string, uploaders: UploaderBundle | undefined): Promise<StoreTls> {
  const read = async (file: string, what: string) => {
    try {
      return await readFile(file);
    } catch (e) {
      throw new EvidentError('BAD_USAGE', `cannot read the ${what}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
        file,
      });
    }
  };
  return { cert: await read(certFile, 'TLS certificate'), key: await read(keyFile, 'TLS key'), uploaders };
}

/** The part of Node's TLS server options that changes with a StoreTls (`server.setSecureContext`). */
export function secureContextOf(tls: StoreTls): SecureContextOptions {
  return { cert: tls.cert, key: tls.key, ...(tls.uploaders !== undefined ? { ca: tls.uploaders.pem } : {}) };
}

/**
 * The options of the store's HTTPS server. A client certificate is asked for, not required: token
 * holders and readers connect without one, and whether a presented one may write is decided per request
 * (UploaderBundle.callerOf).
 */
export function httpsOptionsOf(tls: StoreTls): SecureContextOptions & { requestCert?: boolean; rejectUnauthorized?: boolean } {
  return { ...secureContextOf(tls), ...(tls.uploaders !== undefined ? { requestCert: true, rejectUnauthorized: false } : {}) };
}
