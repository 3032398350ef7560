import { EvidentError } from '../errors.js';

/**
 * `HOST:PORT` (`[::1]:3161` for an IPv6 address) as a host and a port: every listening address a setting
 * names (`--bind`, `--tsa-bind`), checked when the setting is read rather than when the listener starts.
 * `name` is the setting's, for the message.
 *
 * @throws EvidentError BAD_USAGE when it is not one
 */
export function parseHostPort(bind: string, name = 'bind'): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(bind);
  const port = Number(m?.[3]);
  if (m === null || port > 65535) throw new EvidentError('BAD_USAGE', `${name} address '${bind}' is not HOST:PORT`);
  return { host: m[1] ?? m[2]!, port };
}

/** A host and a port as an address is written: `[::1]:3161` for an IPv6 address. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
