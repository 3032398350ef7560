/**
 * Start-up: `evident --version` and every `--help` load no command's libraries, and an admin command only
 * its HTTP client (bench/startup.ts measures the time; here is what is loaded, which does not depend on
 * the machine). The top-level help, listed from the table in commands.ts without loading the commands,
 * is the one the commands' files would give.
 */
import assert from 'node:assert/strict';
import { execFile } from '../helpers/child-process.js';
import { promisify } from 'node:util';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command, Help } from 'commander';
import { COMMANDS } from '../../src/cli/commands.js';
import { CliContext } from '../../src/cli/context.js';
import { runCli } from '../helpers/cli.js';
import { ensureBuilt, REPO_ROOT } from '../helpers/evident-process.js';
import { startServer, type TestServer } from '../helpers/identity-server.js';

/** Packages that take tens to hundreds of milliseconds to load, none of which a help text needs. */
const HEAVY = [
  '@grpc/',
  '@peculiar/',
  'better-sqlite3',
  '/pg/',
  'jose',
  'yaml',
  'pino',
  'reflect-metadata',
  'asn1js',
  'ignore',
  // CEL, for layouts whose steps expect attestations (docs/policy.md)
  '@bufbuild/',
];

/** The packages (node_modules/NAME) `node bin/evident ARGS` loads. */
async function packagesLoaded(args: string[], dir: string): Promise<string[]> {
  const trace = join(dir, `trace-${args.join('-').replace(/[^a-z-]/gi, '')}.txt`);
  // not spawnSync: an admin command's server runs in this process, and must answer while the command waits
  await promisify(execFile)(process.execPath, ['--import', './test/helpers/trace-loads.mjs', 'bin/evident', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, EVIDENT_TRACE_LOADS: trace },
    timeout: 60_000,
  });
  const urls = (await readFile(trace, 'utf8')).split('\n');
  return [...new Set(urls.flatMap((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u)?.[1] ?? []))].sort();
}

const heavyAmong = (packages: string[]): string[] => packages.filter((p) => HEAVY.some((h) => `/${p}/`.includes(h) || p.startsWith(h)));

describe('start-up', () => {
  let dir: string;
  let server: TestServer;
  before(async () => {
    ensureBuilt();
    dir = await mkdtemp(join(tmpdir(), 'evident-startup-'));
    server = await startServer({ settings: { admin_socket: join(dir, 'admin.sock') } });
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('evident --version loads no package, not even the argument parser', async () => {
    assert.deepEqual(await packagesLoaded(['--version'], dir), []);
  });

  const helps = [
    ['--help'],
    ['server', '--help'],
    ['server', 'entry', 'create', '--help'],
    ['agent', '--help'],
    ['svid', '--help'],
    ['verify', '--help'],
    ['run', '--help'],
    ['record', '--help'],
    ['layout', 'create', '--help'],
    ['image', '--help'],
    ['demo', '--help'],
    ['agent', 'run', '--help'],
  ];
  for (const args of helps) {
    it(`evident ${args.join(' ')} loads none of the commands' libraries`, async () => {
      assert.deepEqual(heavyAmong(await packagesLoaded(args, dir)), []);
    });
  }

  it('an admin command (server entry list, bundle show) loads only its HTTP client, not the server', async () => {
    for (const args of [
      ['server', 'entry', 'list', '--admin-socket', server.adminSocket],
      ['server', 'bundle', 'show', '--admin-socket', server.adminSocket],
    ])
      assert.deepEqual(heavyAmong(await packagesLoaded(args, dir)), [], args.join(' '));
  });

  it('verify of a static-key chain loads no X.509, ASN.1 or CEL library (they are for certificates, timestamps and attestation rules)', async () => {
    // a pinned-root check loaded @peculiar/x509 for every layout once: 270 ms of CPU on each verify
    const chain = join(dir, 'static-chain');
    await mkdir(chain);
    const cli = (args: string[]) => promisify(execFile)(process.execPath, [join(REPO_ROOT, 'bin', 'evident'), ...args], { cwd: chain });
    await cli(['keygen', 'owner']);
    await cli(['keygen', 'dev']);
    await writeFile(
      join(chain, 'layout.yaml'),
      'expires: 1d\nkeys: {dev: dev.pub}\nsteps:\n  - name: code\n    functionaries: [dev]\n    products: [CREATE layout.yaml]\n',
    );
    await cli(['layout', 'create', 'layout.yaml', '-k', 'owner', '-o', 'root.layout']);
    await cli(['run', '-n', 'code', '-k', 'dev', '-x', '-q', '-p', 'layout.yaml']);
    const loaded = await packagesLoaded(
      ['verify', '-l', join(chain, 'root.layout'), '-k', join(chain, 'owner.pub'), '--link-dir', chain],
      dir,
    );
    assert.deepEqual(heavyAmong(loaded), [], `verify loaded ${loaded.join(', ')}`);
  });

  it('the top-level help lists each command as its file defines it (name, options, arguments, description)', async () => {
    const ctx = new CliContext({ stdout: { write: () => true }, stderr: { write: () => true }, env: {}, cwd: '/' });
    for (const [name, entry] of Object.entries(COMMANDS)) {
      const program = new Command('evident');
      (await entry.load())(program, ctx);
      const real = program.commands.find((c) => c.name() === name);
      assert.ok(real, `${name}: its file registers no command '${name}'`);
      assert.equal(entry.description, real.description(), `${name}: description in commands.ts`);
      assert.equal(entry.term, new Help().subcommandTerm(real), `${name}: help line in commands.ts`);
    }
  });

  it('help, typos and subcommand help still work with commands loaded on demand', async () => {
    const top = await runCli(['--help']);
    assert.equal(top.code, 0);
    for (const entry of Object.values(COMMANDS)) assert.match(top.stdout, new RegExp(`^  ${entry.term.replace(/[[\].]/g, '\\$&')} `, 'm'));
    const helpServer = await runCli(['help', 'server']);
    assert.match(helpServer.stdout, /^Usage: evident server \[options\] \[command\]/m);
    assert.match(helpServer.stdout, /^ {2}run \[options\] /m);
    const typo = await runCli(['servr']);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /unknown command 'servr'[\s\S]*Did you mean server\?/);
    assert.equal((await runCli(['--version'])).stdout, '0.1.0\n');
  });

  it('server run --help and agent run --help list every setting, plugins included (loaded when run is named)', async () => {
    const srv = await runCli(['server', 'run', '--help']);
    for (const flag of ['--config <file>', '--trust-domain <td>', '--log-format <format>', '--x509pop-ca-bundle', '--node-attestor <name>'])
      assert.ok(srv.stdout.includes(flag), `server run --help lacks ${flag}`);
    const nested = await runCli(['server', 'help', 'run']);
    assert.equal(nested.stdout, srv.stdout, 'server help run is server run --help');
    const agent = await runCli(['agent', 'run', '--help']);
    for (const flag of ['--server <host:port>', '--join-token <token>', '--x509pop-cert <file>', '--log-format <format>'])
      assert.ok(agent.stdout.includes(flag), `agent run --help lacks ${flag}`);
  });
});
