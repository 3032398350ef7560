/** The agent ↔ server gRPC protocol (agent.proto), its client, and the one `Selector` type both sides use. */
export { AGENT_API_CHANNEL_OPTIONS, AgentApiClient, type AgentClientOptions } from './client.js';
export { serverIdFor } from './server-id.js';
export { agentApiError, connectionProblem, listenProblem, socketProblem } from './grpc-errors.js';
export { routeGrpcLogs } from './grpc-log.js';
export { agentProtoPath, agentServiceDefinition, PROTO_OPTIONS } from './load.js';
export type {
  AttestAgentRequest, AttestAgentResponse, AttestParams, AttestResult, Bundle, Entry, FetchBundleRequest, FetchBundleResponse,
  FetchEntriesRequest, FetchEntriesResponse, JwtKey, KeyRequest, RenewAgentRequest, RenewAgentResponse,
  SignJwtSvidRequest, SignJwtSvidResponse, SignX509SvidsRequest, SignX509SvidsResponse, SvidParams, SvidResult, X509Svid,
} from './messages.js';
export type { Selector } from './selector.js';
