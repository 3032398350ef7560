import { spawn, type ChildProcess } from 'node:child_process';
import { access, appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EvidentError } from '../errors.js';
import { EVIDENT_BIN_DIR, stopProcess } from './evident-process.js';
import { sha256File } from './sha256-file.js';
import { swtpmInstalled } from './swtpm.js';
import { startTpmMachine, type TpmMachine } from './tpm-machine.js';

export const DEMO_TRUST_DOMAIN = 'demo.evident';

/** The demo's X509-SVIDs live this long (an hour by default): less than the demo takes. */
export const DEMO_SVID_TTL_SECONDS = 10;

/** A registration entry: this SPIFFE ID for this user's workloads run by this Node binary on `runner`. */
export interface Registration {
  spiffeId: string;
  runner: string;
}

/** One CI runner: a node agent serving the Workload API on its own socket. */
export interface Runner {
  name: string;
  socket: string;
  agentId: string;
}

/**
 * The identity plane of the demo: one identity server (SQLite in the work folder) and one agent per CI
 * runner, each node-attested with its own join token (with `--tpm`, its own TPM simulator); registration entries give each pipeline identity
 * to workloads of this user running this Node binary, on its runner only.
 */
export class IdentityPlane {
  private readonly processes: ChildProcess[] = [];
  private adminSocket = '';
  private serverAddress = '';
  /** The identity server's RFC 3161 time-stamping authority, which every SVID signature asks for a token. */
  tsaUrl = '';
  readonly runners = new Map<string, Runner>();
  bundlePath = '';
  /** `evident demo --tpm`: each runner's TPM simulator. */
  private readonly tpms: TpmMachine[] = [];
  /** This Node binary's SHA-256, an entry's selector: hashed once. */
  private nodeHash: Promise<string> | undefined;

  /** Set by stop(): from then on a process exiting is expected. */
  private stopping = false;
  /** What a server or agent said as it exited while the demo still needed it; a later use of the plane reports it. */
  private lost: string | undefined;

  /**
   * With `tpm`, each runner attests with a TPM simulator of its own, enrolled in the server's allow-list, instead of a join token.
   * `onExit` hears at once of a server or agent that exits after it was ready (with its last log lines): a step
   * that then fails for want of its Workload API socket would otherwise say only ENOENT.
   */
  constructor(
    private readonly dir: string,
    private readonly options: { tpm?: boolean; onExit?: (line: string) => void } = {},
  ) {}

  /** How the runners' agents attest, for the demo's narration. */
  get attestation(): string {
    return this.options.tpm
      ? "its own TPM (a swtpm simulator), enrolled by its endorsement key's hash in the server's allow-list"
      : 'its own join token';
  }

  /**
   * Starts the server and one agent per runner. `entries` are registered before the agents start, under
   * the agent IDs their attestation will give them, so that each agent's first sync brings them (no wait of
   * a sync interval, as `register` has); resolved once every runner serves its identities.
   */
  async start(runnerNames: readonly string[], entries: readonly Registration[] = []): Promise<void> {
    if (this.options.tpm && !swtpmInstalled())
      throw new EvidentError(
        'ENVIRONMENT',
        'demo --tpm: swtpm is not installed (apt-get install swtpm); without --tpm the demo needs only Node',
      );
    const serverDir = join(this.dir, 'server');
    await mkdir(serverDir, { recursive: true });
    // the machines allowed to attest with their TPM: none yet, each runner's is added before its agent starts
    const allowList = join(this.dir, 'tpm-allowed-hashes');
    if (this.options.tpm) await writeFile(allowList, '# the EK hashes of the runners allowed to attest\n');
    this.adminSocket = join(serverDir, 'admin.sock');
    const ready = await this.spawnUntil(
      'the identity server',
      [
        'server',
        'run',
        '--trust-domain',
        DEMO_TRUST_DOMAIN,
        '--data-dir',
        serverDir,
        '--bind',
        '127.0.0.1:0',
        '--admin-socket',
        this.adminSocket,
        '--tsa-bind',
        '127.0.0.1:0',
        // short-lived on purpose: every SVID that signed is dead by the time the deployer verifies, and
        // the evidence still holds, on the strength of its timestamps
        '--x509-svid-ttl',
        `${DEMO_SVID_TTL_SECONDS}s`,
        ...(this.options.tpm ? ['--tpm-allowed-hashes', allowList] : []),
      ],
      (line) => line.includes('"server ready"'),
    );
    const { bind, tsa_bind } = JSON.parse(ready) as { bind: string; tsa_bind: string };
    this.serverAddress = bind;
    this.tsaUrl = `http://${tsa_bind}/tsa`;
    this.bundlePath = join(this.dir, 'identity-bundle.pem');
    await writeFile(this.bundlePath, (await this.admin('GET', '/v1/bundle?format=pem')) as string);
    for (const e of entries) {
      if (!runnerNames.includes(e.runner)) throw new EvidentError('INTERNAL', `demo: no runner '${e.runner}' for ${e.spiffeId}`);
    }
    const startAgent = async (name: string) => {
      const runnerDir = join(this.dir, 'runners', name);
      await mkdir(runnerDir, { recursive: true });
      const socket = join(runnerDir, 'api.sock');
      const { attest, agentId } = await this.attestationOf(name, runnerDir, allowList);
      const runner = { name, socket, agentId };
      for (const e of entries.filter((e) => e.runner === name)) await this.createEntry(e.spiffeId, runner);
      await this.spawnUntil(
        `the ${name} agent`,
        [
          'agent',
          'run',
          '--server',
          this.serverAddress,
          '--trust-bundle',
          this.bundlePath,
          ...attest,
          '--socket',
          socket,
          '--data-dir',
          runnerDir,
          '--log-level',
          'warn',
        ],
        undefined,
        () =>
          access(socket).then(
            () => true,
            () => false,
          ),
      );
      this.runners.set(name, runner);
      await Promise.all(entries.filter((e) => e.runner === name).map((e) => this.waitForIdentity(e.spiffeId, runner)));
    };
    // the agents attest side by side: each waits mostly for its server round trips
    await Promise.all(runnerNames.map(startAgent));
  }

  /** The agent's flags for attesting, and the ID it will have: a fresh join token, or a TPM enrolled by its EK hash. */
  private async attestationOf(name: string, runnerDir: string, allowList: string): Promise<{ attest: string[]; agentId: string }> {
    if (!this.options.tpm) {
      const { token } = (await this.admin('POST', '/v1/join-tokens', { ttl: 600 })) as { token: string };
      return { attest: ['--join-token', token], agentId: `spiffe://${DEMO_TRUST_DOMAIN}/evident/agent/join_token/${token}` };
    }
    const tpm = await startTpmMachine(join(runnerDir, 'tpm'));
    this.tpms.push(tpm);
    await appendFile(allowList, `${tpm.ekHash}  # ${name}\n`);
    return { attest: ['--tpm', '--tpm-tcti', tpm.tcti], agentId: `spiffe://${DEMO_TRUST_DOMAIN}/evident/agent/tpm/${tpm.ekHash}` };
  }

  /**
   * Registers `spiffeId` for workloads on `runner` that run as this user with this very Node binary:
   * the agent attests both from the kernel (uid) and from the executable's SHA-256.
   */
  async register(spiffeId: string, runner: string): Promise<void> {
    const parent = this.runners.get(runner);
    if (parent === undefined) throw new EvidentError('INTERNAL', `demo: no runner '${runner}'`);
    await this.createEntry(spiffeId, parent);
    await this.waitForIdentity(spiffeId, parent);
  }

  /** `evident server entry create --spiffe-id ID --parent-id AGENT --selector unix:uid:… unix:sha256:…`, through the admin API. */
  private async createEntry(spiffeId: string, parent: Pick<Runner, 'agentId'>): Promise<void> {
    const uid = process.getuid?.() ?? 0;
    this.nodeHash ??= sha256File(process.execPath);
    const selectors = [`unix:uid:${uid}`, `unix:sha256:${await this.nodeHash}`];
    await this.admin('POST', '/v1/entries', { spiffe_id: spiffeId, parent_id: parent.agentId, selectors });
  }

  /**
   * The agent learns of a new entry at its next sync with the server (every few seconds): until it
   * serves the SVID, a step would be refused. This process has the same uid and binary as the steps,
   * so it asks the runner's Workload API itself.
   */
  private async waitForIdentity(spiffeId: string, runner: Runner): Promise<void> {
    const { fetchX509Context } = await import('../spiffe/workloadapi/client.js');
    const deadline = Date.now() + 30_000;
    for (;;) {
      const served = await fetchX509Context({ address: `unix://${runner.socket}`, timeoutMs: 5000 }).then(
        (ctx) => ctx.svids.some((svid) => svid.id.toString() === spiffeId),
        () => false,
      );
      if (served) return;
      if (Date.now() > deadline)
        throw new EvidentError('ENVIRONMENT', `demo: the ${runner.name} agent did not serve ${spiffeId} within 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** The flags `evident run` gets to sign with the SVID this runner issues, time-stamped by the server's TSA. */
  signWith(runner: string): string[] {
    return ['--spiffe-socket', this.socketUri(runner), '--timestamp-server', this.tsaUrl];
  }

  socketUri(runner: string): string {
    this.assertRunning();
    return `unix://${this.runners.get(runner)!.socket}`;
  }

  /** @throws EvidentError ENVIRONMENT naming the server or agent that exited, and what it said last */
  assertRunning(): void {
    if (this.lost !== undefined) throw new EvidentError('ENVIRONMENT', `demo: ${this.lost}`);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.processes.reverse().map(stopProcess));
    // the simulators after the agents using them
    await Promise.all(this.tpms.splice(0).map((t) => t.stop()));
  }

  /**
   * A call to the server's admin API, as `evident server …` makes it: in this process, which is the
   * operator here (a process per call cost the demo more than the calls).
   */
  private async admin(method: string, path: string, body?: unknown): Promise<unknown> {
    const { adminRequest } = await import('../identity/server/api/admin-client.js');
    try {
      return (await adminRequest(this.adminSocket, method, path, body)).body;
    } catch (e) {
      throw new EvidentError('ENVIRONMENT', `demo: the identity server's admin API refused ${method} ${path}: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }

  /** Starts a long-running evident process and waits until a log line (or a probe) says it is ready. */
  private spawnUntil(
    label: string,
    args: string[],
    readyLine?: (line: string) => boolean,
    probe?: () => Promise<boolean>,
  ): Promise<string> {
    const child = spawn(process.execPath, [join(EVIDENT_BIN_DIR, 'evident'), ...args], {
      cwd: this.dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.processes.push(child);
    let log = '';
    const lastLines = () => log.trim().split('\n').slice(-3).join(' | ');
    let ready = false;
    child.once('exit', (code, signal) => {
      if (!ready || this.stopping) return;
      const what = `${label} (evident ${args.slice(0, 2).join(' ')}) exited (${signal ?? `code ${code}`}) after it was ready: ${lastLines() || 'it logged nothing'}`;
      this.lost ??= what;
      this.options.onExit?.(`✗ ${what}`);
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(`did not become ready in 30 s`), 30_000);
      const poll = probe ? setInterval(() => void probe().then((ok) => ok && done('')), 100) : undefined;
      const done = (line: string) => {
        ready = true;
        clearTimeout(timer);
        if (poll) clearInterval(poll);
        resolve(line);
      };
      const fail = (why: string) => {
        clearTimeout(timer);
        if (poll) clearInterval(poll);
        reject(new EvidentError('ENVIRONMENT', `demo: evident ${args.slice(0, 2).join(' ')} ${why}: ${lastLines()}`));
      };
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
        log += chunk;
        if (log.length > 65536) log = log.slice(-32768);
        if (readyLine) for (const line of chunk.split('\n')) if (readyLine(line)) done(line);
      });
      child.once('exit', (code) => fail(`exited with ${code}`));
    });
  }
}
