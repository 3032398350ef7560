export {
  AttestationError,
  NodeAttestorRegistry,
  type AttestationResult,
  type ChallengeChannel,
  type NodeAttestor,
  type NodeAttestorContext,
  type NodeAttestorPlugin,
} from './types.js';
export { JoinTokenAttestor } from './join-token.js';
export { answerX509popChallenge, sha1Hex, X509popAttestor, x509popPayload, type X509popPayload } from './x509pop.js';
export { ActivationChallenge, ACTIVATION_DEADLINE_MS } from './tpm-activation.js';
export { parseAllowedHashes, TpmAllowList } from './tpm-allow-list.js';
export { loadEkCaBundle, TpmAttestor, type EkCaBundle, type TpmAttestorOptions } from './tpm.js';
