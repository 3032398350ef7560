import { execFileSync } from '../../helpers/child-process.js';
import { chmod, chown, lstat, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { credentials, Metadata, status, type Client, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { SvidCache } from '../../../src/identity/agent/cache.js';
import { PeerConnections, WorkloadApiServer, type ServedEntry } from '../../../src/identity/agent/workloadapi/index.js';
import { X509BundleSet, X509Bundle } from '../../../src/spiffe/bundle/index.js';
import { verify } from '../../../src/spiffe/x509svid/index.js';
import { WorkloadApiClient, WorkloadApiError, workloadApiClientConstructor } from '../../../src/spiffe/workloadapi/index.js';
import { testAuthority, type TestAuthority } from './authority.js';
import { runWorkload } from './child.js';
import { canSwitchUser, NOBODY, openTempDir } from './helpers.js';

const TD = 'example.org';
const entry = (id: string, path: string, selectors: string[], createdAt: number, hint = ''): ServedEntry => ({
  id,
  spiffeId: `spiffe://${TD}${path}`,
  selectors: selectors.map((s) => ({ type: 'unix', value: s })),
  hint,
  createdAt,
});

const ROOT = entry('e-root', '/root-workload', ['uid:0'], 1);
const ROOT2 = entry('e-root-2', '/root-second', ['uid:0', 'gid:0'], 2, 'second');
const NOBODY_ENTRY = entry('e-nobody', '/nobody', [`uid:${NOBODY}`], 3);
const NEVER = entry('e-never', '/never', ['uid:0', 'path:/nonexistent/binary'], 4);

type Raw = Client & Record<string, (...a: unknown[]) => unknown>;

function rawClient(socket: string): Raw {
  const Ctor = workloadApiClientConstructor();
  return new Ctor(`unix://${socket}`, credentials.createInsecure()) as unknown as Raw;
}

function header(): Metadata {
  const md = new Metadata();
  md.set('workload.spiffe.io', 'true');
  return md;
}

function rawUnary(c: Raw, rpc: string, req: object, md: Metadata): Promise<unknown> {
  return new Promise((resolve, reject) => {
    c[rpc]?.(req, md, { deadline: Date.now() + 5000 }, (err: ServiceError | null, res: unknown) => (err ? reject(err) : resolve(res)));
  });
}

function rawFirst(c: Raw, rpc: string, md: Metadata): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const s = c[rpc]?.({}, md, { deadline: Date.now() + 5000 }) as ClientReadableStream<unknown>;
    s.on('data', (m) => {
      resolve(m);
      s.cancel();
    });
    s.on('error', (e: ServiceError) => {
      if (e.code !== status.CANCELLED) reject(e);
    });
  });
}

const grpcCode = (code: status) => (e: unknown) => (e as ServiceError).code === code;

describe('Workload API server on a Unix socket (static identity source)', () => {
  let dir: { dir: string; cleanup: () => Promise<void> };
  let ca: TestAuthority;
  let cache: SvidCache;
  let api: WorkloadApiServer;
  let socket: string;
  let address: string;

  before(async () => {
    dir = await openTempDir('evident-wlapi-');
    socket = join(dir.dir, 'nested', 'public', 'api.sock');
    address = `unix://${socket}`;
    ca = await testAuthority(TD);
    cache = new SvidCache({ jwtSigner: ca.jwtSigner });
    const entries = [ROOT, ROOT2, NOBODY_ENTRY, NEVER];
    const svids = await Promise.all(entries.map((e) => ca.issue(e)));
    cache.update(() => {
      cache.setEntries(entries);
      for (const s of svids) cache.setX509Svid(s);
      cache.setBundles(ca.bundles());
    });
    api = await WorkloadApiServer.start({ socketPath: socket, source: cache });
  });

  after(async () => {
    await api.close(500);
    await dir.cleanup();
  });

  it('listens on a socket any workload can connect to', async () => {
    const st = await lstat(socket);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o777);
  });

  it('gives the caller every SVID whose entry selectors it has, default first, verifiable against the bundle', async () => {
    const client = WorkloadApiClient.create({ address });
    try {
      const ctx = await client.fetchX509Context();
      assert.deepEqual(
        ctx.svids.map((s) => s.id.toString()),
        [ROOT.spiffeId, ROOT2.spiffeId],
      );
      assert.equal(ctx.svids[1]?.hint, 'second');
      const bundle = X509Bundle.fromAuthorities(
        ca.td,
        ca.cas.map((c) => c.cert),
      );
      for (const s of ctx.svids) assert.equal(verify(s, X509BundleSet.of([bundle])).id.toString(), s.id.toString());
      assert.equal((await client.fetchX509SVID()).id.toString(), ROOT.spiffeId);
      assert.equal((await client.fetchX509SVID({ hint: 'second' })).id.toString(), ROOT2.spiffeId);
      const bundles = await client.fetchX509Bundles();
      assert.equal(bundles.get(ca.td)?.authorities.length, ca.cas.length);
      const jwtBundles = await client.fetchJWTBundles();
      assert.ok(jwtBundles.get(ca.td)?.findAuthority('k1'));
    } finally {
      client.close();
    }
  });

  it('identifies two concurrent clients of different users by the kernel, each on its own connection', async (t) => {
    if (!canSwitchUser()) return t.skip('not root: cannot run a workload as another uid');
    const nobodyWatch = runWorkload(['watch-x509', address, '2'], { uid: NOBODY });
    const rootWatch = runWorkload(['watch-x509', address, '2']);
    const [n1, r1] = await Promise.all([nobodyWatch.line(1), rootWatch.line(1)]);
    assert.deepEqual(n1.ids, [NOBODY_ENTRY.spiffeId]);
    assert.deepEqual(r1.ids, [ROOT.spiffeId, ROOT2.spiffeId]);
    // Rotation: new SVIDs for everyone; each open stream is pushed its own new SVID.
    const rotated = await Promise.all([ROOT, ROOT2, NOBODY_ENTRY].map((e) => ca.issue(e)));
    cache.update(() => rotated.forEach((s) => cache.setX509Svid(s)));
    const [n2, r2] = await Promise.all([nobodyWatch.line(2), rootWatch.line(2)]);
    assert.deepEqual(n2.ids, [NOBODY_ENTRY.spiffeId]);
    assert.notDeepEqual(n2.serials, n1.serials);
    assert.deepEqual(r2.ids, [ROOT.spiffeId, ROOT2.spiffeId]);
    assert.notDeepEqual(r2.serials, r1.serials);
    await Promise.all([nobodyWatch.done, rootWatch.done]);
  });

  it('refuses every RPC without the security header (InvalidArgument)', async () => {
    const c = rawClient(socket);
    try {
      for (const rpc of ['FetchX509SVID', 'FetchX509Bundles', 'FetchJWTBundles']) {
        await assert.rejects(
          rawFirst(c, rpc, new Metadata()),
          (e: ServiceError) => e.code === status.INVALID_ARGUMENT && /security header/.test(e.details),
          rpc,
        );
      }
      await assert.rejects(rawUnary(c, 'FetchJWTSVID', { audience: ['a'] }, new Metadata()), grpcCode(status.INVALID_ARGUMENT));
      await assert.rejects(rawUnary(c, 'ValidateJWTSVID', { audience: 'a', svid: 'x' }, new Metadata()), grpcCode(status.INVALID_ARGUMENT));
      const wrong = new Metadata();
      wrong.set('workload.spiffe.io', 'yes');
      await assert.rejects(rawFirst(c, 'FetchX509SVID', wrong), grpcCode(status.INVALID_ARGUMENT));
      // with the header, the same raw call works
      const res = (await rawFirst(c, 'FetchX509SVID', header())) as { svids: { spiffe_id: string }[] };
      assert.equal(res.svids[0]?.spiffe_id, ROOT.spiffeId);
    } finally {
      c.close();
    }
  });

  it('issues JWT-SVIDs for an audience, refuses an empty one, and validates tokens', async () => {
    const c = rawClient(socket);
    const client = WorkloadApiClient.create({ address });
    try {
      await assert.rejects(
        rawUnary(c, 'FetchJWTSVID', { audience: [] }, header()),
        (e: ServiceError) => e.code === status.INVALID_ARGUMENT && /audience/.test(e.details),
      );
      await assert.rejects(rawUnary(c, 'FetchJWTSVID', { audience: [''] }, header()), grpcCode(status.INVALID_ARGUMENT));
      const jwt = await client.fetchJWTSVID({ audience: 'spiffe://example.org/api' });
      assert.equal(jwt.id.toString(), ROOT.spiffeId);
      const second = await client.fetchJWTSVID({ audience: 'spiffe://example.org/api', spiffeId: ROOT2.spiffeId });
      assert.equal(second.id.toString(), ROOT2.spiffeId);
      await assert.rejects(
        rawUnary(c, 'FetchJWTSVID', { audience: ['x'], spiffe_id: NOBODY_ENTRY.spiffeId }, header()),
        grpcCode(status.PERMISSION_DENIED),
      );
      const validated = await client.validateJWTSVID(jwt.marshal(), 'spiffe://example.org/api');
      assert.equal(validated.id.toString(), ROOT.spiffeId);
      const res = (await rawUnary(c, 'ValidateJWTSVID', { audience: 'spiffe://example.org/api', svid: jwt.marshal() }, header())) as {
        spiffe_id: string;
        claims: { fields: Record<string, { stringValue?: string }> };
      };
      assert.equal(res.spiffe_id, ROOT.spiffeId);
      assert.equal(res.claims.fields['sub']?.stringValue, ROOT.spiffeId);
      await assert.rejects(
        rawUnary(c, 'ValidateJWTSVID', { audience: 'other', svid: jwt.marshal() }, header()),
        grpcCode(status.INVALID_ARGUMENT),
      );
      await assert.rejects(
        rawUnary(c, 'ValidateJWTSVID', { audience: 'a', svid: 'not.a.jwt' }, header()),
        grpcCode(status.INVALID_ARGUMENT),
      );
      await assert.rejects(
        rawUnary(c, 'ValidateJWTSVID', { audience: '', svid: jwt.marshal() }, header()),
        grpcCode(status.INVALID_ARGUMENT),
      );
      await assert.rejects(rawUnary(c, 'ValidateJWTSVID', { audience: 'a', svid: '' }, header()), grpcCode(status.INVALID_ARGUMENT));
    } finally {
      c.close();
      client.close();
    }
  });

  it('pushes new bundles to bundle streams when the CA rotates', async () => {
    const client = WorkloadApiClient.create({ address });
    const ac = new AbortController();
    try {
      const x509 = client.watchX509Bundles({ signal: ac.signal });
      const jwt = client.watchJWTBundles({ signal: ac.signal });
      const before = ca.cas.length;
      assert.equal((await x509.next()).value?.get(ca.td)?.authorities.length, before);
      assert.equal((await jwt.next()).value?.get(ca.td)?.authorities.size, before);
      await ca.rotate();
      cache.setBundles(ca.bundles());
      assert.equal((await x509.next()).value?.get(ca.td)?.authorities.length, before + 1);
      assert.equal((await jwt.next()).value?.get(ca.td)?.authorities.size, before + 1);
    } finally {
      ac.abort();
      client.close();
    }
  });

  it('says PermissionDenied to a caller no entry matches, and ends its stream when its entries go', async () => {
    const client = WorkloadApiClient.create({ address });
    const errors: WorkloadApiError[] = [];
    const ac = new AbortController();
    const saved = cache.listEntries();
    try {
      const watch = client.watchX509Context({ signal: ac.signal, onError: (e) => errors.push(e), initialMs: 50 });
      assert.equal((await watch.next()).value?.svids[0]?.id.toString(), ROOT.spiffeId);
      const pending = watch.next(); // keeps the watch reading, so it sees the end of its stream
      cache.setEntries(saved.filter((e) => e.id !== ROOT.id && e.id !== ROOT2.id));
      await assert.rejects(client.fetchX509SVID(), (e: unknown) => e instanceof WorkloadApiError && e.reason === 'PERMISSION_DENIED');
      await assert.rejects(client.fetchX509Bundles(), (e: unknown) => e instanceof WorkloadApiError && e.reason === 'PERMISSION_DENIED');
      await assert.rejects(
        client.fetchJWTSVID({ audience: 'a' }),
        (e: unknown) => e instanceof WorkloadApiError && e.reason === 'PERMISSION_DENIED',
      );
      for (let i = 0; i < 100 && !errors.some((e) => e.reason === 'PERMISSION_DENIED'); i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(
        errors.some((e) => e.reason === 'PERMISSION_DENIED'),
        'the open stream was ended with PermissionDenied',
      );
      ac.abort();
      assert.equal((await pending).done, true);
    } finally {
      ac.abort();
      client.close();
      const svids = await Promise.all([ROOT, ROOT2].map((e) => ca.issue(e)));
      cache.update(() => {
        cache.setEntries(saved);
        svids.forEach((s) => cache.setX509Svid(s));
      });
    }
  });

  it('frees what finished calls held: no open streams, no connections (and their pidfds) left behind', async () => {
    const clients = Array.from({ length: 5 }, () => WorkloadApiClient.create({ address }));
    await Promise.all(clients.map((c) => c.fetchX509SVID()));
    assert.ok(api.connections.size >= 1);
    for (const c of clients) c.close();
    for (let i = 0; i < 100 && (api.openStreams > 0 || api.connections.size > 0); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(api.openStreams, 0);
    assert.equal(api.connections.size, 0);
  });

  it('maps no unknown peer to a connection', () => {
    const conns = new PeerConnections();
    assert.equal(conns.acquire('unknown'), undefined);
    assert.equal(conns.acquire('workload:1'), undefined);
    assert.equal(conns.acquire('127.0.0.1:5000'), undefined);
  });

  it('replaces a stale socket, refuses a live one or a non-socket path', async () => {
    const other = join(dir.dir, 'other.sock');
    // a crashed agent's socket: the file stays, nobody listens
    execFileSync('/usr/bin/python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', other]);
    assert.ok((await lstat(other)).isSocket());
    const first = await WorkloadApiServer.start({ socketPath: other, source: cache });
    await assert.rejects(WorkloadApiServer.start({ socketPath: other, source: cache }), /another process is serving/);
    await first.close(100);
    await assert.rejects(lstat(other), /ENOENT/);
    const plain = join(dir.dir, 'plain-file');
    await writeFile(plain, 'x');
    await assert.rejects(WorkloadApiServer.start({ socketPath: plain, source: cache }), /not a socket/);
  });

  it('refuses a socket folder another user could swap the socket in (writable by others, or not ours)', async () => {
    // Whoever can write the folder can replace the socket with their own Workload API and hand
    // workloads a forged trust bundle.
    const open = join(dir.dir, 'world-writable');
    await mkdir(open);
    await chmod(open, 0o777);
    await assert.rejects(WorkloadApiServer.start({ socketPath: join(open, 'api.sock'), source: cache }), /writable by other users/);
    await chmod(open, 0o1777); // sticky, as /tmp: others cannot remove or rename our socket
    await (await WorkloadApiServer.start({ socketPath: join(open, 'api.sock'), source: cache })).close(100);
    await chmod(open, 0o777);
    await assert.rejects(
      WorkloadApiServer.start({ socketPath: join(open, 'public', 'api.sock'), source: cache }),
      /writable by other users/,
    );
    if (canSwitchUser()) {
      const theirs = join(dir.dir, 'theirs');
      await mkdir(theirs, { mode: 0o755 });
      await chown(theirs, NOBODY, NOBODY);
      await assert.rejects(WorkloadApiServer.start({ socketPath: join(theirs, 'api.sock'), source: cache }), /owned by uid 65534/);
    }
  });
});
