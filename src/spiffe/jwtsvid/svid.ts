import { compactVerify, decodeJwt, decodeProtectedHeader, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import { SpiffeId } from '../spiffeid/spiffe-id.js';
import type { JwtBundleSource } from '../bundle/jwt-bundle.js';
import { NOT_TRUSTED, SpiffeError } from '../errors.js';
import { ALLOWED_ALGORITHMS, isAllowedAlgorithm } from './algorithms.js';
import { JwtSvidError } from './errors.js';

export interface JwtSvidValidateOptions {
  /** The clock; now by default (tests freeze it). */
  now?: Date | (() => Date);
  /** Allowed clock skew for `exp` and `nbf`, in seconds (default 0). */
  leewaySeconds?: number;
}

/** One-getter source of JWT-SVIDs, e.g. the Workload API. */
export interface JwtSvidSource {
  fetchJWTSVID(params: { audience: string | readonly string[]; spiffeId?: SpiffeId | string }): Promise<JwtSvid>;
}

/**
 * A JWT-SVID: a JWS-signed JWT whose `sub` is a SPIFFE ID. Made only by `parseAndValidate` (full
 * checks against a JWT bundle) or `parseInsecure` (claims only, for tokens the Workload API just
 * handed us). Immutable.
 *
 * @example
 * const svid = JwtSvid.parseAndValidate(token, bundles, ['spiffe://example.org/api']);
 * svid.id.toString(); svid.expiry;
 */
export class JwtSvid {
  readonly audience: readonly string[];

  private constructor(
    readonly id: SpiffeId,
    audience: readonly string[],
    readonly expiry: Date,
    readonly claims: Readonly<JWTPayload>,
    private readonly token: string,
    readonly hint: string,
  ) {
    this.audience = Object.freeze([...audience]);
  }

  /**
   * Validates as go-spiffe's `jwtsvid.ParseAndValidate`: an allowed algorithm (RS/ES/PS), a `kid`
   * found in the JWT bundle of the `sub`'s trust domain, a good signature, `typ` JWT or JOSE if set,
   * `exp` present and not passed, `aud` containing every expected audience. Throws JwtSvidError.
   */
  static async parseAndValidate(
    token: string,
    bundles: JwtBundleSource,
    audience: string | readonly string[],
    options: JwtSvidValidateOptions = {},
  ): Promise<JwtSvid> {
    const header = decodeHeader(token);
    const { id, payload } = decodeClaims(token);
    const bundle = (() => {
      try {
        return bundles.getJwtBundleForTrustDomain(id.trustDomain);
      } catch (e) {
        if (!(e instanceof SpiffeError)) throw e;
        throw new JwtSvidError('NO_BUNDLE', `no bundle found for trust domain "${id.trustDomain}"`, { code: NOT_TRUSTED, cause: e });
      }
    })();
    const kid = header.kid as string;
    const key = bundle.findAuthority(kid);
    if (key === undefined) {
      throw new JwtSvidError('UNKNOWN_KID', `no JWT authority "${kid}" found for trust domain "${id.trustDomain}"`, { code: NOT_TRUSTED });
    }
    try {
      await compactVerify(token, key, { algorithms: [...ALLOWED_ALGORITHMS] });
    } catch (e) {
      throw new JwtSvidError('BAD_SIGNATURE', 'unable to verify token signature', { code: NOT_TRUSTED, cause: e });
    }
    return JwtSvid.checkClaims(token, id, payload, audience, options, '');
  }

  /** Parses without checking the signature (the token came from the Workload API); claims still checked. */
  static parseInsecure(
    token: string,
    audience: string | readonly string[],
    options: JwtSvidValidateOptions & { hint?: string } = {},
  ): JwtSvid {
    decodeHeader(token);
    const { id, payload } = decodeClaims(token);
    return JwtSvid.checkClaims(token, id, payload, audience, options, options.hint ?? '');
  }

  private static checkClaims(
    token: string,
    id: SpiffeId,
    payload: JWTPayload,
    expected: string | readonly string[],
    options: JwtSvidValidateOptions,
    hint: string,
  ): JwtSvid {
    const nowDate = typeof options.now === 'function' ? options.now() : (options.now ?? new Date());
    const now = Math.floor(nowDate.getTime() / 1000);
    const leeway = options.leewaySeconds ?? 0;
    if (typeof payload.exp !== 'number') throw new JwtSvidError('MISSING_EXP', 'token missing exp claim', { code: NOT_TRUSTED });
    if (now > payload.exp + leeway) throw new JwtSvidError('EXPIRED', 'token has expired', { code: NOT_TRUSTED });
    if (typeof payload.nbf === 'number' && now < payload.nbf - leeway) {
      throw new JwtSvidError('NOT_YET_VALID', 'token is not valid yet', { code: NOT_TRUSTED });
    }
    const aud = typeof payload.aud === 'string' ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud : [];
    if (aud.length === 0) throw new JwtSvidError('MISSING_AUDIENCE', 'token missing audience claim', { code: NOT_TRUSTED });
    const wanted = typeof expected === 'string' ? [expected] : expected;
    if (wanted.length === 0) throw new JwtSvidError('MISSING_AUDIENCE', 'an expected audience is required', { code: 'BAD_INPUT' });
    const missing = wanted.filter((a) => !aud.includes(a));
    if (missing.length > 0) {
      throw new JwtSvidError('AUDIENCE_MISMATCH', `expected audience in ${JSON.stringify(wanted)} (audience=${JSON.stringify(aud)})`, {
        code: NOT_TRUSTED,
      });
    }
    return new JwtSvid(id, aud, new Date(payload.exp * 1000), Object.freeze({ ...payload }), token, hint);
  }

  /** The compact JWS, as received. */
  marshal(): string {
    return this.token;
  }
}

function decodeHeader(token: string): ProtectedHeaderParameters {
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch (e) {
    throw new JwtSvidError('MALFORMED', 'unable to parse JWT token', { cause: e });
  }
  if (!isAllowedAlgorithm(header.alg)) {
    throw new JwtSvidError('UNSUPPORTED_ALG', `unsupported token signature algorithm "${String(header.alg)}"`, { code: NOT_TRUSTED });
  }
  if (typeof header.kid !== 'string' || header.kid === '') {
    throw new JwtSvidError('MISSING_KID', 'token header missing key id', { code: NOT_TRUSTED });
  }
  if (header.typ !== undefined && header.typ !== 'JWT' && header.typ !== 'JOSE') {
    throw new JwtSvidError('BAD_TYP', `token header type not equal to either JWT or JOSE (typ=${String(header.typ)})`, {
      code: NOT_TRUSTED,
    });
  }
  return header;
}

function decodeClaims(token: string): { id: SpiffeId; payload: JWTPayload } {
  let payload: JWTPayload;
  try {
    payload = decodeJwt(token);
  } catch (e) {
    throw new JwtSvidError('MALFORMED', 'unable to parse JWT token claims', { cause: e });
  }
  if (typeof payload.sub !== 'string' || payload.sub === '') {
    throw new JwtSvidError('MISSING_SUB', 'token missing subject claim', { code: NOT_TRUSTED });
  }
  try {
    return { id: SpiffeId.parse(payload.sub), payload };
  } catch (e) {
    throw new JwtSvidError('BAD_SUBJECT', `token has an invalid subject claim: ${(e as Error).message}`, { code: NOT_TRUSTED, cause: e });
  }
}
