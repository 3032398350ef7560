import { systemClock, type Clock } from '../util/clock.js';
import { AsnConvert, type X509Certificate } from '../crypto/x509/x509.js';
import { tsp } from './asn1.js';
import { objectIdentifier } from '../crypto/object-identifier.js';
import { DEFAULT_TSA_POLICY } from './policy.js';
import { readTimestampRequest } from './request.js';
import { randomSerialNumber } from './serial.js';
import { grantedResponse, rejectionResponse } from './response.js';
import { TokenSigner, type TsaSigner } from './token-signer.js';
import { tsaSigner } from './tsa-certificate.js';
import { tstInfoDer } from './tst-info.js';

export { DEFAULT_TSA_POLICY };

export interface TimestampAuthorityOptions {
  /** The TSA's key and certificate chain, its certificate first. */
  signer: TsaSigner;
  /** The TSA policy OID written in every token; a request asking for another is refused. */
  policy?: string;
  /** Where genTime comes from. */
  clock?: Clock;
  /** The accuracy of `clock` to state in tokens (RFC 3161 §2.4.2); absent, none is stated. */
  accuracy?: { seconds?: number; millis?: number; micros?: number };
  /** Told of an unexpected error (a bug) that made a request fail with systemFailure, e.g. to log it. */
  onError?: (error: unknown) => void;
}

/**
 * An RFC 3161 time-stamping authority without transport: a DER TimeStampReq in, a DER TimeStampResp
 * out (src/time/http.ts serves it over HTTP). Every request gets a response, a token or a rejection
 * saying why (PKIStatusInfo with a failure bit); nothing a client sends makes it throw.
 *
 * @example
 * const tsa = new TimestampAuthority({ signer: { privateKey, chain: [tsaCert, intermediate] } });
 * const reply = tsa.respond(requestDer);
 */
export class TimestampAuthority {
  readonly policy: string;
  /** The certificate tokens are signed under. */
  readonly certificate: X509Certificate;
  private readonly clock: Clock;
  private readonly tokens: TokenSigner;
  /** The policy's OID and the Accuracy, encoded once. */
  private readonly policyDer: Buffer;
  private readonly accuracy: Buffer | undefined;
  private readonly onError: ((error: unknown) => void) | undefined;

  /** @throws EvidentError BAD_INPUT when the certificate may not sign time-stamps or is not the key's */
  constructor(options: TimestampAuthorityOptions) {
    const signer = tsaSigner(options.signer.privateKey, options.signer.chain);
    this.certificate = signer.chain[0]!;
    this.policy = options.policy ?? DEFAULT_TSA_POLICY;
    this.clock = options.clock ?? systemClock;
    this.tokens = new TokenSigner(signer);
    this.policyDer = objectIdentifier(this.policy);
    this.accuracy = options.accuracy === undefined ? undefined : Buffer.from(AsnConvert.serialize(new tsp.Accuracy(options.accuracy)));
    this.onError = options.onError;
  }

  /** The DER TimeStampResp answering the DER TimeStampReq `request`. Never throws. */
  respond(request: Uint8Array): Buffer {
    try {
      const reading = readTimestampRequest(request, this.policy, this.policyDer);
      if (!reading.ok) return rejectionResponse(reading.failure, reading.text);
      const genTime = new Date(this.clock.now());
      // a token its own certificate does not cover would fail every verification
      if (genTime < this.certificate.notBefore || genTime > this.certificate.notAfter) {
        return rejectionResponse('systemFailure', `the TSA certificate is not valid at ${genTime.toISOString()}`);
      }
      const { request: req, messageImprint } = reading;
      const tstInfo = tstInfoDer({
        policy: this.policyDer,
        messageImprint,
        serialNumber: new Uint8Array(randomSerialNumber()),
        genTime,
        ...(this.accuracy !== undefined ? { accuracy: this.accuracy } : {}),
        ...(req.nonce !== undefined ? { nonce: new Uint8Array(req.nonce) } : {}),
      });
      return grantedResponse(this.tokens.sign(tstInfo, req.certReq));
    } catch (e) {
      // a bug, not the client's doing; the client still gets an answer it can read
      this.onError?.(e);
      return rejectionResponse('systemFailure', 'the TSA could not make a token');
    }
  }
}
