import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { canConnect, freePortPair } from '../util/local-ports.js';
import { EvidentError } from '../errors.js';

/** Debian's swtpm (the package swtpm): a TPM 2.0 simulator, one process per simulated machine. */
export const SWTPM = '/usr/bin/swtpm';

export function swtpmInstalled(): boolean {
  return existsSync(SWTPM);
}

/** A running simulator: the TCTI that reaches it (`swtpm:host=127.0.0.1,port=P`, what `agent run --tpm-tcti` takes). */
export interface SimulatedTpm {
  readonly tcti: string;
  stop(): Promise<void>;
}

/**
 * Starts `swtpm socket --tpm2` on 127.0.0.1 with its state in `stateDir` (created if absent; the same
 * folder gives the same TPM, hence the same EK, again), powered on and started, its control channel on
 * the next port. Ports are picked free and taken by swtpm a moment later, so another process may take one
 * between the two: then it tries other ports.
 */
export async function startSimulatedTpm(stateDir: string): Promise<SimulatedTpm> {
  if (!swtpmInstalled()) throw new EvidentError('ENVIRONMENT', `TPM simulator: ${SWTPM} is not installed (apt-get install swtpm)`);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  let stderr = '';
  for (let attempt = 1; attempt <= 5; attempt++) {
    const port = await freePortPair();
    const child = spawn(
      SWTPM,
      [
        'socket',
        '--tpm2',
        '--server',
        `type=tcp,port=${port},bindaddr=127.0.0.1`,
        '--ctrl',
        `type=tcp,port=${port + 1},bindaddr=127.0.0.1`,
        '--tpmstate',
        `dir=${stateDir}`,
        '--flags',
        'not-need-init,startup-clear',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    };
    for (let i = 0; i < 100 && child.exitCode === null && child.signalCode === null; i++) {
      if (await canConnect(port)) return { tcti: `swtpm:host=127.0.0.1,port=${port}`, stop };
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    await exited;
  }
  throw new EvidentError('ENVIRONMENT', `TPM simulator: swtpm did not start: ${stderr.trim() || 'it never listened'}`);
}
