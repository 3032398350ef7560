/** X.509 certificate paths and names, independent of any one PKI (SPIFFE builds its rules on these). */
export { certificateAttributes } from './attributes.js';
export type { CertificateAttributes } from './attributes.js';
export { checkValidity, isCa, issuedBy, verifyCertificateChain } from './chain.js';
export type { ChainOptions } from './chain.js';
export { X509ChainError } from './errors.js';
export { chainUsageProblem } from './extended-key-usage.js';
export type { ExtendedKeyUsageName } from './extended-key-usage.js';
export type { X509ChainErrorReason } from './errors.js';
export { certificatesToPem, parseCertificateDer, parseCertificatesPem, pemBlocks, pemCertificates, toPem } from './pem.js';
export type { PemBlock } from './pem.js';
export { openssl } from './openssl.js';
export { X509Certificate } from './x509.js';
