// `evident demo --tpm`: the same pipeline, its two runners attested by TPM 2.0 simulators (swtpm) enrolled
// in the server's allow-list instead of join tokens. Skipped, loudly, without swtpm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo } from '../../src/demo/hello-world.js';
import { adminRequest } from '../../src/identity/server/index.js';
import { skipUnlessSwtpm } from '../helpers/swtpm.js';
import { processesMentioning } from './processes.js';

test(
  'evident demo --tpm: both runners attest with their TPM, as …/evident/agent/tpm/<the hash enrolled>; the demo passes as before',
  { timeout: 420_000 },
  async (t) => {
    if (skipUnlessSwtpm(t)) return;
    const workdir = await mkdtemp(join(tmpdir(), 'evident-demo-tpm-'));
    t.after(() => rm(workdir, { recursive: true, force: true }));
    const lines: string[] = [];
    let agents: { spiffe_id: string; attestation_type: string; selectors: string[] }[] = [];
    const result = await runDemo({
      workdir,
      tpm: true,
      log: (l) => lines.push(l),
      whileUp: async () => {
        const res = await adminRequest(join(workdir, 'identity', 'server', 'admin.sock'), 'GET', '/v1/agents');
        agents = (res.body as { agents: typeof agents }).agents;
      },
    });
    const output = lines.join('\n');
    assert.ok(result.honestPassed && result.honestLaterPassed, output);
    assert.ok(
      result.attacks.every((a) => a.caught),
      output,
    );
    assert.match(output, /agents on build-runner and scan-runner, each attested with its own TPM \(a swtpm simulator\)/);

    const enrolled = (await readFile(join(workdir, 'identity', 'tpm-allowed-hashes'), 'utf8'))
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim())
      .filter((l) => l !== '');
    assert.equal(enrolled.length, 2, 'one EK hash per runner');
    assert.notEqual(enrolled[0], enrolled[1], 'two machines, two TPMs');
    assert.deepEqual(
      agents.map((a) => [a.spiffe_id, a.attestation_type, a.selectors]).sort(),
      enrolled.map((h) => [`spiffe://demo.evident/evident/agent/tpm/${h}`, 'tpm', [`tpm:pub_hash:${h}`]]).sort(),
      'the agents are the two TPMs, and no join-token agent',
    );
    assert.deepEqual(await processesMentioning(workdir), [], 'the simulators stopped with the demo');
  },
);
