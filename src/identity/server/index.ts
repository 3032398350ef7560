/**
 * The SPIFFE identity server: a CA that rotates its keys, registration entries (which workload on which node
 * gets which SPIFFE ID), node attestation (join tokens, x509pop, TPM 2.0; plugins chosen from `nodeAttestorCatalog`),
 * a datastore (SQLite file or PostgreSQL), the mTLS gRPC API agents call and the admin API on a Unix socket.
 * The agent side is `evident/identity/agent`; what both speak is in identity/common and identity/proto.
 */
export { IdentityServer, type ServerOptions } from './server.js';
export {
  resolveServerConfig,
  settingsFromEnv,
  settingsFromFile,
  DEFAULTS,
  SERVER_SETTINGS,
  type ServerConfig,
  type Settings,
} from './config.js';
export { nodeAttestorCatalog } from './catalog.js';
export { createServerLogger, silentLogger } from './log.js';
export { ManualClock, systemClock, type Clock } from '../../util/clock.js';
export { parseDurationSeconds } from './duration.js';
export { adminRequest, AdminApiError, type AdminResponse } from './api/admin-client.js';
export { bundleToProto, MAX_BATCH } from './api/agent-service.js';
export {
  CaManager,
  bundleToPem,
  bundleToSpiffeJson,
  loadUpstreamCa,
  rotationStep,
  type CaKeyType,
  type CaOptions,
  type IssuedJwtSvid,
  type IssuedX509Svid,
  type RotationStep,
  type TrustBundle,
  type UpstreamCa,
} from './ca/index.js';
export {
  openDatastore,
  openPostgresDatastore,
  openSqliteDatastore,
  type Datastore,
  type RegistrationEntry,
  type Selector,
} from './datastore/index.js';
export {
  EntryValidationError,
  entriesForAgent,
  parseSelector,
  validateEntry,
  type EntryInput,
  type FieldProblem,
} from './entries/index.js';
export {
  AttestationError,
  answerX509popChallenge,
  JoinTokenAttestor,
  NodeAttestorRegistry,
  TpmAttestor,
  X509popAttestor,
  x509popPayload,
  type AttestationResult,
  type ChallengeChannel,
  type NodeAttestor,
  type NodeAttestorContext,
  type NodeAttestorPlugin,
} from './nodeattest/index.js';
export { isAgentId, parseSpiffeId, serverSpiffeId } from './spiffe-id.js';
