// Evidence signed by a short-lived SVID still verifies after the SVID expired, end to end with the real
// processes: `evident server run --tsa-bind` (5 s SVIDs and a time-stamping authority), `evident agent run`,
// `evident run --spiffe-socket --timestamp-server`, and `evident verify` without --verify-time once the SVID
// is dead. Then what an attacker or an accident can do to the token: remove it, alter it, or get it from a
// TSA the layout does not trust (a standalone `evident tsa serve` of its own PKI).
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { adminRequest } from '../../src/identity/server/index.js';
import { sha256File } from '../identity/agent/helpers.js';
import { endToEnd, runEvident, startJoinedAgent } from '../helpers/evident-process.js';
import { freePort } from '../helpers/identity-server.js';
import { tsaPki, writePki } from '../time/helpers.js';

const e2e = endToEnd('evident-trusted-time-');
const must = e2e.must;

interface Signed {
  dir: string;
  link: string;
  notAfter: number;
}

/** `evident run` in a fresh folder, signed with the builder's SVID and time-stamped by `tsa`. */
async function build(name: string, socket: string, tsa: string): Promise<Signed> {
  const dir = join(e2e.work, name);
  await mkdir(dir);
  await must(
    [
      'run',
      '-n',
      'build',
      '--spiffe-socket',
      `unix://${socket}`,
      '--timestamp-server',
      tsa,
      '-p',
      'out.txt',
      '--',
      'sh',
      '-c',
      'echo built > out.txt',
    ],
    dir,
  );
  const link = join(
    dir,
    (await readdir(dir)).find((f) => f.endsWith('.link'))!,
  );
  const cert = (JSON.parse(await readFile(link, 'utf8')) as { signatures: { cert: string }[] }).signatures[0]!.cert;
  return { dir, link, notAfter: Date.parse(new X509Certificate(cert).validTo) };
}

async function editLink(s: Signed, edit: (signature: { timestamps?: { type: string; data: string }[] }) => void): Promise<void> {
  const doc = JSON.parse(await readFile(s.link, 'utf8')) as { signatures: { timestamps?: { type: string; data: string }[] }[] };
  edit(doc.signatures[0]!);
  await writeFile(s.link, JSON.stringify(doc));
}

const verify = (s: Signed) => runEvident(e2e.cmd, ['verify', '-l', '../root.layout', '-k', '../owner.pub'], s.dir);

test(
  'an SVID-signed, time-stamped link verifies after its SVID expired; without, altered or untrusted tokens it does not',
  { timeout: 120_000 },
  async () => {
    const td = 'time.example';
    const port = await freePort();
    const tsaPort = await freePort();
    const admin = join(e2e.work, 'server', 'admin.sock');
    const server = e2e.start(
      [
        'server',
        'run',
        '--trust-domain',
        td,
        '--data-dir',
        join(e2e.work, 'server'),
        '--admin-socket',
        admin,
        '--bind',
        `127.0.0.1:${port}`,
        '--x509-svid-ttl',
        '5s',
        '--tsa-bind',
        `127.0.0.1:${tsaPort}`,
      ],
      e2e.work,
    );
    await server.waitFor(/server ready/);
    const trustedTsa = `http://127.0.0.1:${tsaPort}/tsa`;
    await writeFile(join(e2e.work, 'bundle.pem'), await must(['server', 'bundle', 'show', '--admin-socket', admin], e2e.work));

    // a TSA of another PKI: a real one, which the layout does not trust
    const rogueDir = join(e2e.work, 'rogue-tsa');
    await mkdir(rogueDir);
    writePki(rogueDir, await tsaPki());
    const rogue = e2e.start(
      ['tsa', 'serve', '--key', 'tsa.key', '--cert', 'tsa-chain.pem', '--bind', '127.0.0.1:0', '--threads', '0'],
      rogueDir,
    );
    await rogue.waitFor(/serving http:\/\/127\.0\.0\.1:\d+\/tsa/);
    const rogueTsa = /serving (http:\/\/\S+)/.exec(rogue.stderr())![1]!;

    const token = (await must(['server', 'token', 'generate', '--admin-socket', admin], e2e.work)).trim();
    const socket = join(e2e.work, 'agent.sock');
    e2e.track(await startJoinedAgent(e2e.cmd, { port, token, socket, dataDir: join(e2e.work, 'agent') }, e2e.work));
    await adminRequest(admin, 'POST', '/v1/entries', {
      spiffe_id: `spiffe://${td}/ci/builder`,
      parent_id: `spiffe://${td}/evident/agent/join_token/${token}`,
      selectors: [`unix:uid:${process.getuid!()}`, `unix:sha256:${await sha256File(process.execPath)}`],
    });

    await must(['keygen', 'owner'], e2e.work);
    await writeFile(
      join(e2e.work, 'layout.yaml'),
      [
        'expires: 1d',
        'roots: {corp: bundle.pem}',
        'timestamp_authorities: {corp: bundle.pem}',
        'steps:',
        '  - name: build',
        `    functionaries: [{spiffe: "spiffe://${td}/ci/builder", roots: [corp]}]`,
        '    products: [CREATE out.txt, DISALLOW *]',
        '',
      ].join('\n'),
    );
    await must(['layout', 'create', 'layout.yaml', '-k', 'owner', '-o', 'root.layout'], e2e.work);

    // the entry reaches the agent at its next sync: wait until it signs
    const deadline = Date.now() + 30_000;
    let good: Signed | undefined;
    while (good === undefined) {
      good = await build(`good-${Date.now()}`, socket, trustedTsa).catch((e: unknown) => {
        assert.ok(Date.now() < deadline, String(e));
        return undefined;
      });
      if (good === undefined) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const builds = {
      good,
      removed: await build('removed', socket, trustedTsa),
      altered: await build('altered', socket, trustedTsa),
      untrusted: await build('untrusted', socket, rogueTsa),
    };
    await editLink(builds.removed, (s) => delete s.timestamps);
    await editLink(builds.altered, (s) => {
      // the token's genTime (a GeneralizedTime, "20YYMMDDhhmmss…Z") moved an hour back: what a back-dater would want
      const der = Buffer.from(s.timestamps![0]!.data, 'base64');
      const at = der.findIndex(
        (b, i) => b === 0x18 && der[i + 1]! >= 15 && der[i + 1]! <= 19 && der[i + 2] === 0x32 && der[i + 3] === 0x30,
      );
      assert.ok(at > 0, 'the token holds a GeneralizedTime');
      const hour = at + 2 + 8;
      const shifted = (Number(der.subarray(hour, hour + 2).toString()) + 23) % 24;
      der.write(String(shifted).padStart(2, '0'), hour, 'latin1');
      s.timestamps![0]!.data = der.toString('base64');
    });

    // every SVID that signed is dead before the deployer looks
    const lastExpiry = Math.max(...Object.values(builds).map((b) => b.notAfter));
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, lastExpiry - Date.now()) + 1000));

    const ok = await verify(builds.good);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, new RegExp(`build: 1 of 1 link signed by spiffe://time\\.example/ci/builder \\(timestamped \\S+ by `));

    const removed = await verify(builds.removed);
    assert.equal(removed.code, 1, removed.stdout + removed.stderr);
    assert.match(removed.stdout, /certificate of spiffe:\/\/time\.example\/ci\/builder is not valid: leaf certificate expired/);

    const altered = await verify(builds.altered);
    assert.equal(altered.code, 1, altered.stdout + altered.stderr);
    assert.match(altered.stdout, /timestamp 1 of signature by spiffe:\/\/time\.example\/ci\/builder: /);

    const untrusted = await verify(builds.untrusted);
    assert.equal(untrusted.code, 1, untrusted.stdout + untrusted.stderr);
    assert.match(
      untrusted.stdout,
      /timestamp 1 of signature by spiffe:\/\/time\.example\/ci\/builder: not signed by a TSA the layout trusts/,
    );
  },
);
