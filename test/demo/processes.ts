import { readdir, readFile } from 'node:fs/promises';

/**
 * The processes whose command line mentions `text` (a work folder: every server, agent and store the
 * demo starts is given a path in it), as `PID: command line`. Linux only: /proc.
 */
export async function processesMentioning(text: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    // a process may end between the listing and the read
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(text)) found.push(`${pid}: ${cmdline.replaceAll('\0', ' ').trim()}`);
  }
  return found;
}

/** Whether anything answers on this URL's port (a stopped server's port refuses the connection). */
export async function answers(url: string): Promise<boolean> {
  return fetch(url).then(
    () => true,
    () => false,
  );
}
