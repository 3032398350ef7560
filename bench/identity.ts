/**
 * `npm run bench -- identity`: the identity plane's numbers the issues name, SVIDs issued per second by one
 * server, the Workload API's FetchX509SVID latency with 100 concurrent workloads on one agent, and how long
 * a TPM 2.0 node attestation takes against swtpm (issue 15; said and skipped when swtpm is absent).
 */
import identityServerBench from './identity-server.js';
import identityAgentBench from './identity-agent.js';
import tpmAttestationBench from './tpm-attestation.js';

export default async function identityBench(flags: string[]): Promise<void> {
  process.stdout.write('\n-- server: SVIDs issued per second\n');
  await identityServerBench(flags);
  process.stdout.write('\n-- agent: FetchX509SVID latency, 100 concurrent workloads\n');
  await identityAgentBench(flags);
  process.stdout.write('\n-- node attestation with a TPM 2.0 (swtpm)\n');
  await tpmAttestationBench(flags);
}
