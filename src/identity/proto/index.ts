/** The agent ↔ server gRPC protocol (agent.proto), its client, and the one `Selector` type both sides use. */
export { AgentApiClient, serverIdFor, type AgentClientOptions } from './client.js';
export { agentProtoPath, agentServiceDefinition, PROTO_OPTIONS } from './load.js';
export type {
  AttestAgentRequest, AttestAgentResponse, AttestParams, AttestResult, Bundle, Entry, FetchBundleRequest, FetchBundleResponse,
  FetchEntriesRequest, FetchEntriesResponse, JwtKey, KeyRequest, RenewAgentRequest, RenewAgentResponse,
  SignJwtSvidRequest, SignJwtSvidResponse, SignX509SvidsRequest, SignX509SvidsResponse, SvidParams, SvidResult, X509Svid,
} from './messages.js';
export type { Selector } from './selector.js';
