// A workload process for the tests: talks to the Workload API with the SPIFFE library's client and prints
// one JSON line per result. Run as `node --import tsx workload-child.ts MODE ADDRESS [ARG]`, possibly
// as another user or from another executable.
//   fetch-x509 ADDR          -> {"ids": [...], "expires": [...]} | {"error": {...}}
//   watch-x509 ADDR N        -> one line per update, exits after N updates
//   fetch-jwt  ADDR AUDIENCE -> {"ids": [...], "token": "..."}
import { WorkloadApiClient, WorkloadApiError } from '../../../src/spiffe/workloadapi/index.js';

const [mode, address, arg] = process.argv.slice(2);
const print = (o: unknown): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};
// the client's default deadline: on a loaded machine the agent's first look at a new executable (hashing its
// ~100 MB) took more than the 10 s this had, and the test saw UNAVAILABLE instead of the agent's answer
const client = WorkloadApiClient.create({ address, timeoutMs: 30_000 });

try {
  if (mode === 'fetch-x509') {
    const svids = await client.fetchX509SVIDs();
    print({ ids: svids.map((s) => s.id.toString()), expires: svids.map((s) => s.expiresAt.toISOString()) });
  } else if (mode === 'watch-x509') {
    let left = Number(arg ?? '1');
    const ac = new AbortController();
    for await (const ctx of client.watchX509Context({ signal: ac.signal })) {
      print({ ids: ctx.svids.map((s) => s.id.toString()), serials: ctx.svids.map((s) => s.leaf.serialNumber) });
      if (--left <= 0) {
        ac.abort();
        break;
      }
    }
  } else if (mode === 'fetch-jwt') {
    const svid = await client.fetchJWTSVID({ audience: arg ?? '' });
    print({ ids: [svid.id.toString()], token: svid.marshal() });
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
} catch (e) {
  const err = e as WorkloadApiError;
  print({ error: { reason: e instanceof WorkloadApiError ? err.reason : 'OTHER', grpcCode: err.grpcCode ?? null, message: err.message } });
} finally {
  client.close();
}
