export { PeerConnections, type PeerConnection } from './connections.js';
export { WorkloadApiHandlers, type HandlerDeps } from './handlers.js';
export { dedupeBySpiffeId, jwtBundlesResponse, trustDomainId, x509BundlesResponse, x509SvidResponse } from './responses.js';
export { WorkloadApiServer, type WorkloadApiServerOptions } from './server.js';
export { DEFAULT_SOCKET_PATH, openSocketPermissions, prepareSocketPath, socketInUse } from './socket.js';
export {
  selectorsSubsetOf,
  type JwtToken,
  type ServedEntry,
  type TrustBundles,
  type WorkloadIdentitySource,
  type X509Identity,
} from './source.js';
export { RpcStatus } from './status.js';
