import { spawn, type ChildProcess } from '../../helpers/child-process.js';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The unprivileged user tests run workloads as (nobody/nogroup). */
export const NOBODY = 65534;

/** A temp dir that a workload running as NOBODY can reach (mkdtemp makes 0700 dirs). */
export async function openTempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dir, 0o755);
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function canSwitchUser(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * A child process that connects to a Unix socket and stays connected until killed. Resolves once it
 * has connected (it prints "connected").
 */
export async function spawnConnector(socketPath: string, as?: { uid: number; gid: number }): Promise<ChildProcess> {
  const code = `const s=require('node:net').connect(process.argv[1]);s.on('connect',()=>process.stdout.write('connected\\n'));s.on('error',(e)=>{process.stderr.write(String(e));process.exit(3)});setInterval(()=>{},60000);`;
  const child = spawn(process.execPath, ['-e', code, socketPath], { stdio: ['ignore', 'pipe', 'pipe'], ...(as ?? {}) });
  await new Promise<void>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`connector to ${socketPath} did not connect within 60 s: ${err}`));
    }, 60_000);
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('connected')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`connector exited with ${code}: ${err}`));
    });
  });
  return child;
}

export function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** The sha256 of a file, as the agent's `unix:sha256` selector gives it. */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}
