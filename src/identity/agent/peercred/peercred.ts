import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { EvidentError } from '../../../errors.js';

/** Who the kernel says is on the other end of a Unix socket, as of its `connect()`. */
export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

/** The native addon's functions (src/identity/agent/peercred/peercred.c). */
export interface PeercredAddon {
  getPeerCred(fd: number): PeerCredentials;
  /** A pidfd for the connecting process (SO_PEERPIDFD), or null when the kernel cannot give one. */
  getPeerPidfd(fd: number): number | null;
  pidfdOpen(pid: number): number;
  pidfdIsAlive(pidfd: number): boolean;
}

const ADDON_RELATIVE = join('build', 'Release', 'peercred.node');

/**
 * The package root holds build/Release/ (node-gyp's output); this module runs from
 * src/identity/agent/peercred (tsx) or dist/identity/agent/peercred (compiled), so walk up to it.
 */
export function peercredAddonPath(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, ADDON_RELATIVE);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

let loaded: PeercredAddon | undefined;

/**
 * Loads the addon once. Only the agent needs it, so it is loaded on first use and the rest of the CLI
 * works without it. Throws an ENVIRONMENT EvidentError saying how to build it when it is missing.
 */
export function loadPeercred(): PeercredAddon {
  loaded ??= loadAddonAt(peercredAddonPath());
  return loaded;
}

/** Loads the addon from `path` (undefined: not found). Separate from the cache so tests can load a missing one. */
export function loadAddonAt(path: string | undefined): PeercredAddon {
  if (process.platform !== 'linux') {
    throw new EvidentError(
      'UNSUPPORTED',
      `peercred: reading a Unix socket peer's credentials is implemented for Linux only (this is ${process.platform})`,
    );
  }
  if (path === undefined || !existsSync(path)) {
    throw new EvidentError(
      'ENVIRONMENT',
      `peercred: the native addon ${ADDON_RELATIVE} is missing; build it in the package root with "npx node-gyp rebuild" (npm install runs it)`,
    );
  }
  try {
    return createRequire(import.meta.url)(path) as PeercredAddon;
  } catch (e) {
    throw new EvidentError(
      'ENVIRONMENT',
      `peercred: cannot load ${path}: ${(e as Error).message}; rebuild it with "npx node-gyp rebuild"`,
      { cause: e },
    );
  }
}

/** The file descriptor of a connected socket (Node keeps it on the libuv handle). */
export function socketFd(socket: Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0)
    throw new EvidentError('INTERNAL', 'peercred: the socket has no file descriptor (closed, or not a Unix socket)');
  return fd;
}

/** SO_PEERCRED of a connected Unix socket. */
export function getPeerCred(socket: Socket | number): PeerCredentials {
  return loadPeercred().getPeerCred(typeof socket === 'number' ? socket : socketFd(socket));
}
