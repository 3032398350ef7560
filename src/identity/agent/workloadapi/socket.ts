import { connect } from 'node:net';
import { chmod, lstat, mkdir, stat, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { EvidentError } from '../../../errors.js';

/** Where the agent serves the Workload API unless told otherwise. */
export const DEFAULT_SOCKET_PATH = '/tmp/evident-agent/public/api.sock';

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
 * socket), refuses folders another user could swap the socket in, removes a stale socket left by an
 * agent that died, and refuses to touch a path that is not a socket or a socket another agent is serving on.
 */
export async function prepareSocketPath(path: string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  // Whoever may write the folder can replace our socket with their own Workload API (a forged trust
  // bundle for every workload): it must be ours or root's, and not writable by others unless sticky.
  // Every folder above counts too: the owner of any of them can rename the path away and put theirs.
  const me = process.geteuid?.() ?? 0;
  for (let at = resolve(dir); ; at = dirname(at)) {
    const d = await stat(at);
    if (d.uid !== me && d.uid !== 0) {
      throw new EvidentError(
        'ENVIRONMENT',
        `the socket's folder is owned by uid ${d.uid}, not by this agent's user or root; refusing to serve in it`,
        { file: at },
      );
    }
    if ((d.mode & 0o022) !== 0 && (d.mode & 0o1000) === 0) {
      throw new EvidentError(
        'ENVIRONMENT',
        `the socket's folder is writable by other users (mode ${(d.mode & 0o7777).toString(8)}), who could replace the socket; refusing to serve in it`,
        { file: at },
      );
    }
    if (dirname(at) === at) break;
  }
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

/** Any local workload may connect: who it is comes from the kernel, not from file permissions. */
export async function openSocketPermissions(path: string): Promise<void> {
  await chmod(path, 0o777);
}
