import { looksLikeGpgKeyDict, type GpgKeyDict } from '../../crypto/gpg/key-dict.js';
import type { Layout, Step } from '../models/types.js';

/** One link file a step's functionary may have written: named after `fileKeyid`, checked with `layout.keys[keyid]`. */
export interface FunctionaryFile {
  /** The entry of the layout's `keys` that verifies it, and the signer thresholds count. */
  readonly keyid: string;
  /** The keyid the file is named after (`<step>.<fileKeyid[:8]>.link`). */
  readonly fileKeyid: string;
}

/**
 * The files a step's `pubkeys` lead to, as the reference's load_links_for_layout and
 * verify_link_signature_thresholds find them: each key's own, and for an OpenPGP key also one per subkey
 * (in-toto-run --gpg names the link after the key that signed, often a signing subkey); a keyid that is a
 * subkey of a listed OpenPGP key stands for that key. A keyid naming nobody leads nowhere.
 */
export function functionaryFiles(layout: Layout, step: Step): FunctionaryFile[] {
  const out: FunctionaryFile[] = [];
  for (const keyid of new Set(step.pubkeys)) {
    const dict = Object.hasOwn(layout.keys, keyid) ? layout.keys[keyid] : undefined;
    if (dict !== undefined) {
      out.push({ keyid, fileKeyid: keyid });
      if (looksLikeGpgKeyDict(dict)) for (const sub of Object.keys((dict as GpgKeyDict).subkeys ?? {})) out.push({ keyid, fileKeyid: sub });
      continue;
    }
    const primary = Object.entries(layout.keys).find(
      ([, d]) => looksLikeGpgKeyDict(d) && Object.hasOwn((d as GpgKeyDict).subkeys ?? {}, keyid),
    );
    if (primary !== undefined) out.push({ keyid: primary[0], fileKeyid: keyid });
  }
  return out;
}
