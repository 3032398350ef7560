// `evident tsa serve` (src/cli/tsa.ts): a real process serving tokens until SIGTERM; refusals in one line
// with the CLI contract's exit codes.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requestTimestamp } from '../../src/time/client.js';
import { verifyTimestampToken } from '../../src/time/verify.js';
import { runCli } from '../helpers/cli.js';
import { ensureBuilt, evidentCommand, startEvident } from '../helpers/evident-process.js';
import { makeCert } from '../helpers/pki.js';
import { scratchDir, tsaPki, writePki } from './helpers.js';

describe('evident tsa serve', () => {
  let cmd: string[];
  before(() => {
    ensureBuilt();
    cmd = evidentCommand();
  });

  for (const threads of ['2', '0']) {
    it(`serves tokens that verify under the root (--threads ${threads}), and stops on SIGTERM with exit 0`, async (t) => {
      const dir = scratchDir(t);
      const pki = await tsaPki();
      writePki(dir, pki);
      const args = [
        'tsa',
        'serve',
        '--key',
        'tsa.key',
        '--cert',
        'tsa-chain.pem',
        '--bind',
        '127.0.0.1:0',
        '--policy',
        '1.2.3.4.7',
        '--threads',
        threads,
      ];
      const proc = startEvident(cmd, args, dir);
      t.after(() => proc.stop('SIGKILL'));
      await proc.waitFor(/serving http:\/\/127\.0\.0\.1:\d+\/tsa/, 30_000);
      const url = /serving (http:\/\/\S+)/.exec(proc.stderr())![1]!;
      const data = Buffer.from('a signature');
      for (let i = 0; i < 4; i++) {
        const r = verifyTimestampToken(await requestTimestamp(url, data), data, [pki.root.cert]);
        assert.ok(r.ok && r.policy === '1.2.3.4.7', JSON.stringify(r));
      }
      assert.equal(await proc.stop('SIGTERM'), 0);
      assert.doesNotMatch(proc.stderr(), /internal error/);
    });
  }

  it('refuses a certificate without the critical timeStamping extended key usage: one line, exit 2', async (t) => {
    const dir = scratchDir(t);
    const pki = await tsaPki();
    writePki(dir, pki);
    const notCritical = await makeCert({ issuer: pki.intermediate, key: pki.tsa.key, extKeyUsages: ['1.3.6.1.5.5.7.3.8'] });
    writeFileSync(join(dir, 'not-critical.pem'), notCritical.pem);
    const r = await runCli(['tsa', 'serve', '--key', 'tsa.key', '--cert', 'not-critical.pem', '--bind', '127.0.0.1:0'], { cwd: dir });
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr,
      "evident: not-critical.pem: the certificate's extended key usage timeStamping is not critical (RFC 3161 §2.3)\n",
    );

    const other = await runCli(['tsa', 'serve', '--key', 'tsa.key', '--cert', 'root.pem', '--bind', '127.0.0.1:0'], { cwd: dir });
    assert.equal(other.code, 2);
    assert.match(
      other.stderr,
      /^evident: root\.pem: the certificate has no extended key usage; a TSA certificate needs timeStamping \(critical\)\n$/,
    );

    const missing = await runCli(['tsa', 'serve', '--key', 'nope.key', '--cert', 'tsa.pem', '--bind', '127.0.0.1:0'], { cwd: dir });
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, 'evident: nope.key: no such file or directory\n');

    const badThreads = await runCli(['tsa', 'serve', '--key', 'tsa.key', '--cert', 'tsa.pem', '--threads', 'many'], { cwd: dir });
    assert.equal(badThreads.code, 2);
    assert.equal(badThreads.stderr, "evident: --threads takes a whole number from 0 to 64, not 'many'\n");

    const badBind = await runCli(['tsa', 'serve', '--key', 'tsa.key', '--cert', 'tsa.pem', '--bind', 'localhost'], { cwd: dir });
    assert.equal(badBind.code, 2);
    assert.equal(badBind.stderr, "evident: bind address 'localhost' is not HOST:PORT\n");
  });

  it('says ENVIRONMENT (exit 3) when the address is taken', async (t) => {
    const dir = scratchDir(t);
    const pki = await tsaPki();
    writePki(dir, pki);
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    t.after(() => taken.close());
    const port = (taken.address() as { port: number }).port;
    const r = await runCli(['tsa', 'serve', '--key', 'tsa.key', '--cert', 'tsa.pem', '--bind', `127.0.0.1:${port}`], { cwd: dir });
    assert.equal(r.code, 3);
    assert.equal(r.stderr, `evident: cannot listen on 127.0.0.1:${port}: EADDRINUSE\n`);
  });
});
