// TPM node attestation end to end, with the real processes: swtpm (one per machine), `evident server run` with
// TPM attestation and an allow-list in its config file, `evident agent run --tpm` talking to the simulator
// itself, and `evident svid fetch` as the workload. The agent ID's hash is checked against tpm2-tools, an
// implementation no one here wrote: `tpm2_createek` and `tpm2_readpublic -f der` on the same simulator.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { sha256File } from '../identity/agent/helpers.js';
import { endToEnd, runEvident, type EvidentProcess } from '../helpers/evident-process.js';
import { freePort } from '../helpers/identity-server.js';
import { startSwtpm, swtpmInstalled, tpm2ToolsInstalled, type Swtpm } from '../helpers/swtpm.js';

const e2e = endToEnd('evident-tpm-e2e-');
const TD = 'tpm.example';
/** Short agent SVIDs: the agent renews (by attesting with its TPM again) within the test. */
const SVID_TTL_S = 8;

const missing = [...(swtpmInstalled ? [] : ['swtpm']), ...(tpm2ToolsInstalled ? [] : ['tpm2-tools'])];
const skip =
  missing.length > 0
    ? `SKIPPED: ${missing.join(', ')} not installed (apt-get install ${missing.join(' ')}); TPM attestation end to end was NOT checked`
    : false;
if (skip) process.stderr.write(`\n*** ${skip} ***\n`);

let dir = '';
let server: EvidentProcess;
let admin = '';
let port = 0;
const sims: Swtpm[] = [];
let simA: Swtpm;
let simB: Swtpm;
let simC: Swtpm;
const hashes = new Map<Swtpm, string>();

/**
 * The EK hash as tpm2-tools computes the EK and writes its public key: `tpm2_createek -G rsa` (the default
 * template, evident's default EK), then `tpm2_readpublic -f der`, a DER SubjectPublicKeyInfo, hashed here.
 */
async function toolsEkHash(sim: Swtpm): Promise<string> {
  await sim.tool('tpm2_createek', ['-G', 'rsa', '-c', 'ek.ctx']);
  await sim.tool('tpm2_readpublic', ['-c', 'ek.ctx', '-f', 'der', '-o', 'ek.der']);
  await sim.tool('tpm2_flushcontext', ['-t']); // swtpm has no resource manager: leave its object slots free
  return createHash('sha256')
    .update(await readFile(join(sim.work, 'ek.der')))
    .digest('hex');
}

const must = (args: string[]): Promise<string> => e2e.must([...args, '--admin-socket', admin], dir);

function startAgent(name: string, sim: Swtpm, dataDir = name): EvidentProcess {
  return e2e.start(
    [
      'agent',
      'run',
      '--server',
      `127.0.0.1:${port}`,
      '--trust-bundle',
      'bundle.pem',
      '--tpm',
      '--tpm-tcti',
      sim.tcti,
      '--socket',
      join(dir, name, 'api.sock'),
      '--data-dir',
      join(dir, dataDir, 'data'),
      '--log-format',
      'json',
    ],
    dir,
  );
}

async function agents(): Promise<{ spiffe_id: string; attestation_type: string; selectors: string[] }[]> {
  return (JSON.parse(await must(['server', 'agent', 'list', '--json'])) as { agents: never[] }).agents;
}

/** `evident svid fetch` on an agent's socket: a workload of this uid running this node binary. */
async function fetchSvid(agent: string, spiffeId: string, timeoutS = 10): Promise<{ code: number | null; out: string; err: string }> {
  const r = await runEvident(
    e2e.cmd,
    ['svid', 'fetch', '--socket', join(dir, agent, 'api.sock'), '--spiffe-id', spiffeId, '--timeout', String(timeoutS), '--json'],
    dir,
  );
  return { code: r.code, out: r.stdout, err: r.stderr };
}

/** The simulators and the server, once, by the first test (node:test may run top-level `before` hooks side by side: endToEnd's would not be done). */
let ready: Promise<void> | undefined;
const setUp = (): Promise<void> => (ready ??= startPlane());

async function startPlane(): Promise<void> {
  dir = e2e.work;
  for (let i = 0; i < 3; i++) sims.push(await startSwtpm());
  [simA, simB, simC] = sims as [Swtpm, Swtpm, Swtpm];
  for (const s of sims) hashes.set(s, await toolsEkHash(s));
  admin = join(dir, 'server', 'admin.sock');
  port = await freePort();
  await mkdir(join(dir, 'server'), { recursive: true });
  // A and C may attest; B is a machine no one enrolled
  await writeFile(join(dir, 'allowed-ek-hashes'), `# enrolled machines\n${hashes.get(simA)}  # A\n${hashes.get(simC)}  # C\n`);
  await writeFile(join(dir, 'server.yaml'), 'node_attestors:\n  tpm:\n    allowed_hashes: allowed-ek-hashes\n');
  server = e2e.start(
    [
      'server',
      'run',
      '--config',
      'server.yaml',
      '--trust-domain',
      TD,
      '--data-dir',
      join(dir, 'server'),
      '--admin-socket',
      admin,
      '--bind',
      `127.0.0.1:${port}`,
      '--x509-svid-ttl',
      `${SVID_TTL_S}s`,
      '--log-format',
      'json',
    ],
    dir,
  );
  await server.waitFor(/server ready/);
  await writeFile(join(dir, 'bundle.pem'), await must(['server', 'bundle', 'show']));
}

after(async () => {
  for (const s of sims) await s.stop();
});

test(
  'agent --tpm attests as …/evident/agent/tpm/<the hash tpm2-tools computes>; workloads get SVIDs by its agent ID and by tpm:pub_hash; renewal attests again',
  { skip, timeout: 120_000 },
  async () => {
    await setUp();
    const hash = hashes.get(simA)!;
    const agentId = `spiffe://${TD}/evident/agent/tpm/${hash}`;
    const agent = startAgent('a', simA);
    try {
      await attestsAndServes(agent, hash, agentId);
    } finally {
      await agent.stop(); // machine A's ID is used again below: this agent must not renew it meanwhile
    }
  },
);

async function attestsAndServes(agent: EvidentProcess, hash: string, agentId: string): Promise<void> {
  await agent.waitFor(/agent ready/);
  assert.match(agent.stderr(), new RegExp(`"agent":"${agentId}"`));
  const listed = (await agents()).find((a) => a.spiffe_id === agentId);
  assert.ok(listed, `server agent list has ${agentId}`);
  assert.equal(listed.attestation_type, 'tpm');
  assert.deepEqual(listed.selectors, [`tpm:pub_hash:${hash}`]);

  const uid = process.getuid?.() ?? 0;
  const workload = ['--selector', `unix:uid:${uid}`, `unix:sha256:${await sha256File(process.execPath)}`];
  await must(['server', 'entry', 'create', '--spiffe-id', `spiffe://${TD}/ci/by-agent-id`, '--parent-id', agentId, ...workload]);
  await must([
    'server',
    'entry',
    'create',
    '--spiffe-id',
    `spiffe://${TD}/nodes/tpm-enrolled`,
    '--parent-id',
    `spiffe://${TD}/evident/server`,
    '--selector',
    `tpm:pub_hash:${hash}`,
  ]);
  await must([
    'server',
    'entry',
    'create',
    '--spiffe-id',
    `spiffe://${TD}/ci/by-tpm-hash`,
    '--parent-id',
    `spiffe://${TD}/nodes/tpm-enrolled`,
    ...workload,
    '--wait',
  ]);
  for (const id of [`spiffe://${TD}/ci/by-agent-id`, `spiffe://${TD}/ci/by-tpm-hash`]) {
    const r = await fetchSvid('a', id);
    assert.equal(r.code, 0, r.err);
    assert.equal((JSON.parse(r.out) as { spiffeId: string }).spiffeId, id);
  }

  // at half its SVID's life the agent attests again with the same TPM, under the same ID
  const attested = () => agent.stderr().match(/"msg":"node attested"/g)?.length ?? 0;
  const deadline = Date.now() + SVID_TTL_S * 2000;
  while (attested() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  assert.ok(attested() >= 2, `the agent re-attested to renew: ${agent.stderr()}`);
  assert.doesNotMatch(agent.stderr(), /under another agent ID/);
}

test(
  'a machine whose EK is not in the allow-list is refused: the agent exits 2 naming the hash, PermissionDenied',
  { skip, timeout: 60_000 },
  async () => {
    await setUp();
    const agent = startAgent('b', simB);
    assert.equal(await agent.exit, 2, agent.stderr());
    const hash = hashes.get(simB)!;
    assert.match(
      agent.stderr(),
      new RegExp(
        `node attestation \\(tpm\\) refused by the server: .*the TPM whose EK hashes to ${hash} is not in this server's allow-list`,
      ),
    );
    assert.match(server.stderr(), new RegExp(`"code":"PERMISSION_DENIED","details":"[^"]*${hash} is not in this server's allow-list`));
    assert.equal((await agents()).filter((a) => a.spiffe_id.endsWith(hash)).length, 0);
  },
);

test('an agent whose TPM changed attests under another ID at its next renewal', { skip, timeout: 60_000 }, async () => {
  await setUp();
  // machine A's agent leaves a fresh SVID in its data dir; the next agent there has machine C's TPM
  const first = startAgent('a2', simA);
  await first.waitFor(/agent ready/);
  await first.stop();
  const agent = startAgent('c', simC, 'a2');
  await agent.waitFor(/agent ready/);
  assert.match(agent.stderr(), /using the stored agent SVID/);
  const idC = `spiffe://${TD}/evident/agent/tpm/${hashes.get(simC)}`;
  await agent.waitFor(/the node attested under another agent ID/, SVID_TTL_S * 2000);
  assert.match(agent.stderr(), new RegExp(`"agent":"${idC}"`));
  assert.ok((await agents()).some((a) => a.spiffe_id === idC));
  // entries parented to A's ID are no longer this agent's
  const r = await fetchSvid('c', `spiffe://${TD}/ci/by-agent-id`, 3);
  assert.notEqual(r.code, 0, r.out);
  await agent.stop();
});
