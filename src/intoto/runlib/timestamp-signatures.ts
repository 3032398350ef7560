import type { DsseEnvelope, DsseSignature } from '../../crypto/dsse.js';
import { isGpgSignature, type GpgSignature } from '../../crypto/gpg/signature.js';
import { MAX_TIMESTAMPS_PER_SIGNATURE, timestampedBytes, type SignatureTimestamp } from '../../crypto/signature-timestamps.js';
import { EvidentError, isEvidentError } from '../../errors.js';
import { timestampServerUrl } from '../../time/server-url.js';
import type { Metablock, Signature } from '../models/types.js';

/** Which time-stamping authorities (RFC 3161) to ask for a token over each new signature, and what a failure means. */
export interface SignatureTimestamping {
  /** The TSAs, as http(s) URLs (`http://tsa.example:3161/tsa`); each adds one token to each new signature. */
  servers: readonly string[];
  /**
   * A TSA that cannot be reached or refuses is a warning (`onWarning`) and the signature goes without its
   * token; without this it is an error and nothing is written.
   */
  optional?: boolean;
  onWarning?: (message: string) => void;
  /** How long to wait for each TSA's answer; default 10 s. */
  timeoutMs?: number;
}

/**
 * Refuses, before any work is done, a TSA address that is not an http(s) URL, and more TSAs than a
 * signature may carry tokens (the parsers refuse such a file).
 *
 * @throws EvidentError BAD_USAGE
 */
export function checkTimestampServers(servers: readonly string[]): void {
  for (const server of servers) timestampServerUrl(server);
  if (servers.length > MAX_TIMESTAMPS_PER_SIGNATURE) {
    throw new EvidentError(
      'BAD_USAGE',
      `${servers.length} timestamp servers given; a signature carries at most ${MAX_TIMESTAMPS_PER_SIGNATURE} tokens`,
    );
  }
}

/**
 * What a step does with its timestamping before it starts: refuses a TSA address that cannot work, and
 * starts loading the TSA client (its ASN.1 libraries take a few hundred milliseconds) so that it loads
 * while the step's command runs rather than after. A failure to load is left to timestampSignatures to report.
 *
 * @throws EvidentError BAD_USAGE
 */
export function prepareTimestamping(timestamping: SignatureTimestamping | undefined): void {
  if (timestamping === undefined) return;
  checkTimestampServers(timestamping.servers);
  if (timestamping.servers.length > 0) import('../../time/client.js').catch(() => undefined);
}

type SignatureEntry = Signature | DsseSignature;

/**
 * Asks every TSA, in parallel, to time-stamp each of the last `newSignatures` signatures of `metadata`
 * (signMetablock and addEnvelopeSignature put new ones last; default: all), and returns a copy with
 * `timestamps: [{type: 'tsp', data}]` on those entries, one token per TSA in the order the TSAs are
 * given. The token's message imprint is the SHA-256 of the signature's raw bytes (hex-decoded in a
 * metablock, base64-decoded in a DSSE envelope: crypto/signature-timestamps.ts). The signatures before
 * them, already in the file, are left as they are: a token says when a signature existed, and one made
 * now for an old signature would say less than it seems to.
 *
 * @param consequence what a failing TSA means for the caller, for the error (`no link written`)
 * @throws EvidentError BAD_USAGE for a bad TSA address; ENVIRONMENT, one line naming the TSA, when one
 *   cannot be reached or refuses and `optional` is not set
 */
export async function timestampSignatures<T extends Metablock | DsseEnvelope>(
  metadata: T,
  timestamping: SignatureTimestamping,
  options: { newSignatures?: number; consequence?: string } = {},
): Promise<T> {
  const { servers } = timestamping;
  checkTimestampServers(servers);
  const all: readonly (SignatureEntry | GpgSignature)[] = metadata.signatures;
  const count = options.newSignatures ?? all.length;
  if (!Number.isInteger(count) || count < 0 || count > all.length) {
    throw new EvidentError('BAD_USAGE', `newSignatures must be a whole number from 0 to ${all.length}, not ${count}`);
  }
  if (servers.length === 0 || count === 0) return metadata;
  const first = all.length - count;
  const encoding = 'payloadType' in metadata ? 'base64' : 'hex';
  // loaded only here: the ASN.1 libraries are most of a signing command's start-up, and most runs ask no TSA
  const { requestTimestamp } = await import('../../time/client.js');
  const fresh = all.slice(first).filter((entry): entry is SignatureEntry => !isGpgSignature(entry));
  if (fresh.length < count) {
    // the reference's OpenPGP signature has no place for tokens: its schema is three fields
    throw new EvidentError('BAD_USAGE', 'OpenPGP signatures (--gpg) cannot carry RFC 3161 time-stamps; leave out --timestamp-server');
  }
  // per TSA, per new signature: the token, or why there is none
  const answers = await Promise.all(
    servers.map((server) =>
      Promise.all(
        fresh.map((entry) =>
          requestTimestamp(server, timestampedBytes(entry.sig, encoding), { timeoutMs: timestamping.timeoutMs }).then(
            (token) => ({ token }),
            (error: unknown) => ({ error }),
          ),
        ),
      ),
    ),
  );
  for (const perSignature of answers) {
    const failed = perSignature.find((a): a is { error: unknown } => 'error' in a);
    if (failed === undefined) continue;
    if (!isEvidentError(failed.error)) throw failed.error;
    if (!timestamping.optional) {
      throw new EvidentError(
        failed.error.code,
        `${failed.error.message}; ${options.consequence ?? 'nothing written'} (--timestamp-optional makes this a warning)`,
        { cause: failed.error },
      );
    }
    timestamping.onWarning?.(`${failed.error.message}; the signature goes without its token (--timestamp-optional)`);
  }
  const signatures = all.map((entry, i): SignatureEntry | GpgSignature => {
    if (i < first || isGpgSignature(entry)) return entry;
    const tokens: SignatureTimestamp[] = answers.flatMap((perSignature) => {
      const answer = perSignature[i - first]!;
      return 'token' in answer ? [{ type: 'tsp', data: answer.token.toString('base64') }] : [];
    });
    return tokens.length === 0 ? entry : { ...entry, timestamps: [...(entry.timestamps ?? []), ...tokens] };
  });
  return { ...metadata, signatures } as T;
}
