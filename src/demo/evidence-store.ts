import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EvidentError } from '../errors.js';
import type { EvidenceStoreOptions, RunningEvidenceStore } from '../store/server.js';
import { runEvident } from './evident-process.js';

/**
 * Who may upload to the demo's evidence stores, and how an uploader proves it: the one place that says
 * so. Today a bearer token the demo makes, in a file only this user can read, given to the store as its
 * token file and to every uploader with `--store-token-file`.
 *
 * To have the store serve HTTPS with its own SVID and the CI runners upload with theirs (`store serve
 * --spiffe-socket`, `tlsSource` here), the change is here: register an SVID for the store on an agent of
 * its own (every demo workload matches every entry of its runner), add the `tlsSource` of that socket
 * (store/workload-tls.ts) to `serveOptions` (the token file stays, for the developer, who signs with a
 * key), drop the token from the runners' uploads (`evident run --spiffe-socket` presents the SVID that
 * signed the link to an https store) and give the developer and the deployer `--store-ca` with the
 * identity server's bundle.
 */
export class StoreAccess {
  private constructor(private readonly tokenFile: string) {}

  /** A new random token in `dir/upload-token` (0600). */
  static async create(dir: string): Promise<StoreAccess> {
    await mkdir(dir, { recursive: true });
    const tokenFile = join(dir, 'upload-token');
    await writeFile(tokenFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    return new StoreAccess(tokenFile);
  }

  /** What the store is started with to know its uploaders. */
  serveOptions(): Pick<EvidenceStoreOptions, 'tokenFile'> {
    return { tokenFile: this.tokenFile };
  }

  /** What an uploader (`evident run`, `evident store push`) gets besides `--store URL`. */
  uploadFlags(): string[] {
    return ['--store-token-file', this.tokenFile];
  }

  /** The token itself, for the demo's own uploads. */
  async token(): Promise<string> {
    return (await readFile(this.tokenFile, 'utf8')).trim();
  }
}

/** One running evidence store of the demo, SQLite in its own folder. */
export class DemoStore {
  private closed: Promise<void> | undefined;
  /** The digests this process gave it (copy, copyAllTo): not sent twice. */
  private readonly given = new Set<string>();

  constructor(
    private readonly server: RunningEvidenceStore,
    private readonly access: StoreAccess,
  ) {}

  /** `http://127.0.0.1:PORT`. */
  get url(): string {
    return this.server.url;
  }

  /** The flags of an uploader: where, and with which credentials. */
  uploadFlags(): string[] {
    return ['--store', this.url, ...this.access.uploadFlags()];
  }

  /** The flags of a reader (the deployer's `verify`): reads are open. */
  readFlags(): string[] {
    return ['--store', this.url];
  }

  /** The store's page for an artifact (`sha256:HEX`). */
  pageUrl(digest: string): string {
    return `${this.url}/artifacts/${digest}`;
  }

  /** Uploads these files with `evident store push`, as anyone holding the token can; the digests the store answered. */
  async push(files: string[], cwd: string): Promise<string[]> {
    const r = await runEvident(['store', 'push', ...this.uploadFlags(), ...files], cwd);
    if (r.code !== 0) throw new EvidentError('ENVIRONMENT', `demo: evident store push ${files.join(' ')} failed: ${r.stderr.trim()}`);
    return [...r.stdout.matchAll(/^(?:already )?stored (sha256:[0-9a-f]{64}) /gm)].map((m) => m[1]!);
  }

  /**
   * Uploads these files, byte for byte, with the uploaders' token: the demo's own plumbing (an attack's
   * store given the honest links it starts from; the scan runner's attestation after its link), so
   * through the client in this process rather than a process per upload.
   */
  async copy(files: string[]): Promise<void> {
    await this.give(await Promise.all(files.map((file) => readFile(file))));
  }

  /**
   * Everything this store holds, uploaded to `target` as it was uploaded here, byte for byte: the
   * evidence of an attack made against its own store, given to the store a cluster reads. What this
   * process already gave the target is not sent again. How many pieces of evidence this store held.
   */
  async copyAllTo(target: DemoStore): Promise<number> {
    const { StoreClient } = await import('../store/client.js');
    const from = new StoreClient({ url: this.url });
    const items = await from.queryAll({}, 1000);
    const bytes: Buffer[] = [];
    for (const item of items) {
      if (target.given.has(item.digest)) continue;
      const got = await from.get(item.digest);
      if (got !== undefined) bytes.push(got);
    }
    await target.give(bytes);
    return items.length;
  }

  /** How many pieces of evidence it holds. */
  async count(): Promise<number> {
    const { StoreClient } = await import('../store/client.js');
    return (await new StoreClient({ url: this.url }).queryAll({}, 10_000)).length;
  }

  private async give(evidence: readonly Buffer[]): Promise<void> {
    const [{ StoreClient }, { digestOf }] = await Promise.all([import('../store/client.js'), import('../store/digest.js')]);
    const client = new StoreClient({ url: this.url, token: await this.access.token() });
    for (const bytes of evidence) {
      const digest = digestOf(bytes);
      if (this.given.has(digest)) continue;
      this.given.add(digest);
      await client.push(bytes);
    }
  }

  /** Closes it (once: the attack's end and the demo's both ask). */
  stop(): Promise<void> {
    return (this.closed ??= this.server.close());
  }
}

/**
 * The demo's stores, each in `dir/NAME`, all under one StoreAccess: the honest pipeline's, and one for
 * each attack that uploads evidence, so that no attack's evidence is seen by another's verification.
 * They run in the demo's process (a store's start-up is mostly loading its code: once, not once per
 * store). Stops every one it started, and starts none once stopped (one still being started for the
 * next attack when the demo ends).
 */
export class DemoStores {
  private readonly started: Promise<DemoStore>[] = [];
  private access: Promise<StoreAccess> | undefined;
  private stopped = false;

  constructor(private readonly dir: string) {}

  /**
   * `policy`: the layout (and owner key) whose verdict its pages show. Given for a store already started,
   * it is a second server over the same database: the honest store's pages, once the layout exists.
   */
  async start(name: string, policy?: { layout: string; layoutKey: string }): Promise<DemoStore> {
    this.access ??= StoreAccess.create(this.dir);
    const access = await this.access;
    const dataDir = join(this.dir, name);
    await mkdir(dataDir, { recursive: true });
    const { startEvidenceStore } = await import('../store/server.js');
    if (this.stopped) throw new EvidentError('INTERNAL', `demo: the store '${name}' was asked for after the demo stopped`);
    const verdict = policy === undefined ? {} : { layout: policy.layout, layoutKeys: [policy.layoutKey] };
    const store = startEvidenceStore({ dataDir, host: '127.0.0.1', port: 0, ...access.serveOptions(), ...verdict }).then(
      (server) => new DemoStore(server, access),
    );
    this.started.push(store);
    return store;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // one that failed to start has nothing to close
    await Promise.all(this.started.map((s) => s.then((store) => store.stop()).catch(() => undefined)));
  }
}
