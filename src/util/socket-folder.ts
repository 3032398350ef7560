import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { EvidentError } from '../errors.js';

/**
 * Refuses to serve a socket in `dir` when another user could swap it for their own: whoever may write the
 * folder can replace the socket (a forged Workload API, a fake admin API that collects join tokens), so it
 * must be ours or root's and not writable by others unless sticky. Every folder above counts too: the owner
 * of any of them can rename the path away and put theirs. Shared by the agent's Workload API socket and the
 * server's admin socket, both of which default to a folder under /tmp.
 */
export async function checkSocketFolder(dir: string): Promise<void> {
  const me = process.geteuid?.() ?? 0;
  for (let at = resolve(dir); ; at = dirname(at)) {
    const d = await stat(at);
    if (d.uid !== me && d.uid !== 0) {
      throw new EvidentError(
        'ENVIRONMENT',
        `the socket's folder is owned by uid ${d.uid}, not by this process's user or root; refusing to serve in it`,
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
}
