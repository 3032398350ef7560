import { dictKeys } from '../../crypto/identity-cache.js';
import { GpgPublicKey } from '../../crypto/gpg/public-key.js';
import type { GpgKeyDict } from '../../crypto/gpg/key-dict.js';
import { isEvidentError } from '../../errors.js';
import type { Problems } from './problems.js';

/**
 * Validates an OpenPGP key dict of a layout's `keys` (the Python reference's, crypto/gpg/key-dict.ts),
 * listed under `keyid`: strictly, its keyid (and each subkey's) the fingerprint its fields make, and
 * listed under that keyid. Returns the copy the layout keeps, its key remembered (crypto/identity-cache.ts).
 */
export function checkGpgKeyDict(dict: unknown, keyid: string, at: string, problems: Problems): GpgKeyDict | undefined {
  let key: GpgPublicKey;
  try {
    key = GpgPublicKey.fromGpgDict(dict, at);
  } catch (e) {
    if (!isEvidentError(e)) throw e;
    for (const line of e.message.split('\n')) problems.add('', line);
    return undefined;
  }
  if (key.keyid !== keyid) {
    problems.add(at, `the OpenPGP key's fingerprint is ${key.keyid}, not the keyid it is listed under`);
    return undefined;
  }
  const copy = structuredClone(dict) as GpgKeyDict;
  dictKeys.remember(copy, key);
  return copy;
}
