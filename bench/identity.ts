/**
 * `npm run bench -- identity`: the identity plane's two numbers the issue names, SVIDs issued per second
 * by one server and the Workload API's FetchX509SVID latency with 100 concurrent workloads on one agent.
 */
import identityServerBench from './identity-server.js';
import identityAgentBench from './identity-agent.js';

export default async function identityBench(flags: string[]): Promise<void> {
  process.stdout.write('\n-- server: SVIDs issued per second\n');
  await identityServerBench(flags);
  process.stdout.write('\n-- agent: FetchX509SVID latency, 100 concurrent workloads\n');
  await identityAgentBench(flags);
}
