import type { PublicKey } from '../../crypto/keys.js';

/** What `verify` is given. Exactly one of `linkDir` and `links` says where the links are (default: `workDir`). */
export interface VerifyOptions {
  /** The signed root layout as parsed JSON: `{"signed": {"_type": "layout", …}, "signatures": […]}`. */
  readonly layout: unknown;
  /** Where the layout came from, for messages. */
  readonly layoutFile?: string;
  /** The layout owners' keys: EVERY one must have signed the layout (a key given twice counts once). */
  readonly layoutKeys: readonly PublicKey[];
  /**
   * More intermediate CA certificates (PEM text, each may hold several) to build certificate signers'
   * chains with, beside the layout's `intermediatecas` and those a signature carries (in-toto-golang's
   * `verify -i`). They add no trust: a chain must still end at one of the layout's `rootcas`.
   */
  readonly intermediateCerts?: readonly string[];
  /** The folder holding `<step>.<keyid[:8]>.link` files and `<step>.<keyid[:8]>/` sublayout folders. */
  readonly linkDir?: string;
  /**
   * The same content without a folder: relative path (`build.0123abcd.link`,
   * `package.0123abcd/unpack.4567ef01.link`) → the file's text or bytes, or its already parsed JSON.
   */
  readonly links?: Readonly<Record<string, string | Uint8Array | object>>;
  /**
   * The verification time (default: now): signers' certificates must be valid at it, unless their
   * signature carries an RFC 3161 token from a TSA the layout trusts (`timestampauthorities`), which has
   * them checked at the token's genTime instead (docs/trusted-time.md). Given, it replays the verdict as
   * of that time (when the steps ran, for links without tokens): tokens whose genTime is after it did not
   * exist then and do not count. The report says which time was used for each signer. It does not move
   * the layouts' expiry into the past: see `layoutTime`.
   */
  readonly verifyTime?: Date;
  /**
   * The time layouts must not have expired at. Default: now, or `verifyTime` when that is later (a layout
   * must hold at both). Whoever can back-date `verifyTime` must not thereby revive an expired layout:
   * only this separate, explicit option checks expiry at an earlier time.
   */
  readonly layoutTime?: Date;
  /**
   * The final product the verification is about, `sha256:HEX` (what `verify --product` names, and a VSA
   * written of the verification is about): it must be among the products of the root layout's steps, or
   * the verification fails (check `product`): a verdict must not pass for an artifact the chain never made.
   */
  readonly product?: string;
  /** Run inspections (default true). When false they are reported as skipped, not failed. */
  readonly runInspections?: boolean;
  /** Time limit per inspection command (default 10 000 ms, the reference's LINK_CMD_EXEC_TIMEOUT). */
  readonly inspectionTimeoutMs?: number;
  /** Link files larger than this are refused before they are parsed (default 256 MiB). */
  readonly maxLinkBytes?: number;
  /** The folder whose scratch copy inspections run in (default: the process's cwd). */
  readonly workDir?: string;
  /**
   * Told as each long stage begins (`reading the links of build`, `applying the rules of build`,
   * `running inspection untar`), for a progress line; what was found is in the report, not here.
   */
  readonly onProgress?: (stage: string) => void;
}

/** Stable identifiers of the kinds of check, in the order the workflow performs them. */
export type CheckId =
  | 'layout-signature'
  | 'layout-expiration'
  | 'root-expiry'
  | 'certificate-time'
  | 'step-links'
  | 'sublayout'
  | 'command-alignment'
  | 'threshold-agreement'
  | 'rules'
  | 'product'
  | 'attestations'
  | 'inspection';

/** One line of the report. */
export interface Check {
  readonly id: CheckId;
  /** False when the check failed, or could not be performed because an earlier one failed. */
  readonly ok: boolean;
  /** The check was not performed (see `message`). */
  readonly skipped?: true;
  /** A finding that does not fail verification (command alignment, as in the reference). */
  readonly warning?: true;
  /** The step or inspection, `parent/child` inside sublayouts; absent for the root layout itself. */
  readonly step?: string;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface VerificationReport {
  /** The verdict: true only when every check passed. */
  readonly ok: boolean;
  readonly verifiedAt: string;
  readonly layout?: string;
  readonly checks: readonly Check[];
}
