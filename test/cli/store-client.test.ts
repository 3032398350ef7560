/**
 * The evidence store's clients over real HTTP: `store push|query|get`, `run --store`, `record stop --store`
 * and `verify --store --product`, with links signed by evident's own code.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { saveKeyPair } from '../../src/crypto/key-files.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { tempDir, type TempDir } from '../intoto/verify/fixtures.js';
import { alice, chainLayout, owner, TARBALL, writeChain } from '../intoto/verify/chain.js';
import { startTestStore, type TestStore } from '../store/test-store.js';

const TOKEN = 'store-token-0123456789';

let tmp: TempDir;
let honest = '';
let tampered = '';
let store: TestStore;
let open: TestStore;

const sha256 = (data: string | Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const withToken = { EVIDENT_STORE_TOKEN: TOKEN };

before(async () => {
  tmp = await tempDir('evident-store-client-');
  honest = join(tmp.dir, 'honest');
  tampered = join(tmp.dir, 'tampered');
  for (const dir of [honest, tampered]) {
    await mkdir(dir);
    await writeChain(dir, { layout: chainLayout({ expires: '2099-01-01T00:00:00Z' }) });
    await saveKeyPair(owner(), join(dir, 'owner'));
    await saveKeyPair(alice(), join(dir, 'alice'));
    await writeFile(join(dir, 'hello.tar.gz'), TARBALL['hello.tar.gz']);
    await writeFile(join(dir, 'token'), `${TOKEN}\n`);
  }
  // the build link changed after it was signed: its signature no longer verifies, its products still lead to it
  const build = (await readdir(tampered)).find((f) => f.startsWith('build.'))!;
  const text = await readFile(join(tampered, build), 'utf8');
  await writeFile(join(tampered, build), text.replace('"cc"', '"gcc"'));
  store = await startTestStore({ token: TOKEN });
  open = await startTestStore({ token: TOKEN });
});

after(async () => {
  await store?.close();
  await open?.close();
  await tmp.cleanup();
});

const links = async (dir: string) => (await readdir(dir)).filter((f) => f.endsWith('.link')).sort();

function cli(argv: string[], dir: string, env: NodeJS.ProcessEnv = withToken): Promise<CliResult> {
  return runCli(argv, { cwd: dir, env });
}

test('store push, query, get: the exact bytes round-trip, a second push is idempotent', async () => {
  const files = [...(await links(honest)), 'root.layout'];
  const first = await cli(['store', 'push', ...files, '--store', store.url], honest);
  assert.equal(first.code, 0, first.stderr);
  const lines = first.stdout.trim().split('\n');
  assert.equal(lines.length, 4);
  for (const [i, line] of lines.entries()) {
    assert.equal(
      line,
      `stored ${sha256(await readFile(join(honest, files[i]!)))} ${files[i] === 'root.layout' ? 'layout' : 'link'} ${files[i]}`,
    );
  }
  const again = await cli(['store', 'push', files[0]!, '--store', store.url, '--json'], honest);
  assert.equal(again.code, 0, again.stderr);
  assert.equal((JSON.parse(again.stdout) as { created: boolean }[])[0]!.created, false);

  // the product as a file, hashed by the client; only the package link made it
  const query = await cli(['store', 'query', '--digest', 'hello.tar.gz', '--role', 'product', '--json'], honest, {
    ...withToken,
    EVIDENT_STORE_URL: store.url,
  });
  assert.equal(query.code, 0, query.stderr);
  const items = JSON.parse(query.stdout) as { digest: string; step: string; kind: string }[];
  assert.deepEqual(
    items.map((i) => [i.step, i.kind]),
    [['package', 'link']],
  );
  const pkg = (await links(honest)).find((f) => f.startsWith('package.'))!;
  assert.equal(items[0]!.digest, sha256(await readFile(join(honest, pkg))));

  const got = await cli(['store', 'get', items[0]!.digest, '-o', 'fetched.link', '--store', store.url], honest);
  assert.equal(got.code, 0, got.stderr);
  assert.deepEqual(await readFile(join(honest, 'fetched.link')), await readFile(join(honest, pkg)));
});

test('store push without a token: exit 3, the message names the store, the status and how to give one', async () => {
  const r = await cli(['store', 'push', 'root.layout', '--store', store.url], honest, {});
  assert.equal(r.code, 3);
  assert.match(r.stderr, new RegExp(`^evident: root\\.layout: store ${store.url.replace(/[.]/g, '\\.')}: upload: HTTP 401`));
  assert.match(r.stderr, /--store-token-file FILE or EVIDENT_STORE_TOKEN/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  const wrong = await cli(['store', 'push', 'root.layout', '--store', store.url], honest, { EVIDENT_STORE_TOKEN: 'not-it' });
  assert.equal(wrong.code, 3);
  assert.match(wrong.stderr, /HTTP 403/);
  const file = await cli(['store', 'push', 'root.layout', '--store', store.url, '--store-token-file', 'token'], honest, {});
  assert.equal(file.code, 0, file.stderr);
});

test('bad input: no store, a digest that is not one, a missing file (exit 2, one line)', async () => {
  const cases: [string[], RegExp][] = [
    [['store', 'push', 'root.layout'], /^evident: which store\? give --store URL \(or EVIDENT_STORE_URL\)\n$/],
    [['store', 'push', 'root.layout', '--store', 'ftp://x'], /only http and https URLs/],
    [['store', 'get', 'sha256:abc', '--store', store.url], /the digest must be sha256: and 64 hex digits/],
    [['store', 'query', '--digest', 'missing.bin', '--store', store.url], /^evident: missing\.bin: no such file or directory\n$/],
    [['store', 'push', 'nope.link', '--store', store.url], /^evident: nope\.link: no such file or directory\n$/],
    [['verify', '-l', 'root.layout', '-k', 'owner.pub', '--store', store.url], /with --store, say which product/],
    [['verify', '-l', 'root.layout', '-k', 'owner.pub', '--product', 'hello.tar.gz'], /--product is for links from a store/],
  ];
  for (const [argv, expected] of cases) {
    const r = await cli(argv, honest);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, expected);
  }
  const unknown = await cli(['store', 'get', sha256('nothing'), '--store', store.url], honest);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /has no evidence sha256:/);
});

test('an unreachable store: exit 3, one line naming it', async () => {
  const r = await cli(['store', 'push', 'root.layout', '--store', 'http://127.0.0.1:1'], honest);
  assert.equal(r.code, 3);
  assert.match(
    r.stderr,
    /^evident: root\.layout: store http:\/\/127\.0\.0\.1:1: cannot be reached \(connection refused\); is it running\?\n$/,
  );
});

/** The report's lines with the folder's path taken out of the file names it gives. */
const reportLines = (out: string, dir: string) => out.replaceAll(`${dir}/`, '').trim().split('\n');

test('verify --store --product: the honest chain passes with the report a folder gives', async () => {
  const pushed = await cli(['store', 'push', ...(await links(honest)), '--store', store.url], honest);
  assert.equal(pushed.code, 0, pushed.stderr);
  const fromFolder = await cli(['verify', '-l', 'root.layout', '-k', 'owner.pub'], honest);
  assert.equal(fromFolder.code, 0, fromFolder.stdout);
  for (const product of ['hello.tar.gz', sha256(TARBALL['hello.tar.gz'])]) {
    const fromStore = await cli(['verify', '-l', 'root.layout', '-k', 'owner.pub', '--store', store.url, '--product', product], honest);
    assert.equal(fromStore.code, 0, fromStore.stdout + fromStore.stderr);
    assert.deepEqual(reportLines(fromStore.stdout, honest), reportLines(fromFolder.stdout, honest));
    assert.match(fromStore.stderr, new RegExp(`^evident: verify: 3 links for ${sha256(TARBALL['hello.tar.gz'])} from `));
  }
  // a product the store knows nothing of: every step lacks its links, as in an empty folder
  const unknown = await cli(['verify', '-l', 'root.layout', '-k', 'owner.pub', '--store', store.url, '--product', sha256('other')], honest);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stdout, /^FAILED/m);
});

test('verify --store: a tampered link is stored, and fails verification with the reason a folder gives', async () => {
  const pushed = await cli(['store', 'push', ...(await links(tampered)), '--store', open.url], tampered);
  assert.equal(pushed.code, 0, pushed.stderr);
  const fromFolder = await cli(['verify', '-l', 'root.layout', '-k', 'owner.pub'], tampered);
  assert.equal(fromFolder.code, 1);
  const fromStore = await cli(
    ['verify', '-l', 'root.layout', '-k', 'owner.pub', '--store', open.url, '--product', 'hello.tar.gz'],
    tampered,
  );
  assert.equal(fromStore.code, 1, fromStore.stderr);
  assert.deepEqual(reportLines(fromStore.stdout, tampered), reportLines(fromFolder.stdout, tampered));
  assert.match(fromStore.stdout, /^✗ build: .*has no valid signature/m);
});

test('verify --max-store-links: a chain over the limit is an error naming it', async () => {
  const r = await cli(
    ['verify', '-l', 'root.layout', '-k', 'owner.pub', '--store', store.url, '--product', 'hello.tar.gz', '--max-store-links', '2'],
    honest,
  );
  assert.equal(r.code, 2);
  assert.match(r.stderr, /the chain has more than 2 links \(raise --max-store-links\)/);
});

test('run --store uploads the link it wrote; record stop --store too', async () => {
  const dir = join(tmp.dir, 'run');
  await mkdir(dir);
  await saveKeyPair(alice(), join(dir, 'alice'));
  const r = await cli(
    ['run', '-n', 'hello', '-k', 'alice', '-p', 'out.txt', '--store', store.url, '--', 'sh', '-c', 'echo hi > out.txt'],
    dir,
  );
  assert.equal(r.code, 0, r.stderr);
  const [file] = await links(dir);
  const bytes = await readFile(join(dir, file!));
  assert.match(
    r.stderr,
    new RegExp(`^evident: uploaded ${file!.replace('.', '\\.')} to ${store.url.replace(/[.]/g, '\\.')} \\(${sha256(bytes)}\\)$`, 'm'),
  );
  const got = await cli(['store', 'get', sha256(bytes), '--store', store.url], dir);
  assert.equal(got.stdout, bytes.toString('utf8'));

  assert.equal((await cli(['record', 'start', '-n', 'pack', '-k', 'alice', '-m', 'out.txt'], dir)).code, 0);
  const stop = await cli(['record', 'stop', '-n', 'pack', '-k', 'alice', '-p', 'out.txt', '--store', store.url], dir);
  assert.equal(stop.code, 0, stop.stderr);
  const found = await cli(['store', 'query', '--digest', 'out.txt', '--step', 'pack', '--json', '--store', store.url], dir);
  assert.equal((JSON.parse(found.stdout) as unknown[]).length, 1);

  // a DSSE envelope is uploaded the same way, and found as one
  const dsse = await cli(['run', '-n', 'sign', '-k', 'alice', '-x', '-m', 'out.txt', '--format', 'dsse', '--store', store.url], dir);
  assert.equal(dsse.code, 0, dsse.stderr);
  const asDsse = await cli(
    ['store', 'query', '--digest', 'out.txt', '--step', 'sign', '--role', 'material', '--json', '--store', store.url],
    dir,
  );
  assert.deepEqual(
    (JSON.parse(asDsse.stdout) as { kind: string }[]).map((i) => i.kind),
    ['dsse'],
  );
});

test('run --store: a failed upload exits 3, and the link stays on disk', async () => {
  const dir = join(tmp.dir, 'run-fail');
  await mkdir(dir);
  await saveKeyPair(alice(), join(dir, 'alice'));
  await writeFile(join(dir, 'in.txt'), 'in');
  const r = await cli(['run', '-n', 'hello', '-k', 'alice', '-x', '-m', 'in.txt', '--store', 'http://127.0.0.1:1'], dir);
  assert.equal(r.code, 3);
  const [file] = await links(dir);
  assert.ok(file);
  assert.match(
    r.stderr,
    new RegExp(`cannot be reached .*; the link is kept at ${file.replace('.', '\\.')} \\(upload it later with: evident store push`),
  );
  const refused = await cli(['run', '-n', 'again', '-k', 'alice', '-x', '-m', 'in.txt', '--store', store.url], dir, {});
  assert.equal(refused.code, 3);
  assert.match(refused.stderr, /HTTP 401.*the link is kept at again\./);
});
