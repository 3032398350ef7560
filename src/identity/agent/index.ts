/**
 * The SPIFFE identity agent: attests its node to the server, keeps the SVIDs of the entries it may serve
 * (renewed at half-life), attests each caller of its Workload API from the kernel's peer credentials (the
 * executable recorded at accept, docs/workload-attestation.md) and serves the standard Workload API on a
 * Unix socket. Attestors are chosen from `nodeAttestorClientCatalog` and `workloadAttestorCatalog`.
 */
export { Agent, type AgentOptions } from './agent.js';
export { JoinTokenAttestorClient, X509popAttestorClient, type NodeAttestorClient } from './attestor-client.js';
export { TpmAttestorClient, type TpmAttestorClientOptions } from './tpm-attestor-client.js';
export { SvidCache, type JwtSigner, type SvidCacheOptions } from './cache.js';
export { checkAgentHealth, type HealthResult } from './healthcheck.js';
export { AgentDataDir, type AgentIdentity } from './identity-store.js';
export {
  DEFAULT_WORKLOAD_ATTESTORS,
  nodeAttestorClientCatalog,
  workloadAttestorCatalog,
  type NodeAttestorClientPlugin,
} from './catalog.js';
export { ManualClock, systemClock, type Clock } from '../../util/clock.js';
export {
  AGENT_SETTINGS,
  agentSettingsFromEnv,
  agentSettingsFromFile,
  resolveAgentConfig,
  type AgentConfig,
  type AgentSettings,
} from './config.js';
export { createAgentLogger } from './log.js';
export { getPeerCred, loadPeercred, type PeerCredentials } from './peercred/index.js';
export { fetchBundleInsecure, ServerLink } from './server-link.js';
export { SvidSync, type SvidSyncServer } from './svid-sync.js';
export { readTrustBundleFile, trustBundlesFromProto, trustDomainOfCa } from './trust-bundle.js';
export {
  DEFAULT_SOCKET_PATH,
  WorkloadApiServer,
  type ServedEntry,
  type TrustBundles,
  type WorkloadApiServerOptions,
  type WorkloadIdentitySource,
  type X509Identity,
} from './workloadapi/index.js';
export {
  UnixAttestor,
  WorkloadAttestationError,
  WorkloadAttestorRegistry,
  type Selector,
  type WorkloadAttestor,
  type WorkloadAttestorPlugin,
} from './workloadattest/index.js';
