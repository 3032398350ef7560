// Setting up identity as docs/identity.md tells it, with a real server (in this process, on a real TLS port and
// admin socket) and real `evident agent run` processes: what a person gets wrong first must fail in one clear line.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UNIX_SELECTORS, kindOf } from '../../src/identity/common/selectors.js';
import { runCli } from '../helpers/cli.js';
import { ensureBuilt, evidentCommand, startEvident, type EvidentProcess } from '../helpers/evident-process.js';
import { startServer, TD, type TestServer } from '../helpers/identity-server.js';
import { openTempDir } from '../identity/agent/helpers.js';

const SERVER_ID = `spiffe://${TD}/evident/server`;

describe('identity set-up: entries, selectors, parent IDs, sockets', { timeout: 120_000 }, () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let cmd: string[];
  let server: TestServer;
  let agent: EvidentProcess;
  let agentId: string;
  let socket: string;
  const uid = process.getuid!();
  const admin = (...args: string[]) => runCli(['server', ...args, '--admin-socket', server.adminSocket], { cwd: tmp.dir });
  const withDataDir = (token: string, sock: string, name: string): EvidentProcess =>
    startEvident(
      cmd,
      [
        'agent',
        'run',
        '--server',
        server.address,
        '--trust-bundle',
        'bundle.pem',
        '--join-token',
        token,
        '--socket',
        sock,
        '--data-dir',
        join(tmp.dir, name),
      ],
      tmp.dir,
    );

  before(async () => {
    ensureBuilt();
    cmd = evidentCommand();
    tmp = await openTempDir('evident-setup-');
    server = await startServer();
    await writeFile(join(tmp.dir, 'bundle.pem'), (await server.admin('GET', '/v1/bundle?format=pem')) as string);
    const token = await server.joinToken();
    agentId = `spiffe://${TD}/evident/agent/join_token/${token}`;
    socket = join(tmp.dir, 'a', 'api.sock');
    agent = withDataDir(token, socket, 'a-data');
    await agent.waitFor(/agent ready/);
  });

  after(async () => {
    await agent?.stop('SIGKILL');
    await server?.close();
    await tmp?.cleanup();
  });

  it('svid fetch takes a plain path; with no entry yet, the Workload API says what the process is and when entries arrive', async () => {
    const r = await runCli(['svid', 'fetch', '--socket', socket], { cwd: tmp.dir });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /no identity issued: no registration entry on this agent matches this process's selectors \(unix:uid:\d+ /);
    assert.match(r.stderr, /fetched its entries \d+s ago and does every 5s, so an entry created since arrives within that: retry/);
    // what the unix attestor really produced is what `evident agent selectors` documents
    const produced = /selectors \(([^)]*)\)/.exec(r.stderr)![1]!.split(' ');
    assert.ok(produced.includes(`unix:uid:${uid}`));
    for (const s of produced) {
      const i = s.indexOf(':');
      assert.ok(kindOf({ type: s.slice(0, i), value: s.slice(i + 1) }, UNIX_SELECTORS), `${s} is a documented kind`);
    }
  });

  it('entry create refuses a selector no attestor produces, or a value it never has: exit 2, one line naming the known ones', async () => {
    const cases: [string, string[], RegExp][] = [
      [
        agentId,
        ['unix:bogus:1'],
        /'unix:bogus:1' is not a selector any workload attestor produces \(known: unix:uid, unix:user, .*unix:sha256;/,
      ],
      [agentId, ['unix:uid:alice'], /'unix:uid:alice': unix:uid takes a number \(the user ID\)/],
      [agentId, ['x509pop:subject:cn:n1'], /'x509pop:subject:cn:n1' is not a selector any workload attestor produces/],
      // a node entry is matched against node attestation, and this server runs only join_token
      [SERVER_ID, ['x509pop:subject:cn:n1'], /not a selector any node attestor of this server .* produces \(known: spiffe_id;/],
      [SERVER_ID, [`unix:uid:${uid}`], /not a selector any node attestor of this server/],
    ];
    for (const [parent, selectors, message] of cases) {
      const r = await admin(
        'entry',
        'create',
        '--spiffe-id',
        `spiffe://${TD}/bad`,
        '--parent-id',
        parent,
        ...selectors.flatMap((s) => ['--selector', s]),
      );
      assert.equal(r.code, 2, `${selectors.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, message);
    }
    const none = JSON.parse((await admin('entry', 'list', '--json')).stdout) as { entries: { spiffe_id: string }[] };
    assert.ok(!none.entries.some((e) => e.spiffe_id === `spiffe://${TD}/bad`), 'nothing was stored');
  });

  it('entry create says at once when no attested agent answers to the parent ID, and --wait gives up on it with exit 3', async () => {
    const wrong = `spiffe://${TD}/no-such-agent`;
    const r = await admin('entry', 'create', '--spiffe-id', `spiffe://${TD}/orphan`, '--parent-id', wrong, '--selector', 'unix:uid:0');
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`warning: no attested agent may serve it: none is ${wrong}, and no node entry makes it an alias of one`),
    );
    const waited = await admin(
      'entry',
      'create',
      '--spiffe-id',
      `spiffe://${TD}/orphan2`,
      '--parent-id',
      wrong,
      '--selector',
      'unix:uid:0',
      '--wait',
      '1',
    );
    assert.equal(waited.code, 3, waited.stderr);
    assert.match(waited.stderr, /^evident: entry \S+ was created, but within 1s no attested agent may serve it/m);
  });

  it('entry create --wait returns once the agent has the entry: the workload then gets its SVID at once', async () => {
    const r = await admin(
      'entry',
      'create',
      '--spiffe-id',
      `spiffe://${TD}/me`,
      '--parent-id',
      agentId,
      '--selector',
      `unix:uid:${uid}`,
      '--wait',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`fetched by its agent: ${agentId}`));
    const fetched = await runCli(['svid', 'fetch', '--socket', `unix://${socket}`, '--json'], { cwd: tmp.dir });
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.equal((JSON.parse(fetched.stdout) as { spiffeId: string }).spiffeId, `spiffe://${TD}/me`);
    // without --wait: a note on why a workload may briefly be told "no identity issued"
    const later = await admin(
      'entry',
      'create',
      '--spiffe-id',
      `spiffe://${TD}/me2`,
      '--parent-id',
      agentId,
      '--selector',
      `unix:uid:${uid}`,
    );
    assert.match(
      later.stderr,
      /agents fetch new entries every 5s: until then a workload is told "no identity issued" \(--wait waits for them\)/,
    );
    // a relative path is relative to the working directory
    const relative = await runCli(['svid', 'fetch', '--socket', 'a/api.sock', '--json'], { cwd: tmp.dir });
    assert.equal(relative.code, 0, relative.stderr);
  });

  it('an agent started on a busy socket fails before attesting (one line, exit 3), so its join token still attests another', async () => {
    const token = await server.joinToken();
    const busy = withDataDir(token, socket, 'b-data');
    assert.equal(await busy.exit, 3, busy.stderr());
    const lines = busy
      .stderr()
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('evident:'));
    assert.deepEqual(lines.length, 1, busy.stderr());
    assert.match(lines[0]!, /api\.sock: another process is serving on this socket \(is an agent already running\?\)/);
    assert.doesNotMatch(busy.stderr(), /node attested/);
    // the same token, a free socket given as a unix:// URI: it attests
    const other = join(tmp.dir, 'c', 'api.sock');
    const good = withDataDir(token, `unix://${other}`, 'c-data');
    try {
      await good.waitFor(/agent ready/);
      const health = await runCli(['agent', 'healthcheck', '--socket', other], { cwd: tmp.dir });
      assert.equal(health.code, 0, health.stderr);
    } finally {
      await good.stop('SIGKILL');
    }
  });

  it('an agent whose socket cannot be created fails before attesting, in one line, exit 3', async () => {
    const token = await server.joinToken();
    await writeFile(join(tmp.dir, 'file'), 'not a folder\n');
    const p = withDataDir(token, join(tmp.dir, 'file', 'api.sock'), 'd-data');
    assert.equal(await p.exit, 3, p.stderr());
    assert.doesNotMatch(p.stderr(), /node attested/);
    const used = await runCli(['server', 'agent', 'list', '--admin-socket', server.adminSocket, '--json'], { cwd: tmp.dir });
    assert.ok(!used.stdout.includes(token), 'no agent attested with the token');
  });

  it('an agent whose stored SVID another server issued attests with the fresh join token it is given', async () => {
    await agent.stop();
    const other = await startServer();
    try {
      await writeFile(join(tmp.dir, 'bundle2.pem'), (await other.admin('GET', '/v1/bundle?format=pem')) as string);
      const token = await other.joinToken();
      const p = startEvident(
        cmd,
        [
          'agent',
          'run',
          '--server',
          other.address,
          '--trust-bundle',
          'bundle2.pem',
          '--join-token',
          token,
          '--socket',
          join(tmp.dir, 'e', 'api.sock'),
          '--data-dir',
          join(tmp.dir, 'a-data'),
        ],
        tmp.dir,
      );
      try {
        await p.waitFor(/agent ready/);
        assert.match(p.stderr(), new RegExp(`join_token/${token}`));
      } finally {
        await p.stop('SIGKILL');
      }
    } finally {
      await other.close();
    }
  });
});
