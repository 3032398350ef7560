import { createHash, randomBytes } from 'node:crypto';
import { EvidentError } from '../errors.js';
import { AsnConvert, OctetString } from '../crypto/x509/x509.js';
import { hashAlgorithm, type HashName } from './algorithms.js';
import { tsp } from './asn1.js';
import { TimeStampRespIn } from './asn1-read.js';
import { TIMESTAMP_QUERY, TIMESTAMP_REPLY } from './http.js';
import { failureNames } from './response.js';
import { oneLine, shownUrl, timestampServerUrl } from './server-url.js';
import { readToken } from './token.js';

export interface TimestampRequestOptions {
  /** How long to wait for the whole answer; default 10 s. */
  timeoutMs?: number;
  /** The hash of `data` sent as the message imprint; default sha256. */
  hash?: HashName;
  /** The TSA policy to ask for; absent, the TSA's own. */
  policy?: string;
}

/** A reply is a token of a few kilobytes; one far larger is not a TSA's. */
const MAX_REPLY_BYTES = 1 << 20;

/**
 * Asks the RFC 3161 time-stamping authority at `url` (http or https) to time-stamp `data` (a
 * signature's bytes): its SHA-256 hash, a fresh 64-bit nonce, and certReq so the token carries the
 * TSA's certificate. The reply is checked to answer this request (granted, nonce and message imprint
 * echoed); whether the TSA is to be trusted is for `verifyTimestampToken`.
 *
 * @returns the DER TimeStampToken
 * @throws EvidentError BAD_USAGE for a URL that is not http(s); ENVIRONMENT, one line naming the URL, when
 *   the TSA cannot be reached, answers with an HTTP error, refuses the request or sends something else
 */
export async function requestTimestamp(url: string, data: Uint8Array, options: TimestampRequestOptions = {}): Promise<Buffer> {
  const parsed = timestampServerUrl(url);
  const hash = options.hash ?? 'sha256';
  const imprint = new tsp.MessageImprint({
    hashAlgorithm: hashAlgorithm(hash),
    hashedMessage: new OctetString(createHash(hash).update(data).digest()),
  });
  const nonce = positiveNonce();
  const request = new tsp.TimeStampReq({
    messageImprint: imprint,
    nonce,
    certReq: true,
    ...(options.policy !== undefined ? { reqPolicy: options.policy } : {}),
  });
  const body = await post(url, shownUrl(parsed), Buffer.from(AsnConvert.serialize(request)), options.timeoutMs ?? 10_000);
  return tokenOf(shownUrl(parsed), body, imprint, nonce);
}

/** A random 64-bit nonce as a positive DER INTEGER's octets (top bit clear, no leading zero byte). */
function positiveNonce(): ArrayBuffer {
  const b = randomBytes(8);
  b[0] = ((b[0] ?? 0) & 0x7f) | 0x01;
  return new Uint8Array(b).buffer;
}

function unreachable(url: string, what: string, cause?: unknown): EvidentError {
  return new EvidentError('ENVIRONMENT', `timestamp server ${url}: ${oneLine(what)}`, { cause });
}

/** POSTs the query to `url`; errors name it as `name`. */
async function post(url: string, name: string, body: Buffer, timeoutMs: number): Promise<Buffer> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': TIMESTAMP_QUERY, accept: TIMESTAMP_REPLY },
      body,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
  } catch (e) {
    throw unreachable(name, `cannot be reached (${reason(e, timeoutMs)})`, e);
  }
  try {
    if (!res.ok) throw unreachable(name, `answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== TIMESTAMP_REPLY) throw unreachable(name, `answered ${type || 'without a content type'}, not ${TIMESTAMP_REPLY}`);
    return await readBody(name, res, timeoutMs);
  } finally {
    // whatever is left unread is not needed; the connection can go back to the pool
    await res.body?.cancel().catch(() => undefined);
  }
}

async function readBody(url: string, res: Response, timeoutMs: number): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body ?? []) {
      size += chunk.byteLength;
      if (size > MAX_REPLY_BYTES) throw unreachable(url, `sent a reply larger than ${MAX_REPLY_BYTES} bytes`);
      chunks.push(chunk);
    }
  } catch (e) {
    if (e instanceof EvidentError) throw e;
    throw unreachable(url, `broke off its reply (${reason(e, timeoutMs)})`, e);
  }
  return Buffer.concat(chunks, size);
}

/** Why fetch failed, in a few words: undici hides the system error (ECONNREFUSED, ENOTFOUND) in `cause`. */
function reason(e: unknown, timeoutMs: number): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  return err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(e);
}

/** The token of a TimeStampResp that answers the request made of `imprint` and `nonce`, as the TSA sent it. */
function tokenOf(url: string, body: Buffer, imprint: tsp.MessageImprint, nonce: ArrayBuffer): Buffer {
  let response: TimeStampRespIn;
  try {
    response = AsnConvert.parse(body, TimeStampRespIn);
  } catch (e) {
    throw unreachable(url, 'sent a reply that is not an RFC 3161 TimeStampResp', e);
  }
  const { status, statusString, failInfo } = response.status;
  if (status !== tsp.PKIStatus.granted && status !== tsp.PKIStatus.grantedWithMods) {
    const failures = failureNames(failInfo);
    const text = statusString?.join('; ');
    const why = [failures.length > 0 ? failures.join(', ') : undefined, text].filter((x) => x).join(': ');
    throw unreachable(url, `refused the request (status ${status}${why ? `, ${why}` : ''})`);
  }
  if (response.timeStampToken === undefined) throw unreachable(url, 'granted the request but sent no token');
  const token = response.timeStampToken.der;
  const reading = readToken(token);
  if (!reading.ok) throw unreachable(url, `sent a token that cannot be read: ${reading.message}`);
  const { tstInfo } = reading.parts;
  if (tstInfo.nonce === undefined || !sameInteger(tstInfo.nonce, nonce))
    throw unreachable(url, 'sent a token for another request (its nonce differs)');
  if (
    tstInfo.messageImprint.hashAlgorithm.algorithm !== imprint.hashAlgorithm.algorithm ||
    !Buffer.from(tstInfo.messageImprint.hashedMessage.buffer).equals(Buffer.from(imprint.hashedMessage.buffer))
  ) {
    throw unreachable(url, 'sent a token for other data (its message imprint differs)');
  }
  return token;
}

function sameInteger(a: ArrayBuffer, b: ArrayBuffer): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}
