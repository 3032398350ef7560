/**
 * What the identity agent and server both speak beyond the gRPC messages: the node-attestation payloads
 * and challenges. The agent and the server never import each other; both import this.
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
