import { AsnConvert } from '../crypto/x509/x509.js';
import { FAILURE_BITS, tsp, type FailureInfo } from './asn1.js';
import { sequence } from '../crypto/der.js';

/** The DER TimeStampResp of a refused request: status rejection, one failure bit, and `text` as its statusString. */
export function rejectionResponse(failure: FailureInfo, text: string): Buffer {
  const status = new tsp.PKIStatusInfo({
    status: tsp.PKIStatus.rejection,
    statusString: new tsp.PKIFreeText([text]),
    failInfo: new tsp.PKIFailureInfo(2 ** FAILURE_BITS[failure]),
  });
  return Buffer.from(AsnConvert.serialize(new tsp.TimeStampResp({ status })));
}

/** The DER TimeStampResp granting `token`, a DER TimeStampToken. */
export function grantedResponse(token: Uint8Array): Buffer {
  return sequence(GRANTED, token);
}

/** PKIStatusInfo { status granted }, nothing else. */
const GRANTED = Buffer.from(AsnConvert.serialize(new tsp.PKIStatusInfo({ status: tsp.PKIStatus.granted })));

/** The names of the failure bits set in a PKIFailureInfo (RFC 3161 numbering, see asn1.ts). */
export function failureNames(info: tsp.PKIFailureInfo | undefined): FailureInfo[] {
  if (info === undefined) return [];
  const bytes = new Uint8Array(info.value);
  const set = (bit: number): boolean => ((bytes[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0;
  return (Object.keys(FAILURE_BITS) as FailureInfo[]).filter((name) => set(FAILURE_BITS[name]));
}
