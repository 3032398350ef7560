/**
 * `evident gate check`: the gate's decision in-process from a deploy step, against a real store with real
 * signed chains. Exit 0 allowed, 1 refused (one line per reason), 2 bad input, 3 store unreachable (as `evident verify`);
 * and `gate serve`'s flag checks.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { spawn } from '../helpers/child-process.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli.js';
import { gateWorld, type GateWorld } from '../gate/gate-fixtures.js';
import { call } from '../store/server-fixtures.js';

describe('evident gate check', () => {
  let world: GateWorld;
  let flags: string[];
  before(async () => {
    world = await gateWorld();
    flags = ['--store', world.store.url, '--layout', 'root.layout', '--layout-key', 'owner.pub'];
  });
  after(async () => {
    await world?.store.close();
    if (world) rmSync(world.dir, { recursive: true, force: true });
  });
  const cli = (argv: string[]) => runCli(argv, { cwd: world.dir });

  it('exits 0 for the honest digest, 1 for the tampered one with one line per reason', async () => {
    const ok = await cli(['gate', 'check', `registry.example/app@${world.chain.honestProduct}`, ...flags]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, `allowed: registry.example/app@${world.chain.honestProduct} by policy root.layout\n`);
    const bad = await cli(['gate', 'check', world.chain.tamperedProduct, ...flags]);
    assert.equal(bad.code, 1, bad.stderr);
    const lines = bad.stdout.trimEnd().split('\n');
    assert.equal(lines[0], `refused: ${world.chain.tamperedProduct} by policy root.layout`);
    assert.ok(lines.slice(1).every((l) => l.startsWith('  reason: ')));
    assert.ok(
      lines.some((l) => /reason: build: .*DISALLOW/.test(l)),
      bad.stdout,
    );
  });

  it('prints the verdict as JSON', async () => {
    const r = await cli(['gate', 'check', world.chain.honestProduct, ...flags, '--json']);
    assert.equal(r.code, 0);
    const v = JSON.parse(r.stdout) as { allowed: boolean; layout: string; reasons: string[] };
    assert.equal(v.allowed, true);
    assert.equal(v.layout, 'root.layout');
  });

  it('reads a policy file; a namespace no policy covers is refused', async () => {
    writeFileSync(
      join(world.dir, 'gate.yaml'),
      'policies:\n  - layout: root.layout\n    layoutKeys: [owner.pub]\n    namespaces: [prod]\n',
    );
    const base = ['gate', 'check', world.chain.honestProduct, '--store', world.store.url, '--policy', 'gate.yaml'];
    assert.equal((await cli([...base, '--namespace', 'prod'])).code, 0);
    const dev = await cli([...base, '--namespace', 'dev']);
    assert.equal(dev.code, 1);
    assert.match(dev.stdout, /reason: no policy applies to sha256:[0-9a-f]{64} in namespace dev/);
  });

  it('exits 3 as verify does for a store that is not running, refusing and saying the store cannot be reached (fail closed)', async () => {
    const unreachable = ['--store', 'http://127.0.0.1:9', '--layout', 'root.layout', '--layout-key', 'owner.pub'];
    const r = await cli(['gate', 'check', world.chain.honestProduct, ...unreachable]);
    assert.match(r.stdout, /^refused: sha256:[0-9a-f]{64} by policy root\.layout\n {2}reason: the evidence store cannot be reached/);
    // the code `evident verify --store` gives when it cannot fetch the evidence: an operational failure, not a verdict
    const verify = await cli([
      'verify',
      '-l',
      'root.layout',
      '-k',
      'owner.pub',
      '--store',
      'http://127.0.0.1:9',
      '--product',
      world.chain.honestProduct,
    ]);
    assert.equal(verify.code, 3, verify.stderr);
    assert.equal(r.code, verify.code);
    const json = await cli(['gate', 'check', world.chain.honestProduct, ...unreachable, '--json']);
    assert.equal(json.code, 3);
    assert.equal((JSON.parse(json.stdout) as { basis: string }).basis, 'unreachable');
  });

  it('counts a store that does not answer within --store-timeout as unreachable', async () => {
    const silent = createServer(() => {}); // accepts connections, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const { port } = silent.address() as AddressInfo;
      const argv = ['gate', 'check', world.chain.honestProduct, '--store', `http://127.0.0.1:${port}`, '--store-timeout', '300ms'];
      const r = await cli([...argv, '--layout', 'root.layout', '--layout-key', 'owner.pub']);
      assert.equal(r.code, 3);
      assert.match(r.stdout, /reason: the evidence store cannot be reached.*no answer within 0\.3 s/);
    } finally {
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  });

  it('gate serve answers /v1/admit until SIGTERM', async () => {
    const runner = fileURLToPath(new URL('./cli-runner.ts', import.meta.url));
    // from the repository's folder, where tsx resolves; the files by absolute path
    const files = ['--store', world.store.url, '--layout', world.chain.layoutFile, '--layout-key', world.chain.ownerKeyFile];
    const child = spawn(process.execPath, ['--import', 'tsx', runner, 'gate', 'serve', '--bind', '127.0.0.1:0', ...files], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /evident gate: serving (http:\/\/127\.0\.0\.1:\d+) \(1 policy: root\.layout/.exec(stderr);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`gate serve exited (${code}): ${stderr}`)));
    });
    const r = await call(url, '/v1/admit', { body: JSON.stringify({ artifact: world.chain.honestProduct }) });
    assert.equal(r.json().allowed, true, r.body.toString());
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(stderr, /evident gate: stopped \(SIGTERM\)/);
  });

  it('exits 2 for bad input, naming it, without a stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [['gate', 'check', 'sha256:123', ...flags], /not sha256: and 64 hex digits/],
      [['gate', 'check', world.chain.honestProduct, '--store', world.store.url], /give --layout FILE --layout-key KEY…, or --policy FILE/],
      [['gate', 'check', world.chain.honestProduct, '--layout', 'root.layout', '--layout-key', 'owner.pub'], /--store URL/],
      [['gate', 'check', world.chain.honestProduct, ...flags, '--policy', 'gate.yaml'], /not both/],
      [
        ['gate', 'check', world.chain.honestProduct, '--store', world.store.url, '--policy', 'missing.yaml'],
        /missing\.yaml.*cannot read the policy file/,
      ],
      [
        [
          'gate',
          'check',
          world.chain.honestProduct,
          '--store',
          world.store.url,
          '--layout',
          'inspected.layout',
          '--layout-key',
          'inspected-owner.pub',
        ],
        /has inspections \(untar\).*--skip-inspections/,
      ],
      [['gate', 'serve', ...flags, '--cache-ttl', 'soon'], /--cache-ttl takes a duration/],
    ];
    for (const [argv, message] of cases) {
      const r = await cli(argv);
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
  });
});
