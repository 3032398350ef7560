import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { EvidentError } from '../../../errors.js';
import { openssl, parseCertificateDer, pemCertificates, verifyCertificateChain, X509ChainError } from '../../../crypto/x509/index.js';
import type { X509Certificate } from '../../../crypto/x509/x509.js';
import { objectAttributeNames, TPMA_OBJECT } from '../../../tpm/constants.js';
import { publicKeySha256, publicKeySpki, publicName } from '../../../tpm/public-key.js';
import { parsePublic, type TpmPublic } from '../../../tpm/structures.js';
import { parseTpmPayload, tpmChallenge, TPM_TYPE } from '../../common/index.js';
import type { Selector } from '../../proto/selector.js';
import type { Clock } from '../../../util/clock.js';
import { ActivationChallenge } from './tpm-activation.js';
import { TpmAllowList } from './tpm-allow-list.js';
import { AttestationError, type AttestationResult, type ChallengeChannel, type NodeAttestor } from './types.js';

/** What an EK must be: the TCG templates' restricted decryption key, bound to its TPM. */
const EK_REQUIRED = TPMA_OBJECT.fixedtpm | TPMA_OBJECT.fixedparent | TPMA_OBJECT.restricted | TPMA_OBJECT.decrypt;
/** What an AK must be: a restricted signing key that never leaves the TPM (tpm2_createak's). */
const AK_REQUIRED = TPMA_OBJECT.fixedtpm | TPMA_OBJECT.fixedparent | TPMA_OBJECT.restricted | TPMA_OBJECT.sign;

/** The manufacturers' CAs an EK certificate must chain to (`--tpm-ek-ca-bundle`). */
export interface EkCaBundle {
  readonly file: string;
  readonly roots: readonly X509Certificate[];
}

export interface TpmAttestorOptions {
  readonly clock: Clock;
  readonly ekCaBundle?: EkCaBundle;
  readonly allowList?: TpmAllowList;
  /** How long the agent has to answer the activation challenge (ms). */
  readonly activationDeadlineMs?: number;
}

/**
 * TPM 2.0 node attestation: the machine is the one whose endorsement key hashes to the agent ID's last
 * segment, `spiffe://td/evident/agent/tpm/<sha256 of the EK's DER SubjectPublicKeyInfo>`. The agent sends
 * the EK's public area (and its certificate, when the TPM has one), and an attestation key (AK) it made
 * under the EK. The server checks them: the hash against `--tpm-allowed-hashes`, the certificate against
 * `--tpm-ek-ca-bundle`, the AK's attributes; then sends a credential only that TPM can open, and only for
 * a key of the AK's name (MakeCredential), and checks the secret that comes back (ActivationChallenge).
 *
 * Without an allow-list or a CA bundle any EK attests, under its own ID: entries name the machines they
 * trust by their hash (`tpm:pub_hash`, or the agent ID as parent), so a key made up for the occasion gets
 * an ID nothing is registered for. The certificate's selectors are given only when it chains to the
 * bundle: an unchecked certificate claims any issuer.
 */
export class TpmAttestor implements NodeAttestor {
  readonly type = TPM_TYPE;

  constructor(private readonly o: TpmAttestorOptions) {}

  /** The attestor from its settings: the CA bundle (PEM) and the allow-list, each optional. */
  static async fromFiles(o: { ekCaBundle?: string; allowList?: string; clock: Clock }): Promise<TpmAttestor> {
    return new TpmAttestor({
      clock: o.clock,
      ...(o.ekCaBundle !== undefined ? { ekCaBundle: await loadEkCaBundle(o.ekCaBundle) } : {}),
      ...(o.allowList !== undefined ? { allowList: await TpmAllowList.load(o.allowList) } : {}),
    });
  }

  async attest(payload: Buffer, channel: ChallengeChannel): Promise<AttestationResult> {
    const { ek, ak, akName, certificate } = parse(payload);
    const hash = publicKeySha256(ek);
    if (this.o.allowList !== undefined && !(await this.o.allowList.allows(hash)))
      throw new AttestationError(`tpm: the TPM whose EK hashes to ${hash} is not in this server's allow-list (--tpm-allowed-hashes)`);
    const certSelectors = this.checkCertificate(certificate, ek);
    checkAk(ak);
    const { challenge, credential } = ActivationChallenge.issue(ek, akName, this.o.clock, this.o.activationDeadlineMs);
    challenge.check(await channel.challenge(tpmChallenge(credential)));
    return { agentIdSuffix: hash, selectors: [{ type: TPM_TYPE, value: `pub_hash:${hash}` }, ...certSelectors], canReattest: true };
  }

  /**
   * The certificate must certify the EK sent; with a CA bundle it must be there and chain to it, and only
   * then does it give selectors.
   */
  private checkCertificate(der: Buffer | undefined, ek: TpmPublic): Selector[] {
    const bundle = this.o.ekCaBundle;
    if (der === undefined) {
      if (bundle === undefined) return [];
      throw new AttestationError(
        "tpm: the TPM has no EK certificate in NV, and this server accepts only EKs certified by its TPM manufacturers' CAs (--tpm-ek-ca-bundle)",
      );
    }
    let cert: X509Certificate;
    try {
      cert = parseCertificateDer(der);
    } catch (e) {
      throw new AttestationError(`tpm: the EK certificate cannot be parsed: ${(e as Error).message}`);
    }
    if (!sameKey(publicKeySpki(ek), Buffer.from(cert.publicKey.rawData)))
      throw new AttestationError('tpm: the EK certificate certifies another key than the EK sent');
    if (bundle === undefined) return [];
    try {
      verifyCertificateChain(cert, { roots: bundle.roots, time: new Date(this.o.clock.now()) });
    } catch (e) {
      if (!(e instanceof X509ChainError)) throw e;
      throw new AttestationError(
        `tpm: the EK certificate does not chain to this server's TPM manufacturers' CAs (--tpm-ek-ca-bundle): ${e.message}`,
      );
    }
    const selectors: Selector[] = [];
    const cn = cert.issuerName.getField('CN')[0];
    if (cn !== undefined && cn !== '') selectors.push({ type: TPM_TYPE, value: `ek_cert_issuer_cn:${cn}` });
    selectors.push({ type: TPM_TYPE, value: `ek_cert_serial:${openssl(cert).serialNumber.toLowerCase()}` });
    return selectors;
  }
}

/** The CA certificates of a PEM file; every certificate in it is a trust anchor (manufacturers' intermediates too). */
export async function loadEkCaBundle(file: string): Promise<EkCaBundle> {
  const ders = pemCertificates(await readFile(file, 'utf8'));
  if (ders.length === 0) throw new EvidentError('BAD_INPUT', 'no PEM certificate in the TPM EK CA bundle', { file });
  try {
    return { file, roots: ders.map((d) => parseCertificateDer(d)) };
  } catch (e) {
    throw new EvidentError('BAD_INPUT', `TPM EK CA bundle: ${(e as Error).message}`, { file, cause: e });
  }
}

function parse(payload: Buffer): { ek: TpmPublic; ak: TpmPublic; akName: Buffer; certificate: Buffer | undefined } {
  try {
    const p = parseTpmPayload(payload);
    const ek = parsePublic(p.ekPublic, 'the EK public area');
    const ak = parsePublic(p.akPublic, 'the AK public area');
    checkEk(ek);
    publicKeySpki(ek); // a point off the curve, a modulus that is no key: refused here, not while hashing
    return { ek, ak, akName: publicName(p.akPublic), certificate: p.ekCertificate };
  } catch (e) {
    if (e instanceof AttestationError || !(e instanceof EvidentError)) throw e;
    throw new AttestationError(`tpm payload is malformed: ${e.message}`);
  }
}

function missing(attributes: number, required: number): string[] {
  return objectAttributeNames(required & ~attributes);
}

function checkEk(ek: TpmPublic): void {
  const absent = missing(ek.objectAttributes, EK_REQUIRED);
  if (absent.length > 0 || (ek.objectAttributes & TPMA_OBJECT.sign) !== 0)
    throw new AttestationError(
      `tpm: the key sent as the EK is not an endorsement key (a restricted decryption key fixed to its TPM): ${describe(ek.objectAttributes, absent)}`,
    );
}

/** The AK must be a restricted signing key fixed to its TPM and parent, or the TPM could be made to sign anything with it. */
function checkAk(ak: TpmPublic): void {
  const absent = missing(ak.objectAttributes, AK_REQUIRED);
  if (absent.length > 0 || (ak.objectAttributes & TPMA_OBJECT.decrypt) !== 0)
    throw new AttestationError(
      `tpm: the AK is not an attestation key (fixedTPM, fixedParent, restricted, sign, not decrypt): ${describe(ak.objectAttributes, absent)}`,
    );
}

function describe(attributes: number, absent: string[]): string {
  const has = objectAttributeNames(attributes).join('|') || 'none';
  return absent.length > 0
    ? `it lacks ${absent.join(', ')} (its attributes: ${has})`
    : `it may decrypt as well as sign (its attributes: ${has})`;
}

/** The two SPKIs name the same key, however each encodes it (an RSA key's parameters, say). */
function sameKey(spki: Buffer, certSpki: Buffer): boolean {
  if (spki.equals(certSpki)) return true;
  try {
    return createPublicKey({ key: certSpki, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'der' }).equals(spki);
  } catch {
    return false;
  }
}
