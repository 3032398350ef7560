export { X509Svid, type X509SvidSource, type X509SvidParseOptions } from './svid.js';
export { verify, type VerifyOptions, type VerifyResult } from './verify.js';
export { idFromCert, uriSans } from './rules.js';
export {
  createCertificate,
  createCaCertificate,
  createX509Svid,
  PreparedIssuer,
  randomSerial,
  BACKDATE_MS,
  KeyUsageFlags,
  ExtendedKeyUsage,
  type AnyKey,
  type CertificateIssuer,
  type CertificateFields,
  type CertificateParams,
  type CertifiedKey,
  type IssuedCertificate,
  type X509SvidTemplate,
  type CaCertificateOptions,
  type X509SvidOptions,
} from './issue.js';
export { X509SvidError, type X509SvidErrorReason } from './errors.js';
export { svidSigner } from './signer.js';
export { svidIdentity, type SvidIdentity, type SignerCertification } from './signer-identity.js';
