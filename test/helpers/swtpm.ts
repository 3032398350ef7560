/**
 * A real TPM for tests: one swtpm per test (`swtpm socket --tpm2` on two free ports of 127.0.0.1, its state
 * in a scratch folder), and tpm2-tools run against it as the independent implementation evident is
 * checked with. Tests call `skipUnlessSwtpm(t)` so a machine without them says loudly what was not checked
 * (`.ci/run` installs the Debian packages swtpm, swtpm-tools and tpm2-tools).
 */
import { execFile, spawn, type ChildProcess } from './child-process.js';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { canConnect, freePortPair } from '../../src/util/local-ports.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestContext } from 'node:test';
import { Tpm, type Credential, type TpmPublic } from '../../src/tpm/index.js';
import { TpmReader, TpmWriter } from '../../src/tpm/marshal.js';
import { readPublic } from '../../src/tpm/structures.js';

const execFileP = promisify(execFile);

export const SWTPM = '/usr/bin/swtpm';
export const swtpmInstalled = existsSync(SWTPM);
export const tpm2ToolsInstalled = existsSync('/usr/bin/tpm2_createek');
export const swtpmSetupInstalled = existsSync('/usr/bin/swtpm_setup') && existsSync('/usr/bin/swtpm_localca');

/** Marks the test skipped, naming what was not checked, when swtpm (or, with `tools`, tpm2-tools) is absent. */
export function skipUnlessSwtpm(t: TestContext, needs: { tools?: boolean; setup?: boolean } = {}): boolean {
  const missing = [
    ...(swtpmInstalled ? [] : ['swtpm']),
    ...(needs.tools && !tpm2ToolsInstalled ? ['tpm2-tools'] : []),
    ...(needs.setup && !swtpmSetupInstalled ? ['swtpm-tools'] : []),
  ];
  if (missing.length === 0) return false;
  const message = `SKIPPED: ${missing.join(', ')} not installed (apt-get install ${missing.join(' ')}); what needs them was NOT checked`;
  process.stderr.write(`\n*** ${message} ***\n`);
  t.skip(message);
  return true;
}

export interface Swtpm {
  readonly port: number;
  readonly ctrlPort: number;
  /** `swtpm:host=127.0.0.1,port=P`, for evident and for tpm2-tools' -T. */
  readonly tcti: string;
  readonly stateDir: string;
  /** A scratch folder for the test's files, removed with the simulator. */
  readonly work: string;
  /** Opens evident's Tpm on it; closed by stop(). */
  open(): Promise<Tpm>;
  /** Runs a tpm2-tools command against it in `work`; throws with its stderr when it fails. */
  tool(name: string, args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export interface SwtpmOptions {
  /** An existing state folder (from swtpm_setup); else a new one. */
  readonly stateDir?: string;
  /** swtpm's --flags; `not-need-init,startup-clear` by default, a TPM powered on and started; null: none, a TPM powered off. */
  readonly flags?: string | null;
}

/**
 * Starts swtpm on two consecutive free ports (the control channel on the second), retrying when another
 * process took a port between choosing and binding it.
 */
export async function startSwtpm(o: SwtpmOptions = {}): Promise<Swtpm> {
  const work = await mkdtemp(join(tmpdir(), 'evident-tpm-'));
  const stateDir = o.stateDir ?? join(work, 'state');
  if (o.stateDir === undefined) await mkdir(stateDir);
  for (let attempt = 1; ; attempt++) {
    const port = await freePortPair();
    const ctrlPort = port + 1;
    const child = spawn(
      SWTPM,
      [
        'socket',
        '--tpm2',
        '--server',
        `type=tcp,port=${port},bindaddr=127.0.0.1`,
        '--ctrl',
        `type=tcp,port=${ctrlPort},bindaddr=127.0.0.1`,
        '--tpmstate',
        `dir=${stateDir}`,
        ...(o.flags === null ? [] : ['--flags', o.flags ?? 'not-need-init,startup-clear']),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (await listening(child, port)) return swtpm(child, exited, { port, ctrlPort, stateDir, work });
    child.kill('SIGKILL');
    await exited;
    if (attempt === 3) {
      await rm(work, { recursive: true, force: true });
      throw new Error(`swtpm did not start on 127.0.0.1:${port}: ${stderr.trim()}`);
    }
  }
}

async function listening(child: ChildProcess, port: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    if (await canConnect(port)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** Runs a tpm2-tools command (with its own -T) in `cwd`; its stdout, or an error with its stderr. */
export async function tpm2Tool(name: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await execFileP(`/usr/bin/${name}`, args, { cwd, timeout: 30_000 });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${name} ${args.join(' ')}: ${err.stderr?.trim() || err.message}`);
  }
}

function swtpm(child: ChildProcess, exited: Promise<void>, p: { port: number; ctrlPort: number; stateDir: string; work: string }): Swtpm {
  const tcti = `swtpm:host=127.0.0.1,port=${p.port}`;
  const opened: Tpm[] = [];
  return {
    ...p,
    tcti,
    open: async () => {
      const tpm = await Tpm.open(tcti, { timeoutMs: 30_000 });
      opened.push(tpm);
      return tpm;
    },
    tool: (name, args) => tpm2Tool(name, ['-T', tcti, ...args], p.work),
    stop: async () => {
      await Promise.all(opened.map((t) => t.close()));
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      await rm(p.work, { recursive: true, force: true });
    },
  };
}

/**
 * A TPM state with EK certificates, as a manufacturer's: `swtpm_setup --create-ek-cert` with its local CA
 * in `dir` (not the machine's /var/lib/swtpm-localca). Returns the state folder and the CA's folder.
 */
export async function manufactureState(dir: string): Promise<{ stateDir: string; caDir: string }> {
  const stateDir = join(dir, 'state');
  const caDir = join(dir, 'ca');
  const localcaConf = join(dir, 'swtpm-localca.conf');
  const setupConf = join(dir, 'swtpm_setup.conf');
  await mkdir(stateDir);
  await mkdir(caDir);
  await writeFile(
    localcaConf,
    `statedir = ${caDir}\nsigningkey = ${caDir}/signkey.pem\nissuercert = ${caDir}/issuercert.pem\ncertserial = ${caDir}/certserial\n`,
  );
  await writeFile(join(dir, 'swtpm-localca.options'), '--platform-manufacturer evident\n--platform-version 2.1\n--platform-model test\n');
  await writeFile(
    setupConf,
    `create_certs_tool = /usr/bin/swtpm_localca\ncreate_certs_tool_config = ${localcaConf}\ncreate_certs_tool_options = ${join(dir, 'swtpm-localca.options')}\nactive_pcr_banks = sha256\n`,
  );
  await execFileP('/usr/bin/swtpm_setup', ['--tpm2', '--tpmstate', stateDir, '--create-ek-cert', '--config', setupConf], {
    cwd: dir,
    timeout: 60_000,
  });
  return { stateDir, caDir };
}

/** tpm2-tools' credential file (tpm2_makecredential -o, tpm2_activatecredential -i): 0xBADCC0DE, version 1, TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET. */
export function tpm2ToolsCredentialFile(c: Credential): Buffer {
  return new TpmWriter().u32(0xbadcc0de).u32(1).tpm2b(c.idObject).tpm2b(c.encryptedSecret).toBuffer();
}

export function parseTpm2ToolsCredentialFile(file: Buffer): Credential {
  const r = new TpmReader(file, 'tpm2-tools credential file');
  if (r.u32('magic') !== 0xbadcc0de || r.u32('version') !== 1) throw new Error('not a tpm2-tools credential file');
  const idObject = r.tpm2b('TPM2B_ID_OBJECT');
  const encryptedSecret = r.tpm2b('TPM2B_ENCRYPTED_SECRET');
  r.end();
  return { idObject, encryptedSecret };
}

/** A TPM2B_PUBLIC file as tpm2-tools writes it (`-u FILE`, the default tss format). */
export function parseTpm2ToolsPublic(file: Buffer): TpmPublic {
  const r = new TpmReader(file, 'tpm2-tools public file');
  const p = r.sized('TPM2B_PUBLIC', readPublic);
  r.end();
  return p;
}

/** Debian's python3 (the in-toto package brings it): it makes the pseudo-terminal a character-device TPM sits behind. */
export const PYTHON = '/usr/bin/python3';

/**
 * A character-device TPM without root: a pseudo-terminal in raw mode whose master side is swtpm's
 * `chardev --fd` (what swtpm's own tests do), so evident's device transport opens the slave `/dev/pts/N`
 * as it opens /dev/tpmrm0. With `silent`, nothing answers on the master side (python holds it): a TPM
 * that never responds. The process keeps the slave open too, so closing evident's side hangs nothing up.
 */
export async function startCharDevice(o: { silent?: boolean } = {}): Promise<{ path: string; stop(): Promise<void> }> {
  const work = await mkdtemp(join(tmpdir(), 'evident-tpmdev-'));
  const script = [
    'import os, pty, sys, tty, time',
    'm, s = pty.openpty()',
    'tty.setraw(s)',
    'os.set_inheritable(m, True); os.set_inheritable(s, True)',
    'print(os.ttyname(s), flush=True)',
    'if sys.argv[1] == "silent":',
    '    time.sleep(3600)',
    `os.execv("${SWTPM}", ["swtpm", "chardev", "--tpm2", "--fd", str(m), "--tpmstate", "dir=" + sys.argv[2], "--flags", "not-need-init,startup-clear"])`,
  ].join('\n');
  const child = spawn(PYTHON, ['-c', script, o.silent ? 'silent' : 'swtpm', work], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const path = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.once('exit', () => reject(new Error(`could not make a pseudo-terminal TPM: ${stderr.trim()}`)));
  });
  // commands written before swtpm (the same process after execv) reads them wait in the terminal's buffer
  return {
    path,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      await rm(work, { recursive: true, force: true });
    },
  };
}
