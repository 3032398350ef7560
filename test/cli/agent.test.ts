import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SvidCache } from '../../src/identity/agent/cache.js';
import { WorkloadApiServer } from '../../src/identity/agent/workloadapi/index.js';
import { runCli } from '../helpers/cli.js';
import { openTempDir } from '../identity/agent/helpers.js';

describe('evident agent (CLI)', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  before(async () => {
    tmp = await openTempDir('evident-agent-cli-');
    await writeFile(join(tmp.dir, 'empty.pem'), 'nothing here\n');
  });
  after(() => tmp.cleanup());

  const usage = [
    { args: ['agent', 'run', '--trust-bundle', 'b.pem', '--join-token', 't'], message: /--server HOST:PORT is required/ },
    { args: ['agent', 'run', '--server', '127.0.0.1:1', '--join-token', 't'], message: /--trust-bundle FILE is required/ },
    { args: ['agent', 'run', '--server', '127.0.0.1:1', '--trust-bundle', 'b.pem'], message: /--join-token TOKEN or --x509pop-cert/ },
    {
      args: ['agent', 'run', '--server', '127.0.0.1:1', '--trust-bundle', 'b.pem', '--join-token', 't', '--x509pop-cert', 'c'],
      message: /not both/,
    },
    { args: ['agent', 'run', '--server', '127.0.0.1:1', '--trust-bundle', 'b.pem', '--x509pop-cert', 'c'], message: /go together/ },
  ];
  for (const u of usage) {
    it(`refuses ${u.args.slice(2).join(' ')} with a one-line usage error (exit 2)`, async () => {
      const r = await runCli(u.args, { cwd: tmp.dir });
      assert.equal(r.code, 2);
      assert.match(r.stderr, u.message);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    });
  }

  it('takes its settings from EVIDENT_AGENT_* when flags are absent, and names a bad trust bundle file', async () => {
    const r = await runCli(['agent', 'run'], {
      cwd: tmp.dir,
      env: { EVIDENT_AGENT_SERVER: '127.0.0.1:1', EVIDENT_AGENT_TRUST_BUNDLE: 'empty.pem', EVIDENT_AGENT_JOIN_TOKEN: 't' },
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /empty\.pem: no PEM certificate in the trust bundle/);
  });

  it('reads a config file (paths relative to it), flags win over it, unknown settings are refused', async () => {
    await writeFile(join(tmp.dir, 'agent.yaml'), 'server: 127.0.0.1:1\ntrust_bundle: sub/none.pem\njoin_token: t\n');
    const r = await runCli(['agent', 'run', '--config', 'agent.yaml'], { cwd: tmp.dir, env: { EVIDENT_AGENT_SERVER: '10.0.0.1:2' } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`${join(tmp.dir, 'sub', 'none.pem').replace(/[.]/g, '\\.')}: no such file`));
    const flagWins = await runCli(['agent', 'run', '--config', 'agent.yaml', '--trust-bundle', 'empty.pem'], { cwd: tmp.dir });
    assert.match(flagWins.stderr, /empty\.pem: no PEM certificate/);
    await writeFile(join(tmp.dir, 'bad.yaml'), 'servr: x\n');
    const bad = await runCli(['agent', 'run', '--config', 'bad.yaml'], { cwd: tmp.dir });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /bad\.yaml: unknown setting 'servr'/);
  });

  it('a missing trust bundle file is an input error naming the file', async () => {
    const r = await runCli(['agent', 'run', '--server', '127.0.0.1:1', '--trust-bundle', 'missing.pem', '--join-token', 't'], {
      cwd: tmp.dir,
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /missing\.pem: no such file or directory/);
  });

  it('healthcheck: exit 0 when an agent answers on the socket, exit 3 when none does', async () => {
    const socket = join(tmp.dir, 'api.sock');
    const down = await runCli(['agent', 'healthcheck', '--socket', socket], { cwd: tmp.dir });
    assert.equal(down.code, 3);
    assert.match(down.stderr, /agent is not healthy/);
    const api = await WorkloadApiServer.start({ socketPath: socket, source: new SvidCache() });
    try {
      const up = await runCli(['agent', 'healthcheck', '--socket', `unix://${socket}`, '--json'], { cwd: tmp.dir });
      assert.equal(up.code, 0, up.stderr);
      assert.deepEqual(JSON.parse(up.stdout), { healthy: true, socket, detail: 'serving' });
    } finally {
      await api.close(100);
    }
  });
});
