/**
 * A time-stamping PKI for the tests of src/time/: a root, an intermediate and a TSA certificate under it
 * (test/helpers/pki.ts makes them), files of them in a scratch folder, and the openssl binary.
 */
import { execFileSync, spawnSync } from '../helpers/child-process.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnConvert } from '../../src/crypto/x509/x509.js';
import { tsp } from '../../src/time/asn1.js';
import { TimestampAuthority, type TimestampAuthorityOptions } from '../../src/time/authority.js';
import { makeIntermediate, makeRoot, makeTsaCert, type CertOptions, type TestCert } from '../helpers/pki.js';

export interface TsaPki {
  root: TestCert;
  intermediate: TestCert;
  tsa: TestCert;
  /** An authority signing with `tsa`, carrying the intermediate. */
  authority(options?: Partial<TimestampAuthorityOptions>): TimestampAuthority;
}

/** A root, an intermediate and a TSA certificate valid around `now` (default: the real now, as openssl checks against it). */
export async function tsaPki(now = new Date(), tsaOptions: CertOptions = {}): Promise<TsaPki> {
  const root = await makeRoot('tsa-test', { now });
  const intermediate = await makeIntermediate(root, 'tsa-test', { now });
  const tsa = await makeTsaCert(intermediate, { now, ...tsaOptions });
  return {
    root,
    intermediate,
    tsa,
    authority: (options = {}) =>
      new TimestampAuthority({ signer: { privateKey: tsa.key.privateKey, chain: [tsa.cert, intermediate.cert] }, ...options }),
  };
}

/** A scratch folder, removed when `t` ends. */
export function scratchDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'evident-tsa-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes the PKI's certificates (`root.pem`, `intermediate.pem`, `tsa.pem`, `tsa-chain.pem`) and key (`tsa.key`) into `dir`. */
export function writePki(dir: string, pki: TsaPki): void {
  writeFileSync(join(dir, 'root.pem'), pki.root.pem);
  writeFileSync(join(dir, 'intermediate.pem'), pki.intermediate.pem);
  writeFileSync(join(dir, 'tsa.pem'), pki.tsa.pem);
  writeFileSync(join(dir, 'tsa-chain.pem'), pki.tsa.pem + pki.intermediate.pem);
  writeFileSync(join(dir, 'tsa.key'), pki.tsa.key.privateKey.export({ format: 'pem', type: 'pkcs8' }));
}

/** Runs openssl in `dir`; throws with its stderr when it fails. */
export function openssl(dir: string, args: string[]): string {
  return execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs openssl in `dir` and says whether it succeeded, with what it printed. */
export function opensslStatus(dir: string, args: string[]): { ok: boolean; output: string } {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

/** The PKIStatusInfo of a DER TimeStampResp. */
export function statusOf(reply: Uint8Array): tsp.PKIStatusInfo {
  return AsnConvert.parse(reply, tsp.TimeStampResp).status;
}

/**
 * The config of openssl's own TSA (`openssl ts -reply -config`), signing with SHA-256 and naming its
 * certificate with ESSCertIDv2 (SHA-256), under `policy`.
 */
export function opensslTsaConfig(dir: string, policy = '1.2.3.4.1'): string {
  writeFileSync(join(dir, 'serial'), '01\n');
  const config = join(dir, 'tsa.cnf');
  writeFileSync(
    config,
    [
      '[ tsa ]',
      'default_tsa = tsa_config',
      '[ tsa_config ]',
      `serial = ${join(dir, 'serial')}`,
      'crypto_device = builtin',
      'signer_digest = sha256',
      `default_policy = ${policy}`,
      'digests = sha256, sha384, sha512',
      'accuracy = secs:1',
      'ordering = no',
      'tsa_name = no',
      'ess_cert_id_chain = no',
      'ess_cert_id_alg = sha256',
      '',
    ].join('\n'),
  );
  return config;
}
