// The evidence store in the identity plane, end to end with the real processes, once over SQLite and once
// over PostgreSQL: `evident server run` (6 s X509-SVIDs, so they rotate during the test, and a TSA),
// three `evident agent run` (the store's host and two runners), `evident store serve --spiffe-socket`
// serving HTTPS with its own X509-SVID, two runners uploading their links with `evident run --store` over
// mTLS with their SVIDs (two SPIFFE IDs), and a deployer outside the plane verifying from the store with
// `evident verify --store --store-ca bundle.pem`. What must not work does not: an upload without SVID or
// token (401), and a link altered after signing, which the store keeps but verification refuses as it
// would from a folder.
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { test } from 'node:test';
import pg from 'pg';
import { adminRequest } from '../../src/identity/server/index.js';
import { fetchX509Context } from '../../src/spiffe/workloadapi/client.js';
import { sha256File } from '../identity/agent/helpers.js';
import { dropSchema, PG_URL, pgSchemaOrSkip } from '../identity/server/pg-fixture.js';
import { endToEnd, runEvident, startJoinedAgent, type EvidentProcess } from '../helpers/evident-process.js';
import { freePort } from '../helpers/identity-server.js';

const e2e = endToEnd('evident-store-e2e-');
const must = e2e.must;

const TD = 'store.example';
const WORKLOADS = {
  store: `spiffe://${TD}/evidence/store`,
  builder: `spiffe://${TD}/ci/builder`,
  tester: `spiffe://${TD}/ci/tester`,
} as const;
type Workload = keyof typeof WORKLOADS;

interface Plane {
  /** bundle.pem, owner.pub and root.layout are here. */
  dir: string;
  tsa: string;
  /** The trust bundle: the deployer's trust in the store, and the test's. */
  bundlePem: string;
  /** Each workload's agent: one host each, so each gets its own SVID. */
  sockets: Record<Workload, string>;
}

let plane: Plane;
let starting: Promise<void> | undefined;

/**
 * The server, an agent per workload with the workload's entry, the trust bundle and the owner's layout:
 * started by the first test and shared (not in a `before`: Node 20 runs a file's root hooks side by side,
 * and this one needs the scratch folder endToEnd's makes).
 */
const identityPlane = () => (starting ??= startPlane());

async function startPlane(): Promise<void> {
  const started = Date.now();
  const dir = join(e2e.work, 'plane');
  await mkdir(dir);
  const port = await freePort();
  const tsaPort = await freePort();
  const admin = join(dir, 'server', 'admin.sock');
  const server = e2e.start(
    [
      'server',
      'run',
      '--trust-domain',
      TD,
      '--data-dir',
      join(dir, 'server'),
      '--admin-socket',
      admin,
      '--bind',
      `127.0.0.1:${port}`,
      '--x509-svid-ttl',
      '6s',
      '--tsa-bind',
      `127.0.0.1:${tsaPort}`,
    ],
    dir,
  );
  await server.waitFor(/server ready/);
  await writeFile(join(dir, 'bundle.pem'), await must(['server', 'bundle', 'show', '--admin-socket', admin], dir));
  const selectors = [`unix:uid:${process.getuid!()}`, `unix:sha256:${await sha256File(process.execPath)}`];
  const sockets = {} as Record<Workload, string>;
  await Promise.all(
    (Object.keys(WORKLOADS) as Workload[]).map(async (name) => {
      const token = (await must(['server', 'token', 'generate', '--admin-socket', admin], dir)).trim();
      sockets[name] = join(dir, `${name}.sock`);
      e2e.track(await startJoinedAgent(e2e.cmd, { port, token, socket: sockets[name], dataDir: join(dir, `agent-${name}`) }, dir));
      const created = await adminRequest(admin, 'POST', '/v1/entries', {
        spiffe_id: WORKLOADS[name],
        parent_id: `spiffe://${TD}/evident/agent/join_token/${token}`,
        selectors,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
    }),
  );
  await must(['keygen', 'owner'], dir);
  const functionary = (id: string) => `    functionaries: [{spiffe: "${id}", roots: [corp]}]`;
  await writeFile(
    join(dir, 'layout.yaml'),
    [
      'expires: 1d',
      'roots: {corp: bundle.pem}',
      'timestamp_authorities: {corp: bundle.pem}',
      'steps:',
      '  - name: build',
      functionary(WORKLOADS.builder),
      '    require_timestamps: true',
      '    products: [CREATE out.txt, DISALLOW *]',
      '  - name: test',
      functionary(WORKLOADS.tester),
      '    require_timestamps: true',
      '    materials: [MATCH out.txt WITH PRODUCTS FROM build, DISALLOW *]',
      '    products: [DISALLOW *]',
      '',
    ].join('\n'),
  );
  await must(['layout', 'create', 'layout.yaml', '-k', 'owner', '-o', 'root.layout'], dir);
  plane = { dir, tsa: `http://127.0.0.1:${tsaPort}/tsa`, bundlePem: await readFile(join(dir, 'bundle.pem'), 'utf8'), sockets };
  // an entry reaches its agent at the next sync (every 5 s): the test process has the workloads' uid and
  // binary, so it asks each agent itself until it serves the workload's SVID
  await Promise.all((Object.keys(WORKLOADS) as Workload[]).map((name) => served(name)));
  process.stderr.write(`identity plane: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

async function served(name: Workload): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const ids = await fetchX509Context({ address: socketOf(name), timeoutMs: 3000 }).then(
      (c) => c.svids.map((s) => s.id.toString()),
      (): string[] => [],
    );
    if (ids.includes(WORKLOADS[name])) return;
    assert.ok(Date.now() < deadline, `the ${name} agent did not serve ${WORKLOADS[name]} within 90 s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const socketOf = (name: Workload) => `unix://${plane.sockets[name]}`;

/** `evident run` by a runner with its SVID, time-stamped (the SVIDs are dead before the deployer looks), uploading when `store` is given. */
async function step(cwd: string, who: 'builder' | 'tester', args: string[], store?: string): Promise<string> {
  const r = await runEvident(
    e2e.cmd,
    ['run', '--spiffe-socket', socketOf(who), '--timestamp-server', plane.tsa, ...(store !== undefined ? ['--store', store] : []), ...args],
    cwd,
  );
  assert.equal(r.code, 0, `evident run ${args.join(' ')}: ${r.stderr}`);
  return r.stderr;
}

async function linkOf(dir: string, stepName: string): Promise<string> {
  const name = (await readdir(dir)).find((f) => f.startsWith(`${stepName}.`) && f.endsWith('.link'));
  assert.ok(name !== undefined, `no ${stepName} link in ${dir}`);
  return join(dir, name);
}

/** The serial number of the certificate the store serves a new connection now, and the SPIFFE ID it names. */
function servedCertificate(url: string): Promise<{ serial: string; san: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: hostname,
      port: Number(port),
      ca: plane.bundlePem,
      checkServerIdentity: () => undefined,
    });
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve({ serial: cert.serialNumber, san: cert.subjectaltname ?? '' });
    });
    socket.once('error', reject);
  });
}

/** The ✗ lines of a report: why verification failed, whatever else the two ways of finding links print. */
const failures = (stdout: string) => stdout.split('\n').filter((l) => l.includes('✗'));

async function scenario(name: string, datastore: string): Promise<void> {
  await identityPlane();
  const started = Date.now();
  const dir = join(e2e.work, name);
  const deployer = join(dir, 'deployer');
  await mkdir(deployer, { recursive: true });
  const store = e2e.start(['store', 'serve', '--datastore', datastore, '--bind', '127.0.0.1:0', '--spiffe-socket', socketOf('store')], dir);
  await store.waitFor(/serving https:\/\/127\.0\.0\.1:\d+/);
  const url = /serving (https:\/\/\S+)/.exec(store.stderr())![1]!;
  const first = await servedCertificate(url);
  assert.match(first.san, new RegExp(`URI:${WORKLOADS.store}`), 'the store serves its own X509-SVID');

  // the builder makes out.txt and uploads its link with its SVID
  const project = join(dir, 'project');
  await mkdir(project);
  const built = await step(project, 'builder', ['-n', 'build', '-p', 'out.txt', '--', 'sh', '-c', `echo ${name} > out.txt`], url);
  assert.match(built, /uploaded build\.\w{8}\.link to https:\/\/127\.0\.0\.1:\d+ \(sha256:[0-9a-f]{64}\)/);
  const product = `sha256:${createHash('sha256')
    .update(await readFile(join(project, 'out.txt')))
    .digest('hex')}`;

  // the store's SVID rotates: a new certificate for new connections, the same process
  await rotated(store, url, first.serial);

  // after the rotation: the tester uploads with another SVID, and the builder's upload is idempotent; the test
  // step outlasts the 6 s SVID it started with, so the upload presents the SVID of the moment, not that one
  const tested = await step(
    project,
    'tester',
    ['-n', 'test', '-m', 'out.txt', '--', 'sh', '-c', `grep -q ${name} out.txt && sleep 7`],
    url,
  );
  assert.match(tested, /uploaded test\.\w{8}\.link/);
  const buildLink = await linkOf(project, 'build');
  const again = JSON.parse(
    await must(['store', 'push', buildLink, '--store', url, '--spiffe-socket', socketOf('builder'), '--json'], dir),
  ) as {
    created: boolean;
  }[];
  assert.equal(again[0]!.created, false, 'the same bytes again are not stored twice');
  assert.match(store.stderr(), new RegExp(`stored sha256:[0-9a-f]{64} \\(link build\\) from ${WORKLOADS.builder}\\n`));
  assert.match(store.stderr(), new RegExp(`stored sha256:[0-9a-f]{64} \\(link test\\) from ${WORKLOADS.tester}\\n`));

  // neither SVID nor token: refused
  const anonymous = await runEvident(
    e2e.cmd,
    ['store', 'push', buildLink, '--store', url, '--store-ca', join(plane.dir, 'bundle.pem')],
    dir,
  );
  assert.equal(anonymous.code, 3, anonymous.stderr);
  assert.match(anonymous.stderr, /upload: HTTP 401: uploads need a bearer token .* or a client X509-SVID the store trusts/);

  // the deployer has no SVID: it trusts the store by the trust bundle, and the store hands it the chain
  const verifyFromStore = (product: string) =>
    runEvident(
      e2e.cmd,
      [
        'verify',
        '-l',
        '../../plane/root.layout',
        '-k',
        '../../plane/owner.pub',
        '--store',
        url,
        '--store-ca',
        '../../plane/bundle.pem',
        '--product',
        product,
      ],
      deployer,
    );
  const ok = await verifyFromStore(product);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, new RegExp(`build: 1 of 1 link signed by ${WORKLOADS.builder} \\(timestamped `));
  assert.match(ok.stdout, new RegExp(`test: 1 of 1 link signed by ${WORKLOADS.tester} \\(timestamped `));
  const untrusting = await runEvident(
    e2e.cmd,
    ['verify', '-l', '../../plane/root.layout', '-k', '../../plane/owner.pub', '--store', url, '--product', product],
    deployer,
  );
  assert.equal(untrusting.code, 3, 'without --store-ca the store is not trusted: ' + untrusting.stderr);

  // a build link altered after signing (its command), pushed by the builder: stored, and refused by verify as from a folder
  const altered = join(dir, 'altered');
  await mkdir(altered);
  await step(altered, 'builder', ['-n', 'build', '-p', 'out.txt', '--', 'sh', '-c', `echo ${name} altered > out.txt`]);
  const alteredLink = await linkOf(altered, 'build');
  const text = await readFile(alteredLink, 'utf8');
  assert.ok(text.includes('altered > out.txt'));
  await writeFile(alteredLink, text.replace('altered > out.txt', 'honest > out.txt'));
  const pushed = await must(['store', 'push', alteredLink, '--store', url, '--spiffe-socket', socketOf('builder')], dir);
  assert.match(pushed, /^stored sha256:[0-9a-f]{64} link /);
  await step(altered, 'tester', ['-n', 'test', '-m', 'out.txt', '--', 'sh', '-c', 'true'], url);
  const alteredProduct = `sha256:${createHash('sha256')
    .update(await readFile(join(altered, 'out.txt')))
    .digest('hex')}`;
  const fromStore = await verifyFromStore(alteredProduct);
  const fromFolder = await runEvident(e2e.cmd, ['verify', '-l', '../../plane/root.layout', '-k', '../../plane/owner.pub'], altered);
  assert.equal(fromStore.code, 1, fromStore.stdout + fromStore.stderr);
  assert.equal(fromFolder.code, 1, fromFolder.stdout + fromFolder.stderr);
  assert.match(fromStore.stdout, /✗ build: .*signature does not verify/);
  // the same reason; a folder's report names the link by its path, the store's by the name it would have in one
  assert.deepEqual(failures(fromStore.stdout), failures(fromFolder.stdout.replaceAll(`${altered}/`, '')));

  assert.equal(store.child.exitCode, null, 'the store served throughout, never restarted');
  assert.equal(store.stderr().match(/serving https:/g)?.length, 1);
  // SIGTERM ends its Workload API watch too: the process exits, cleanly
  assert.equal(await store.stop('SIGTERM'), 0, store.stderr());
  assert.match(store.stderr(), /evident store: stopped \(SIGTERM\)\n$/);
  process.stderr.write(`${name}: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

/** Waits until the store serves a certificate other than `serial`, and said so. */
async function rotated(store: EvidentProcess, url: string, serial: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await servedCertificate(url)).serial === serial) {
    assert.ok(Date.now() < deadline, 'the store served the same certificate for 20 s (6 s SVIDs)');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const announced = store.stderr().match(new RegExp(`X509-SVID ${WORKLOADS.store} \\(expires `, 'g'))?.length ?? 0;
  assert.ok(announced >= 2, `the store told of ${announced} X509-SVIDs`);
}

test(
  'SQLite: runners upload over mTLS with their SVIDs to a store serving its rotating SVID; the deployer verifies from it',
  { timeout: 90_000 },
  async () => {
    await scenario('sqlite', `sqlite:${join(e2e.work, 'evidence.sqlite3')}`);
  },
);

test('PostgreSQL: the same with the evidence in PostgreSQL', { timeout: 90_000 }, async (t) => {
  const schema = await pgSchemaOrSkip();
  if (schema === undefined) {
    t.skip(`no PostgreSQL at ${PG_URL}`);
    return;
  }
  // `store serve` takes the schema from the URL (search_path); the schema must exist
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.end();
  try {
    await scenario('postgres', `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`);
  } finally {
    await dropSchema(schema);
  }
});

test(
  'store serve --spiffe-socket: with --tls-cert, exit 2; no X509-SVID within --spiffe-timeout, exit 3; each one line',
  { timeout: 90_000 },
  async () => {
    await identityPlane();
    const dir = join(e2e.work, 'refusals');
    await mkdir(dir);
    await writeFile(join(dir, 'cert.pem'), plane.bundlePem);
    const serve = (args: string[]) =>
      runEvident(e2e.cmd, ['store', 'serve', '--data-dir', '.', '--bind', '127.0.0.1:0', '--spiffe-timeout', '2', ...args], dir);
    // side by side: the two that wait do so at the same time
    const cases: { args: readonly string[]; code: number; message: RegExp; run: ReturnType<typeof serve> }[] = [];
    for (const [args, code, message] of [
      [
        ['--spiffe-socket', socketOf('store'), '--tls-cert', 'cert.pem', '--tls-key', 'cert.pem'],
        2,
        /^evident: store: serve HTTPS with --spiffe-socket .* or with --tls-cert\/--tls-key .*, not both$/,
      ],
      [
        ['--spiffe-socket', socketOf('store'), '--trust-bundle', 'cert.pem'],
        2,
        /^evident: store: --trust-bundle is for --tls-cert\/--tls-key: /,
      ],
      [['--spiffe-socket', 'http://127.0.0.1:1'], 2, /must have a "unix" scheme/],
      // the agent serves this workload another identity than the one asked for
      [
        ['--spiffe-socket', socketOf('store'), '--spiffe-id', `spiffe://${TD}/evidence/other`],
        3,
        new RegExp(
          `^evident: store: no X509-SVID from the Workload API at \\S+ within 2 s \\(last: .*no SVID with SPIFFE ID "spiffe://${TD}/evidence/other" among ${WORKLOADS.store}\\)$`,
        ),
      ],
      [
        ['--spiffe-socket', join(dir, 'nobody.sock')],
        3,
        /^evident: store: no X509-SVID from the Workload API at \S+nobody\.sock within 2 s \(last: .*ENOENT/,
      ],
    ] as const) {
      cases.push({ args, code, message, run: serve([...args]) });
    }
    for (const { args, code, message, run } of cases) {
      const r = await run;
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr.trim(), message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  },
);
