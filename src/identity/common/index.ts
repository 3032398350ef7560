/**
 * What the identity agent and server both speak beyond the gRPC messages: the node-attestation payloads
 * and challenges, and the kinds of selector each attestor produces. The agent and the server never
 * import each other; both import this.
 */
export { JOIN_TOKEN_TYPE, joinTokenPayload, parseJoinTokenPayload } from './join-token.js';
export {
  answerX509popChallenge,
  parseX509popPayload,
  verifyX509popAnswer,
  X509POP_TYPE,
  x509popPayload,
  type X509popPayload,
} from './x509pop.js';
export { parseTpmChallenge, parseTpmPayload, TPM_TYPE, tpmChallenge, tpmPayload, type TpmPayload } from './tpm.js';
export {
  AGENT_ID_SELECTOR,
  kindOf,
  selectorProblem,
  TPM_SELECTORS,
  UNIX_SELECTORS,
  WORKLOAD_SELECTORS,
  X509POP_SELECTORS,
  type SelectorKind,
} from './selectors.js';
export { AGENT_SYNC_INTERVAL_MS } from './sync.js';
