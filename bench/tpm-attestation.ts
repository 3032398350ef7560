/**
 * `npm run bench -- tpm-attestation [--runs=N] [--max-ms=N]`: how long a full TPM 2.0 node attestation
 * takes against swtpm, as an agent does it: open the TPM, derive the EK from its template, read its
 * certificate from NV, create and load an AK, open a fresh TLS connection to the server's agent API and
 * send them; the server checks them and seals a credential to the EK (MakeCredential); the TPM opens it
 * (ActivateCredential), the server checks the secret and signs the agent SVID; the TPM's keys are flushed.
 * With the RSA EK (the agent's default) and with the ECC one, each with the ECC P-256 AK. Issue 15's
 * target: ≤ 1 s.
 *
 * The peer measured in the same run, in alternating rounds: a join-token attestation against the same
 * server over the same API (a new connection, the same SVID signing), the floor under any attestation;
 * the difference is what the TPM costs. The server runs in this process (its part is milliseconds: parsing
 * two public areas, one RSA-OAEP or ECDH, one HMAC). `--max-ms=N` fails the benchmark when a TPM median
 * is over N ms. Needs swtpm (Debian's package swtpm); without it, says so and measures nothing.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulatedTpm, swtpmInstalled } from '../src/demo/swtpm.js';
import { TpmAttestorClient } from '../src/identity/agent/tpm-attestor-client.js';
import { AgentApiClient } from '../src/identity/proto/index.js';
import { adminRequest, IdentityServer, resolveServerConfig } from '../src/identity/server/index.js';
import type { EkKind } from '../src/tpm/index.js';
import { numberFlag } from './_flags.js';

const TD = 'bench.example.org';

interface Case {
  label: string;
  run(): Promise<void>;
  ms: number[];
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export default async function tpmAttestationBench(flags: string[]): Promise<void> {
  if (!swtpmInstalled()) {
    process.stderr.write('\n*** SKIPPED: swtpm is not installed (apt-get install swtpm): TPM node attestation was NOT measured ***\n');
    return;
  }
  const runs = numberFlag(flags, '--runs', { whole: true }) ?? 20;
  const maxMs = numberFlag(flags, '--max-ms');
  const dir = await mkdtemp(join(tmpdir(), 'evident-bench-tpm-'));
  const tpm = await startSimulatedTpm(join(dir, 'tpm'));
  const config = resolveServerConfig(
    {
      flags: { trust_domain: TD, data_dir: join(dir, 'server'), bind: '127.0.0.1:0', admin_socket: join(dir, 'admin.sock'), tpm: true },
      file: {},
      env: {},
    },
    dir,
  );
  const server = await IdentityServer.start({ config });
  const roots = server.ca.bundle().x509Authorities;
  const agentKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
  /** One attestation over a new connection, as a starting agent makes it. */
  const attest = async (type: string, payload: Buffer, answer?: (c: Buffer) => Promise<Buffer>): Promise<void> => {
    const client = new AgentApiClient({ address: server.agentApiAddress, trustDomain: TD, trustBundle: roots, timeoutMs: 30_000 });
    try {
      const res = await client.attest({ type, payload, key: { public_key: agentKey } }, answer);
      if (!res.svid) throw new Error(`${type} attestation gave no SVID`);
    } finally {
      client.close();
    }
  };
  const tpmCase = (ek: EkKind): Case => ({
    label: `TPM attestation, ${ek.toUpperCase()} EK + ECC AK`,
    ms: [],
    run: async () => {
      const agent = new TpmAttestorClient({ tcti: tpm.tcti, ek });
      try {
        await attest('tpm', await agent.payload(), (c) => agent.answer(c));
      } finally {
        await agent.close();
      }
    },
  });
  const peer: Case = {
    label: 'peer: join-token attestation, same server and API',
    ms: [],
    run: async () => {
      const token = ((await adminRequest(config.adminSocket, 'POST', '/v1/join-tokens', {})).body as { token: string }).token;
      await attest('join_token', Buffer.from(token));
    },
  };
  const cases = [tpmCase('rsa'), tpmCase('ecc'), peer];
  try {
    for (const c of cases) await c.run(); // warm up: the first RSA EK derivation, TLS, the code paths
    // alternating rounds: a burst of other work on the machine falls on every case alike
    for (let i = 0; i < runs; i++) {
      for (const c of cases) {
        const t0 = performance.now();
        await c.run();
        c.ms.push(performance.now() - t0);
      }
    }
  } finally {
    await server.stop(1000);
    await tpm.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const peerMedian = percentile(
    [...peer.ms].sort((a, b) => a - b),
    50,
  );
  process.stdout.write(`${runs} runs each against swtpm (2-core machine; load average shared)\n`);
  for (const c of cases) {
    const sorted = [...c.ms].sort((a, b) => a - b);
    const median = percentile(sorted, 50);
    const ratio = c === peer ? '' : `  ${(median / peerMedian).toFixed(1)}x the peer`;
    process.stdout.write(
      `${c.label.padEnd(52)} median ${median.toFixed(0).padStart(5)} ms  p90 ${percentile(sorted, 90).toFixed(0).padStart(5)} ms  max ${sorted[sorted.length - 1]!.toFixed(0).padStart(5)} ms${ratio}\n`,
    );
  }
  const tpmMedians = cases
    .filter((c) => c !== peer)
    .map((c) =>
      percentile(
        [...c.ms].sort((a, b) => a - b),
        50,
      ),
    );
  const worst = Math.max(...tpmMedians);
  process.stdout.write(
    `target: full TPM node attestation ≤ 1000 ms: ${worst <= 1000 ? 'met' : 'NOT met'} (slowest median ${worst.toFixed(0)} ms)\n`,
  );
  if (maxMs !== undefined && worst > maxMs) throw new Error(`a TPM attestation median of ${worst.toFixed(0)} ms is over --max-ms=${maxMs}`);
}
