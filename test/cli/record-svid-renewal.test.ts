// `record start` / `record stop --spiffe-socket` across an SVID renewal, with the real processes: `evident
// server run`, `evident agent run` (join token), registration entries with a 5 s X509-SVID lifetime so the
// agent renews within the test, and the CLI (in this process: the agent attests it as this uid running this
// Node binary). The preliminary link of an earlier SVID of the same SPIFFE ID under the same trust bundle is
// accepted even once that SVID expired; everything else is refused, saying why.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { adminRequest } from '../../src/identity/server/index.js';
import { recordStart } from '../../src/intoto/runlib/record-step.js';
import type { Link, Metablock } from '../../src/intoto/models/types.js';
import { svidSigner } from '../../src/spiffe/x509svid/signer.js';
import { fetchX509Context } from '../../src/spiffe/workloadapi/client.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import {
  ensureBuilt,
  evidentCommand,
  runEvident,
  startEvident,
  startJoinedAgent,
  type EvidentProcess,
} from '../helpers/evident-process.js';
import { freePort } from '../helpers/identity-server.js';
import { makeCa, makeSvid } from '../helpers/pki.js';
import { openTempDir, sha256File } from '../identity/agent/helpers.js';

const TD = 'renewal.example';
const EDITOR = `spiffe://${TD}/ci/editor`;
const OTHER = `spiffe://${TD}/ci/other`;
/** Short enough that the agent renews (at half-life) and the first SVID expires within a test. */
const SVID_TTL_S = 5;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('record start/stop --spiffe-socket across an SVID renewal (real server and agent)', { timeout: 180_000 }, () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let server: EvidentProcess;
  let agent: EvidentProcess;
  let address: string;
  let n = 0;

  before(async () => {
    ensureBuilt();
    const cmd = evidentCommand();
    tmp = await openTempDir('evident-record-renewal-');
    const port = await freePort();
    const serverDir = join(tmp.dir, 'server');
    const adminSocket = join(serverDir, 'admin.sock');
    const admin = async (method: string, path: string, body?: unknown): Promise<unknown> =>
      (await adminRequest(adminSocket, method, path, body)).body;
    server = startEvident(
      cmd,
      ['server', 'run', '--trust-domain', TD, '--data-dir', serverDir, '--bind', `127.0.0.1:${port}`, '--admin-socket', adminSocket],
      tmp.dir,
    );
    await server.waitFor(/server ready/);
    const gen = await runEvident(cmd, ['server', 'token', 'generate', '--admin-socket', adminSocket], tmp.dir);
    assert.equal(gen.code, 0, gen.stderr);
    const token = gen.stdout.trim();
    await writeFile(join(tmp.dir, 'bundle.pem'), (await admin('GET', '/v1/bundle?format=pem')) as string);
    const selectors = [`unix:uid:${process.getuid?.() ?? 0}`, `unix:sha256:${await sha256File(process.execPath)}`];
    const parentId = `spiffe://${TD}/evident/agent/join_token/${token}`;
    for (const id of [EDITOR, OTHER])
      await admin('POST', '/v1/entries', { spiffe_id: id, parent_id: parentId, selectors, x509_svid_ttl: SVID_TTL_S });
    const socket = join(tmp.dir, 'agent', 'api.sock');
    address = `unix://${socket}`;
    agent = await startJoinedAgent(cmd, { port, token, socket, dataDir: join(tmp.dir, 'agent', 'data') }, tmp.dir);
    // the agent learns of the entries at its next sync
    const deadline = Date.now() + 30_000;
    while (!(await served([EDITOR, OTHER]))) {
      if (Date.now() > deadline) throw new Error(`the agent did not serve ${EDITOR} within 30 s: ${agent.stderr()}`);
      await sleep(250);
    }
  });

  after(async () => {
    await agent?.stop('SIGKILL');
    await server?.stop('SIGKILL');
    await tmp?.cleanup();
  });

  async function served(ids: string[]): Promise<boolean> {
    return fetchX509Context({ address, timeoutMs: 5000 }).then(
      (ctx) => ids.every((id) => ctx.svids.some((s) => s.id.toString() === id)),
      () => false,
    );
  }

  /** A fresh folder with one material. */
  async function workdir(): Promise<string> {
    const dir = join(tmp.dir, `step-${++n}`);
    await mkdir(dir);
    await writeFile(join(dir, 'input.txt'), 'materials\n');
    return dir;
  }

  const record = (dir: string, verb: 'start' | 'stop', ...more: string[]): Promise<CliResult> =>
    runCli(['record', verb, '-n', 'edit', '--spiffe-socket', address, ...(verb === 'start' ? ['-m'] : ['-p']), 'input.txt', ...more], {
      cwd: dir,
    });

  async function preliminary(dir: string): Promise<{ file: string; metablock: Metablock<Link>; leaf: X509Certificate }> {
    const file = (await readdir(dir)).find((f) => f.endsWith('.link-unfinished'));
    assert.ok(file, 'record start left a preliminary link');
    const metablock = JSON.parse(await readFile(join(dir, file), 'utf8')) as Metablock<Link>;
    return { file, metablock, leaf: new X509Certificate(metablock.signatures[0]!.cert!) };
  }

  /** Waits until `leaf` has expired (the agent renews at half-life, so it holds a newer SVID by then). */
  async function outlive(leaf: X509Certificate): Promise<void> {
    const wait = new Date(leaf.validTo).getTime() + 1500 - Date.now();
    if (wait > 0) await sleep(wait);
  }

  it('record stop accepts the preliminary link of the renewed, since expired, SVID of the same SPIFFE ID', async () => {
    const dir = await workdir();
    const start = await record(dir, 'start', '--spiffe-id', EDITOR);
    assert.equal(start.code, 0, start.stderr);
    const { metablock, leaf } = await preliminary(dir);
    await outlive(leaf);
    const stop = await record(dir, 'stop', '--spiffe-id', EDITOR);
    assert.equal(stop.code, 0, stop.stderr);
    const files = await readdir(dir);
    assert.deepEqual(
      files.filter((f) => f.endsWith('.link-unfinished')),
      [],
    );
    const linkFile = files.find((f) => f.endsWith('.link'))!;
    const link = JSON.parse(await readFile(join(dir, linkFile), 'utf8')) as Metablock<Link>;
    // signed by the renewed SVID: another certificate, another key, the same SPIFFE ID
    const finalLeaf = new X509Certificate(link.signatures[0]!.cert!);
    assert.notEqual(finalLeaf.serialNumber, leaf.serialNumber);
    assert.notEqual(link.signatures[0]!.keyid, metablock.signatures[0]!.keyid);
    assert.equal(finalLeaf.subjectAltName, `URI:${EDITOR}`);
    assert.deepEqual(link.signed.materials, metablock.signed.materials);
    assert.ok(link.signed.products['input.txt']);
  });

  it('refuses a preliminary link signed by a static key, saying so', async () => {
    const dir = await workdir();
    assert.equal((await runCli(['keygen', join(dir, 'builder')], { cwd: dir })).code, 0);
    const start = await runCli(['record', 'start', '-n', 'edit', '-k', 'builder', '-m', 'input.txt'], { cwd: dir });
    assert.equal(start.code, 0, start.stderr);
    const stop = await record(dir, 'stop', '--spiffe-id', EDITOR);
    assert.equal(stop.code, 1, stop.stderr);
    assert.match(stop.stderr, /signed by a static key .*not by an SVID of spiffe:\/\/renewal\.example\/ci\/editor/);
    assert.doesNotMatch(stop.stderr, /changed after record start/);
    assert.ok(
      (await readdir(dir)).some((f) => f.endsWith('.link-unfinished')),
      'the preliminary link is kept',
    );
  });

  it('refuses a preliminary link signed by an SVID of another SPIFFE ID, naming both', async () => {
    const dir = await workdir();
    assert.equal((await record(dir, 'start', '--spiffe-id', OTHER)).code, 0);
    const stop = await record(dir, 'stop', '--spiffe-id', EDITOR);
    assert.equal(stop.code, 1, stop.stderr);
    assert.match(
      stop.stderr,
      /not signed by an SVID of spiffe:\/\/renewal\.example\/ci\/editor: its certificate names spiffe:\/\/renewal\.example\/ci\/other$/m,
    );
  });

  it('refuses a preliminary link changed after record start, even across a renewal', async () => {
    const dir = await workdir();
    assert.equal((await record(dir, 'start', '--spiffe-id', EDITOR)).code, 0);
    const { file, leaf } = await preliminary(dir);
    const text = await readFile(join(dir, file), 'utf8');
    await writeFile(join(dir, file), text.replace(/"sha256": ?"[0-9a-f]{64}"/, `"sha256":"${'0'.repeat(64)}"`));
    await outlive(leaf);
    const stop = await record(dir, 'stop', '--spiffe-id', EDITOR);
    assert.equal(stop.code, 1, stop.stderr);
    assert.match(stop.stderr, /changed after record start: its signature does not verify/);
  });

  it('refuses a preliminary link signed by an SVID of the same SPIFFE ID from another CA', async () => {
    const dir = await workdir();
    const now = new Date();
    const foreign = await makeSvid(await makeCa(TD, now), '/ci/editor', { now });
    await recordStart({ name: 'edit', signer: svidSigner(foreign), materials: ['input.txt'], collect: {}, cwd: dir });
    const stop = await record(dir, 'stop', '--spiffe-id', EDITOR);
    assert.equal(stop.code, 1, stop.stderr);
    assert.match(
      stop.stderr,
      /not signed by an SVID of spiffe:\/\/renewal\.example\/ci\/editor: its certificate does not chain to the trust bundle of renewal\.example/,
    );
  });

  it('--max-step-duration takes a duration, and only with --spiffe-socket', async () => {
    const dir = await workdir();
    const bad = await record(dir, 'stop', '--max-step-duration', 'soon');
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /^evident: --max-step-duration: 'soon' is not a duration/);
    assert.equal((await runCli(['keygen', join(dir, 'k')], { cwd: dir })).code, 0);
    const withKey = await runCli(['record', 'stop', '-n', 'edit', '-k', 'k', '-p', 'input.txt', '--max-step-duration', '1h'], { cwd: dir });
    assert.equal(withKey.code, 2, withKey.stderr);
    assert.match(withKey.stderr, /--max-step-duration .*needs --spiffe-socket/);
  });

  it('refuses the preliminary link of an SVID that expired before the step could have started (--max-step-duration)', async () => {
    const dir = await workdir();
    assert.equal((await record(dir, 'start', '--spiffe-id', EDITOR)).code, 0);
    const { leaf } = await preliminary(dir);
    await outlive(leaf);
    await sleep(1000);
    const stop = await record(dir, 'stop', '--spiffe-id', EDITOR, '--max-step-duration', '1s');
    assert.equal(stop.code, 1, stop.stderr);
    assert.match(
      stop.stderr,
      /signed by a certificate that expired at .*, more than 1s ago: longer than a step may take \(record stop --max-step-duration\)/,
    );
  });
});
