import { resolve } from 'node:path';
import { badInput } from '../errors.js';

/**
 * The one reading of a Unix socket named by a person: every socket flag, config key and environment
 * variable (`--socket`, `--admin-socket`, `--spiffe-socket`, `SPIFFE_ENDPOINT_SOCKET`) takes either a path,
 * relative to `cwd`, or a `unix:` URI as the SPIFFE Workload Endpoint spells it (`unix:///abs/path`,
 * `unix:/abs/path`: no authority, query or fragment, an absolute path). Returns the absolute path.
 *
 * @example
 * unixSocketPath('unix:///run/evident/api.sock', '/') // '/run/evident/api.sock'
 * unixSocketPath('api.sock', '/srv')                  // '/srv/api.sock'
 */
export function unixSocketPath(value: string, cwd: string): string {
  if (value === '') throw badInput('the socket is empty: give a path or a unix:///path URI');
  const uri = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/s.exec(value);
  if (uri === null) return resolve(cwd, value);
  const scheme = uri[1]!.toLowerCase();
  let rest = uri[2]!;
  if (scheme !== 'unix') throw badInput(`socket "${value}" must have a "unix" scheme, not "${scheme}" (or be a path)`);
  if (rest.includes('?')) throw badInput(`socket URI "${value}" must not include query values`);
  if (rest.includes('#')) throw badInput(`socket URI "${value}" must not include a fragment`);
  if (rest.startsWith('//')) {
    rest = rest.slice(2);
    if (!rest.startsWith('/')) throw badInput(`socket URI "${value}" must not include an authority component (unix:///path)`);
  }
  if (!rest.startsWith('/') || rest.length < 2) throw badInput(`socket URI "${value}" must name an absolute path (unix:///path)`);
  try {
    return decodeURIComponent(rest);
  } catch {
    throw badInput(`socket URI "${value}" has bad percent-encoding`);
  }
}
