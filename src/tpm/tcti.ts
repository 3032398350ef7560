/**
 * TCTI configuration strings as tpm2-tools writes them (`-T`, TPM2TOOLS_TCTI): `NAME:CONFIG`.
 *
 * - `device:/dev/tpmrm0` (the default, also `device` or an empty string): a TPM character device; the
 *   kernel resource manager `/dev/tpmrm0` is the one to use, as it flushes what a process leaves loaded.
 * - `swtpm:host=127.0.0.1,port=2321` (both optional, in any order): swtpm's TCP server; its control
 *   channel is the next port.
 *
 * Other TCTIs (tabrmd, mssim, libtpms) are refused by name rather than guessed at.
 */
import { EvidentError } from '../errors.js';

export const DEFAULT_DEVICE = '/dev/tpmrm0';
export const DEFAULT_SWTPM_PORT = 2321;

export type Tcti =
  { readonly kind: 'device'; readonly path: string } | { readonly kind: 'swtpm'; readonly host: string; readonly port: number };

export function parseTcti(config: string | undefined, setting = 'TCTI'): Tcti {
  const text = (config ?? '').trim();
  const colon = text.indexOf(':');
  const name = colon < 0 ? text : text.slice(0, colon);
  const rest = colon < 0 ? '' : text.slice(colon + 1);
  const bad = (problem: string): EvidentError => new EvidentError('BAD_USAGE', `${setting} '${text}': ${problem}`);
  if (name === '' || name === 'device') {
    if (rest !== '' && !rest.startsWith('/')) throw bad('the device is an absolute path, e.g. device:/dev/tpmrm0');
    return { kind: 'device', path: rest === '' ? DEFAULT_DEVICE : rest };
  }
  if (name === 'swtpm') {
    let host = '127.0.0.1';
    let port = DEFAULT_SWTPM_PORT;
    for (const pair of rest === '' ? [] : rest.split(',')) {
      const eq = pair.indexOf('=');
      const key = pair.slice(0, eq < 0 ? pair.length : eq);
      const value = eq < 0 ? '' : pair.slice(eq + 1);
      if (key === 'host' && /^[A-Za-z0-9.:-]+$/.test(value)) host = value;
      else if (key === 'port' && /^\d{1,5}$/.test(value) && Number(value) >= 1 && Number(value) <= 65535) port = Number(value);
      else if (key === 'host' || key === 'port') throw bad(`'${pair}' is not a valid ${key}`);
      else throw bad(`unknown option '${key}' (swtpm takes host= and port=)`);
    }
    return { kind: 'swtpm', host, port };
  }
  throw bad(`unsupported TCTI '${name}' (evident speaks device:PATH and swtpm:host=HOST,port=PORT)`);
}

export function formatTcti(t: Tcti): string {
  return t.kind === 'device' ? `device:${t.path}` : `swtpm:host=${t.host},port=${t.port}`;
}
