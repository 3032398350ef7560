/**
 * Throwaway GnuPG keyrings for the OpenPGP tests: keys made by `gpg --batch --quick-gen-key` with an empty
 * passphrase, in a temporary GNUPGHOME the test removes (and whose gpg-agent it stops) when done.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const gpgInstalled: boolean = spawnSync('gpg', ['--version']).status === 0;

export class GpgHome {
  private constructor(readonly dir: string) {}

  static async create(): Promise<GpgHome> {
    const dir = await mkdtemp(join(tmpdir(), 'evident-gnupg-'));
    return new GpgHome(dir);
  }

  /** Runs gpg on this keyring; returns stdout. */
  gpg(args: string[], input?: string | Buffer): Buffer {
    return execFileSync('gpg', ['--homedir', this.dir, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], {
      input: input ?? '',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  }

  /**
   * A new primary key, its fingerprint. `algo` as gpg names them (rsa2048, ed25519, dsa2048); `usage` `sign`
   * or `cert` (a key that signs only through subkeys); `expire` `never` or a duration (1d); `at` fakes
   * gpg's clock (YYYYMMDDTHHMMSS), for a key made, and expired, in the past.
   */
  generate(uid: string, algo: string, options: { usage?: string; expire?: string; at?: string } = {}): string {
    const faked = options.at !== undefined ? ['--faked-system-time', options.at] : [];
    this.gpg([...faked, '--quick-gen-key', uid, algo, options.usage ?? 'sign', options.expire ?? 'never']);
    return this.fingerprints(uid)[0]!;
  }

  /** Adds a signing subkey to `primary`; returns its fingerprint. */
  addSigningSubkey(primary: string, algo: string, options: { expire?: string; at?: string } = {}): string {
    const faked = options.at !== undefined ? ['--faked-system-time', options.at] : [];
    const before = new Set(this.fingerprints(primary));
    this.gpg([...faked, '--quick-add-key', primary, algo, 'sign', options.expire ?? 'never']);
    return this.fingerprints(primary).find((f) => !before.has(f))!;
  }

  /** Revokes the subkey `subkey` of `primary` (reason 0, no description). */
  revokeSubkey(primary: string, subkey: string): void {
    const index = this.fingerprints(primary).indexOf(subkey);
    this.gpg(['--yes', '--command-fd', '0', '--status-fd', '2', '--edit-key', primary], `key ${index}\nrevkey\ny\n0\n\ny\nsave\n`);
  }

  /** The fingerprints of the key `who` names: the primary key's, then its subkeys', upper-case as gpg prints them. */
  fingerprints(who: string): string[] {
    const out = this.gpg(['--with-colons', '--list-keys', who]).toString('utf8');
    return out
      .split('\n')
      .filter((l) => l.startsWith('fpr:'))
      .map((l) => l.split(':')[9]!);
  }

  /** `gpg --export KEYID`, binary or armored. */
  export(keyid: string, armor = false): Buffer {
    return this.gpg([...(armor ? ['--armor'] : []), '--export', keyid]);
  }

  /** A new keyring with the same keys (secret ones too); with `fakedTime`, a keyring whose gpg lives at that time (gpg.conf). */
  async clone(options: { fakedTime?: string } = {}): Promise<GpgHome> {
    const copy = await GpgHome.create();
    copy.gpg(['--import'], this.gpg(['--export-secret-keys']));
    if (options.fakedTime !== undefined) await writeFile(join(copy.dir, 'gpg.conf'), `faked-system-time ${options.fakedTime}\n`);
    return copy;
  }

  /** Stops this keyring's gpg-agent and removes the folder. */
  async remove(): Promise<void> {
    spawnSync('gpgconf', ['--homedir', this.dir, '--kill', 'gpg-agent']);
    await rm(this.dir, { recursive: true, force: true });
  }
}
