/**
 * `npm run bench -- gpg [--artifacts=N] [--rounds=N]`: how long checking one link's signature takes, by key
 * kind, over the same canonical bytes (a link of N artifacts per list, 10 000 by default, and a link of one):
 *   - evident, ed25519 (securesystemslib key, `sig` hex): the peer inside evident;
 *   - evident, OpenPGP EdDSA and RSA-2048 keys (the reference's `other_headers` form, checked from the dict);
 *   - the reference, securesystemslib.gpg.functions.verify_signature on the same signatures and dicts.
 * Keys come from a throwaway gpg keyring; gpg signs. Each figure is the median of `--rounds` checks (default 200).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJsonBytes } from '../src/crypto/canonical-json.js';
import { exportGpgKey, gpgDetachSign } from '../src/crypto/gpg/gpg-binary.js';
import { GpgPublicKey } from '../src/crypto/gpg/public-key.js';
import { generatePrivateKey } from '../src/crypto/key-files.js';
import { verifySignedBytes } from '../src/intoto/models/metablock.js';
import type { MetablockSignature } from '../src/intoto/models/types.js';
import type { PublicKey } from '../src/crypto/keys.js';
import { numberFlag } from './_flags.js';

const REFERENCE_PYTHON = '/usr/bin/python3';

export default async function bench(flags: string[]): Promise<void> {
  const n = numberFlag(flags, '--artifacts', { whole: true }) ?? 10_000;
  const rounds = numberFlag(flags, '--rounds', { whole: true }) ?? 200;
  const home = mkdtempSync(join(tmpdir(), 'evident-bench-gnupg-'));
  try {
    const gpg = (args: string[]) =>
      execFileSync('gpg', ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], { stdio: 'pipe' });
    gpg(['--quick-gen-key', 'Bench EdDSA <eddsa@bench>', 'ed25519', 'sign', 'never']);
    gpg(['--quick-gen-key', 'Bench RSA <rsa@bench>', 'rsa2048', 'sign', 'never']);
    const ed25519 = generatePrivateKey('ed25519');
    process.stdout.write(`per check, median of ${rounds}; evident in this process, the reference in python3\n`);
    for (const artifacts of [1, n]) {
      const bytes = canonicalJsonBytes(link(artifacts));
      const rows: [string, PublicKey, MetablockSignature][] = [
        ['ed25519 (securesystemslib)', ed25519.publicKey, { keyid: ed25519.keyid, sig: ed25519.sign(bytes) }],
      ];
      const referenceCases: { dict: unknown; signature: unknown }[] = [];
      for (const who of ['eddsa@bench', 'rsa@bench']) {
        const fingerprint = listFingerprint(home, who);
        const dict = exportGpgKey(fingerprint, { homedir: home }).dict;
        const signature = gpgDetachSign(bytes, fingerprint, { homedir: home });
        rows.push([`OpenPGP ${dict.type === 'rsa' ? 'RSA-2048' : 'EdDSA'}`, GpgPublicKey.fromGpgDict(dict), signature]);
        referenceCases.push({ dict, signature });
      }
      const reference = referenceTimes(bytes, referenceCases, rounds);
      process.stdout.write(`link of ${artifacts} artifact${artifacts === 1 ? '' : 's'} per list (${bytes.length} bytes):\n`);
      const times = rows.map(([name, key, signature]) =>
        median(rounds, () => {
          if (!verifySignedBytes(bytes, [signature], key)) throw new Error(`${name}: the signature does not verify`);
        }),
      );
      rows.forEach(([name], i) => {
        const us = times[i]!;
        const ratio = i === 0 ? '' : `   ${(us / times[0]!).toFixed(2)}× ed25519`;
        const ref = reference[i - 1];
        const peer = i > 0 && ref !== undefined ? `   reference ${fmt(ref)} (${(ref / us).toFixed(1)}× evident's)` : '';
        process.stdout.write(`  ${name.padEnd(28)} ${fmt(us)}${ratio}${peer}\n`);
      });
    }
  } finally {
    spawnSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent']);
    rmSync(home, { recursive: true, force: true });
  }
}

function link(artifacts: number): object {
  const list = (prefix: string) =>
    Object.fromEntries(
      Array.from({ length: artifacts }, (_, i) => [`${prefix}/file-${i}.c`, { sha256: i.toString(16).padStart(64, '0') }]),
    );
  return {
    _type: 'link',
    name: 'build',
    command: ['make'],
    byproducts: {},
    environment: {},
    materials: list('src'),
    products: list('out'),
  };
}

function listFingerprint(home: string, who: string): string {
  const out = execFileSync('gpg', ['--homedir', home, '--with-colons', '--list-keys', who], { stdio: 'pipe' }).toString('utf8');
  return out
    .split('\n')
    .find((l) => l.startsWith('fpr:'))!
    .split(':')[9]!;
}

/** Microseconds per call, the median of `rounds` calls (after a few to warm up). */
function median(rounds: number, fn: () => void): number {
  for (let i = 0; i < 5; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** The reference's verify_signature on each case, microseconds per call (median), or nothing without the reference. */
function referenceTimes(bytes: Buffer, cases: { dict: unknown; signature: unknown }[], rounds: number): number[] {
  const code = [
    'import json, sys, time',
    'from securesystemslib.gpg.functions import verify_signature',
    'cases = json.loads(sys.argv[1]); rounds = int(sys.argv[2]); data = sys.stdin.buffer.read(); out = []',
    'for c in cases:',
    '  ts = []',
    '  for i in range(rounds + 5):',
    '    t = time.perf_counter(); ok = verify_signature(dict(c["signature"]), c["dict"], data); ts.append(time.perf_counter() - t)',
    '    assert ok',
    '  ts = sorted(ts[5:]); out.append(ts[len(ts) // 2] * 1e6)',
    'print(json.dumps(out))',
  ].join('\n');
  const r = spawnSync(REFERENCE_PYTHON, ['-c', code, JSON.stringify(cases), String(rounds)], { input: bytes });
  if (r.status !== 0) return [];
  return JSON.parse(r.stdout.toString('utf8')) as number[];
}

function fmt(us: number): string {
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} µs`;
}
