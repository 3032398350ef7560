/**
 * TPM2_MakeCredential done in software, the verifier's half of credential activation (TPM 2.0 Part 1
 * §24 "Credential Protection", and the secret-sharing sections of its Annexes B (RSA) and C (ECC); Part 3
 * §12.6). The verifier needs only the EK's public area and the AK's name:
 *
 * 1. a seed, shared with the EK's holder ("secret sharing"):
 *    - RSA EK: `seed` = random, digest-size of the EK's nameAlg; the encrypted secret is RSA-OAEP(EK,
 *      seed) with the nameAlg and the label "IDENTITY\0";
 *    - ECC EK: an ephemeral key on the EK's curve; Z = x of ECDH(ephemeral, EK); `seed` = KDFe(nameAlg, Z,
 *      "IDENTITY", ephemeral.x, EK.x, digest bits); the encrypted secret is the ephemeral point
 *      (TPMS_ECC_POINT);
 * 2. symKey = KDFa(nameAlg, seed, "STORAGE", name, "", EK symmetric key bits); encIdentity = AES-CFB
 *    (symKey, IV 0) of the credential as a TPM2B_DIGEST (its 16-bit size, then its bytes);
 * 3. HMACkey = KDFa(nameAlg, seed, "INTEGRITY", "", "", digest bits); outerHMAC = HMAC(HMACkey,
 *    encIdentity ‖ name);
 * 4. TPM2B_ID_OBJECT = TPM2B_DIGEST(outerHMAC) ‖ encIdentity, and TPM2B_ENCRYPTED_SECRET the secret above.
 *
 * The name is the AK's: the TPM recomputes the HMAC with the name of the key it is asked to activate
 * for, so a credential made for another key does not activate.
 */
import { constants, createCipheriv, createHmac, diffieHellman, generateKeyPairSync, publicEncrypt, randomBytes } from 'node:crypto';
import { EvidentError } from '../errors.js';
import { TPM_ALG, TPMA_OBJECT } from './constants.js';
import { hashInfo } from './hash.js';
import { kdfa, kdfe } from './kdf.js';
import { TpmWriter } from './marshal.js';
import { curveOf, padCoordinate, publicKeyObject } from './public-key.js';
import type { EccPublic, TpmPublic } from './structures.js';

/** What ActivateCredential takes: the contents of TPM2B_ID_OBJECT and of TPM2B_ENCRYPTED_SECRET. */
export interface Credential {
  readonly idObject: Buffer;
  readonly encryptedSecret: Buffer;
}

const bad = (message: string): EvidentError => new EvidentError('BAD_INPUT', `MakeCredential: ${message}`);

/**
 * Protects `secret` (1 to digest-size bytes of the EK's nameAlg: it travels as a TPM2B_DIGEST) so that only
 * the TPM holding `ek` can recover it, and only for the object named `objectName`.
 */
export function makeCredential(ek: TpmPublic, objectName: Buffer, secret: Buffer): Credential {
  const hash = hashInfo(ek.nameAlg);
  const required = TPMA_OBJECT.restricted | TPMA_OBJECT.decrypt;
  if ((ek.objectAttributes & required) !== required) throw bad('the EK is not a restricted decryption key');
  if (ek.symmetric.algorithm !== TPM_ALG.AES || ek.symmetric.mode !== TPM_ALG.CFB || ![128, 192, 256].includes(ek.symmetric.keyBits))
    throw bad('the EK does not protect with AES-CFB');
  if (objectName.length < 2 || objectName.length !== 2 + hashInfo(objectName.readUInt16BE(0)).size)
    throw bad(`${objectName.length} bytes is not an object's name (nameAlg and its digest)`);
  if (secret.length === 0 || secret.length > hash.size)
    throw bad(`the credential has ${secret.length} bytes, it must have 1 to ${hash.size}`);

  const { seed, encryptedSecret } = ek.type === TPM_ALG.RSA ? rsaSeed(ek) : eccSeed(ek);

  const symKey = kdfa(ek.nameAlg, seed, 'STORAGE', objectName, Buffer.alloc(0), ek.symmetric.keyBits);
  const cipher = createCipheriv(`aes-${ek.symmetric.keyBits}-cfb`, symKey, Buffer.alloc(16));
  const plain = new TpmWriter().tpm2b(secret).toBuffer();
  const encIdentity = Buffer.concat([cipher.update(plain), cipher.final()]);

  const hmacKey = kdfa(ek.nameAlg, seed, 'INTEGRITY', Buffer.alloc(0), Buffer.alloc(0), hash.size * 8);
  const outerHmac = createHmac(hash.node, hmacKey).update(encIdentity).update(objectName).digest();

  return { idObject: new TpmWriter().tpm2b(outerHmac).bytes(encIdentity).toBuffer(), encryptedSecret };
}

function rsaSeed(ek: TpmPublic): { seed: Buffer; encryptedSecret: Buffer } {
  const hash = hashInfo(ek.nameAlg);
  const seed = randomBytes(hash.size);
  const encryptedSecret = publicEncrypt(
    {
      key: publicKeyObject(ek),
      padding: constants.RSA_PKCS1_OAEP_PADDING,
      oaepHash: hash.node,
      oaepLabel: Buffer.from('IDENTITY\0', 'latin1'),
    },
    seed,
  );
  return { seed, encryptedSecret };
}

function eccSeed(ek: EccPublic): { seed: Buffer; encryptedSecret: Buffer } {
  const curve = curveOf(ek);
  const ephemeral = generateKeyPairSync('ec', { namedCurve: curve.node });
  const z = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: publicKeyObject(ek) });
  const point = ephemeral.publicKey.export({ format: 'jwk' });
  const x = padCoordinate(Buffer.from(point.x!, 'base64url'), curve.size);
  const y = padCoordinate(Buffer.from(point.y!, 'base64url'), curve.size);
  const seed = kdfe(
    ek.nameAlg,
    padCoordinate(z, curve.size),
    'IDENTITY',
    x,
    padCoordinate(ek.x, curve.size),
    hashInfo(ek.nameAlg).size * 8,
  );
  return { seed, encryptedSecret: new TpmWriter().tpm2b(x).tpm2b(y).toBuffer() };
}
