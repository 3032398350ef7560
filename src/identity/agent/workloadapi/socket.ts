import { connect, createServer } from 'node:net';
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EvidentError } from '../../../errors.js';
import { DEFAULT_WORKLOAD_API_SOCKET } from '../../../spiffe/workloadapi/default-socket.js';
import { checkSocketFolder } from '../../../util/socket-folder.js';

/** Where the agent serves the Workload API unless told otherwise: where its clients look when told nothing. */
export const DEFAULT_SOCKET_PATH = DEFAULT_WORKLOAD_API_SOCKET;

/** Whether something accepts connections on the Unix socket at `path`. */
export function socketInUse(path: string, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (v: boolean): void => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(timeoutMs, () => done(true));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/**
 * Readies `path` for listening: creates its parent folders (0755, so any workload can reach the
 * socket), refuses folders another user could swap the socket in (util/socket-folder.ts), removes a stale
 * socket left by an agent that died, and refuses to touch a path that is not a socket or a socket another
 * agent is serving on.
 */
export async function prepareSocketPath(path: string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await checkSocketFolder(dir);
  let st;
  try {
    st = await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (!st.isSocket()) throw new EvidentError('BAD_INPUT', 'exists and is not a socket; refusing to replace it', { file: path });
  if (await socketInUse(path))
    throw new EvidentError('ENVIRONMENT', 'another process is serving on this socket (is an agent already running?)', { file: path });
  await unlink(path);
}

/**
 * Whether the agent will be able to serve on `path`, found out before it spends anything that cannot be
 * had twice (a join token is single-use): the checks of prepareSocketPath, then a listen on the path and a
 * close, so a folder it cannot create or write, or a path too long for a socket, fails now, in one line.
 */
export async function checkSocketUsable(path: string): Promise<void> {
  try {
    await prepareSocketPath(path);
    await new Promise<void>((resolve, reject) => {
      const probe = createServer();
      probe.once('error', reject);
      probe.listen(path, () => probe.close(() => resolve()));
    });
  } catch (e) {
    if (e instanceof EvidentError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new EvidentError('ENVIRONMENT', `cannot serve the Workload API here: ${err.code ?? err.message}`, { file: path, cause: e });
  }
}

/** Any local workload may connect: who it is comes from the kernel, not from file permissions. */
export async function openSocketPermissions(path: string): Promise<void> {
  await chmod(path, 0o777);
}
