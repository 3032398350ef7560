import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server as NetServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { credentials, Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { SpiffeId } from '../../src/spiffe/spiffeid/index.js';
import { JwtBundle, JwtBundleSet } from '../../src/spiffe/bundle/index.js';
import { signJwtSvid } from '../../src/spiffe/jwtsvid/index.js';
import {
  parseAddress,
  resolveAddress,
  WorkloadApiClient,
  WorkloadApiError,
  workloadApiClientConstructor,
  fetchX509SVID,
  type WorkloadApiErrorReason,
  type X509Context,
} from '../../src/spiffe/workloadapi/index.js';
import { exitCodeFor } from '../../src/errors.js';
import { FakeWorkloadApi, x509Response } from './fake-workload-api-server.js';
import { makeCa, makeSvid, type TestCa } from '../helpers/pki.js';

function isReason(reason: WorkloadApiErrorReason, exit?: number) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof WorkloadApiError, `expected WorkloadApiError, got ${String(e)}`);
    assert.equal(e.reason, reason, e.message);
    assert.match(e.message, /^workloadapi: /);
    assert.ok(!e.message.includes('\n'), 'one line');
    if (exit !== undefined) assert.equal(exitCodeFor(e.code), exit);
    return true;
  };
}

const FAST = { initialMs: 30, maxMs: 200 };

describe('workloadapi address', () => {
  it('accepts unix:///path, unix:/path and a path (relative to the working directory)', () => {
    assert.equal(parseAddress('unix:///run/agent.sock').socketPath, '/run/agent.sock');
    assert.equal(parseAddress('unix:/run/agent.sock').socketPath, '/run/agent.sock');
    assert.equal(parseAddress('unix:///run/agent.sock').target, 'unix:///run/agent.sock');
    assert.equal(parseAddress('/run/agent.sock').target, 'unix:///run/agent.sock');
    assert.equal(parseAddress('agent.sock', '/srv').socketPath, '/srv/agent.sock');
    assert.equal(resolveAddress(undefined, { SPIFFE_ENDPOINT_SOCKET: 'unix:///x/y.sock' }).socketPath, '/x/y.sock');
    assert.equal(resolveAddress(undefined, { SPIFFE_ENDPOINT_SOCKET: '/x/path.sock' }).socketPath, '/x/path.sock');
    assert.equal(resolveAddress('unix:/flag.sock', { SPIFFE_ENDPOINT_SOCKET: 'unix:///env.sock' }).socketPath, '/flag.sock');
  });
  it("falls back to SPIFFE_ENDPOINT_SOCKET, then to the agent's default socket", () => {
    const fallback = resolveAddress(undefined, {});
    assert.equal(fallback.socketPath, '/tmp/evident-agent/public/api.sock');
    assert.match(fallback.original, /the agent's default socket; SPIFFE_ENDPOINT_SOCKET is not set/);
    assert.equal(resolveAddress(undefined, { SPIFFE_ENDPOINT_SOCKET: '' }).socketPath, '/tmp/evident-agent/public/api.sock');
  });
  it('rejects other schemes and forms clearly', () => {
    for (const bad of [
      'tcp://127.0.0.1:8081',
      'http://localhost/x',
      'unix://host/path',
      'unix:relative',
      'unix:///p?x=1',
      'unix:///p#f',
      '',
    ]) {
      assert.throws(
        () => parseAddress(bad),
        (e: unknown) => isReason('BAD_ADDRESS', 2)(e),
        bad,
      );
    }
    assert.throws(() => parseAddress('tcp://127.0.0.1:1'), /must have a "unix" scheme, not "tcp"/);
    assert.throws(
      () => resolveAddress('', {}),
      (e: unknown) => isReason('BAD_ADDRESS', 2)(e) && /empty/.test((e as Error).message),
    );
  });
});

describe('workloadapi client against a real gRPC server on a Unix socket', () => {
  let dir: string;
  let sock: string;
  let api: FakeWorkloadApi;
  let ca: TestCa;
  let fed: TestCa;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'evident-wl-'));
    sock = join(dir, 'agent.sock');
    ca = await makeCa('example.org', new Date());
    fed = await makeCa('federated.org', new Date());
    api = await FakeWorkloadApi.start(sock);
  });
  after(async () => {
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const client = (): WorkloadApiClient => WorkloadApiClient.create({ address: `unix://${sock}`, timeoutMs: 5000 });

  it('fetches the default SVID (the first), or one by SPIFFE ID or hint', async () => {
    const a = await makeSvid(ca, '/a', { now: new Date(), hint: 'internal' });
    const b = await makeSvid(ca, '/b', { now: new Date(), hint: 'external' });
    api.setX509(
      x509Response(
        [
          { svid: a, bundle: ca.bundle },
          { svid: b, bundle: ca.bundle },
        ],
        [fed.bundle],
      ),
    );
    const c = client();
    try {
      assert.equal((await c.fetchX509SVID()).id.toString(), 'spiffe://example.org/a');
      assert.equal((await c.fetchX509SVID({ spiffeId: 'spiffe://example.org/b' })).id.toString(), 'spiffe://example.org/b');
      assert.equal((await c.fetchX509SVID({ hint: 'external' })).hint, 'external');
      await assert.rejects(c.fetchX509SVID({ spiffeId: 'spiffe://example.org/zzz' }), isReason('NO_SVID', 2));
      const ctx = await c.fetchX509Context();
      assert.equal(ctx.svids.length, 2);
      assert.deepEqual(
        ctx.bundles.bundles().map((x) => x.trustDomain.name),
        ['example.org', 'federated.org'],
      );
      const bundles = await c.fetchX509Bundles();
      assert.ok(bundles.getX509BundleForTrustDomain(ca.td).equals(ca.bundle));
      assert.ok(bundles.getX509BundleForTrustDomain(fed.td).equals(fed.bundle));
    } finally {
      c.close();
    }
    // every call carried the security header
    assert.ok(api.headersSeen.length >= 5);
    assert.ok(api.headersSeen.every((h) => h === 'true'));
  });

  it('the server double enforces the header: a call without it is InvalidArgument', async () => {
    const Ctor = workloadApiClientConstructor();
    const raw = new Ctor(`unix://${sock}`, credentials.createInsecure()) as unknown as Client & {
      FetchJWTSVID: (req: object, md: Metadata, cb: (e: ServiceError | null) => void) => void;
    };
    const err = await new Promise<ServiceError | null>((resolve) => raw.FetchJWTSVID({ audience: ['x'] }, new Metadata(), resolve));
    raw.close();
    assert.equal(err?.code, status.INVALID_ARGUMENT);
    assert.match(err?.details ?? '', /security header/);
  });

  it('PermissionDenied is "no identity issued to this process" (exit 3)', async () => {
    api.setX509({ code: status.PERMISSION_DENIED, details: 'no identity issued' });
    await assert.rejects(
      fetchX509SVID({ address: `unix://${sock}` }),
      (e: unknown) => isReason('PERMISSION_DENIED', 3)(e) && /no identity issued to this process/.test((e as Error).message),
    );
  });

  it('a missing socket is an ENVIRONMENT error (exit 3), via SPIFFE_ENDPOINT_SOCKET too', async () => {
    const env = { SPIFFE_ENDPOINT_SOCKET: `unix://${join(dir, 'nobody-home.sock')}` };
    await assert.rejects(fetchX509SVID({ env, timeoutMs: 5000 }), isReason('UNAVAILABLE', 3));
  });

  it('a truncated DER chain or a bad key from the server is a clear error', async () => {
    const good = await makeSvid(ca, '/w', { now: new Date() });
    const msg = x509Response([{ svid: good, bundle: ca.bundle }]);
    const svid0 = msg.svids[0]!;
    api.setX509({ ...msg, svids: [{ ...svid0, x509_svid: svid0.x509_svid.subarray(0, svid0.x509_svid.length - 7) }] });
    await assert.rejects(
      fetchX509SVID({ address: `unix://${sock}` }),
      (e: unknown) => isReason('BAD_RESPONSE', 3)(e) && /truncated or malformed DER/.test((e as Error).message),
    );
    api.setX509({ ...msg, svids: [{ ...svid0, x509_svid_key: randomBytes(40) }] });
    await assert.rejects(
      fetchX509SVID({ address: `unix://${sock}` }),
      (e: unknown) => isReason('BAD_RESPONSE')(e) && /PKCS#8/.test((e as Error).message),
    );
    api.setX509({ ...msg, svids: [{ ...svid0, spiffe_id: 'spiffe://example.org/someone-else' }] });
    await assert.rejects(
      fetchX509SVID({ address: `unix://${sock}` }),
      (e: unknown) => isReason('BAD_RESPONSE')(e) && /response says/.test((e as Error).message),
    );
    api.setX509({ ...msg, svids: [] });
    await assert.rejects(fetchX509SVID({ address: `unix://${sock}` }), isReason('BAD_RESPONSE'));
  });

  it('watchX509Context streams rotations, skips a bad update, and stops on abort', async () => {
    const first = await makeSvid(ca, '/v1', { now: new Date() });
    api.setX509(x509Response([{ svid: first, bundle: ca.bundle }]));
    const ac = new AbortController();
    const errors: WorkloadApiError[] = [];
    const c = client();
    const seen: string[] = [];
    try {
      for await (const ctx of c.watchX509Context({ signal: ac.signal, onError: (e) => errors.push(e), ...FAST })) {
        seen.push(ctx.svids[0]!.id.toString());
        if (seen.length === 1) {
          const broken = x509Response([{ svid: first, bundle: ca.bundle }]);
          broken.svids[0]!.x509_svid = Buffer.from('garbage');
          api.setX509(broken);
          api.setX509(x509Response([{ svid: await makeSvid(ca, '/v2', { now: new Date() }), bundle: ca.bundle }]));
        } else {
          ac.abort();
        }
      }
    } finally {
      c.close();
    }
    assert.deepEqual(seen, ['spiffe://example.org/v1', 'spiffe://example.org/v2']);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.reason, 'BAD_RESPONSE');
  });

  it('watchX509Context survives an agent restart (backoff, reconnect)', async () => {
    api.setX509(x509Response([{ svid: await makeSvid(ca, '/before', { now: new Date() }), bundle: ca.bundle }]));
    const ac = new AbortController();
    const errors: WorkloadApiError[] = [];
    const c = client();
    const seen: string[] = [];
    const after2 = await makeSvid(ca, '/after', { now: new Date() });
    try {
      for await (const ctx of c.watchX509Context({ signal: ac.signal, onError: (e) => errors.push(e), ...FAST })) {
        seen.push(ctx.svids[0]!.id.toString());
        if (seen.length === 1) {
          await api.stop();
          // the agent is down for a while: the watcher retries with backoff meanwhile
          setTimeout(() => {
            void FakeWorkloadApi.start(sock).then((fresh) => {
              api = fresh;
              fresh.setX509(x509Response([{ svid: after2, bundle: ca.bundle }]));
            });
          }, 400);
        } else {
          ac.abort();
        }
      }
    } finally {
      c.close();
    }
    assert.deepEqual(seen, ['spiffe://example.org/before', 'spiffe://example.org/after']);
    assert.ok(errors.length >= 1, 'the outage was reported');
    assert.ok(errors.every((e) => e.code === 'ENVIRONMENT'));
  });

  it('watchX509Context reopens a stream the agent ended', async () => {
    api.setX509(x509Response([{ svid: await makeSvid(ca, '/steady', { now: new Date() }), bundle: ca.bundle }]));
    const ac = new AbortController();
    const errors: WorkloadApiError[] = [];
    const c = client();
    let n = 0;
    try {
      for await (const ctx of c.watchX509Context({ signal: ac.signal, onError: (e) => errors.push(e), ...FAST })) {
        assert.equal(ctx.svids[0]?.id.toString(), 'spiffe://example.org/steady');
        if (++n === 1) api.endStreams();
        else ac.abort();
      }
    } finally {
      c.close();
    }
    assert.equal(n, 2);
    assert.match(errors[0]?.message ?? '', /stream closed by the Workload API/);
  });

  it('an aborted watch ends even while the agent is down', async () => {
    const c = WorkloadApiClient.create({ address: `unix://${join(dir, 'down.sock')}` });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 150);
    const got: X509Context[] = [];
    for await (const ctx of c.watchX509Context({ signal: ac.signal, ...FAST })) got.push(ctx);
    c.close();
    assert.equal(got.length, 0);
  });

  it('InvalidArgument ends a watch by throwing', async () => {
    api.setX509({ code: status.INVALID_ARGUMENT, details: 'nope' });
    const c = client();
    await assert.rejects(
      (async () => {
        for await (const _ of c.watchX509Context(FAST)) void _;
      })(),
      isReason('INVALID_ARGUMENT', 2),
    );
    c.close();
  });

  it('JWT-SVIDs: fetch, bundles, validate', async () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ids = [SpiffeId.parse('spiffe://example.org/j1'), SpiffeId.parse('spiffe://example.org/j2')];
    api.jwt = { ids, key: key.privateKey, kid: 'k1', bundles: JwtBundleSet.of([JwtBundle.fromAuthorities(ca.td, { k1: key.publicKey })]) };
    const c = client();
    try {
      const svid = await c.fetchJWTSVID({ audience: 'spiffe://example.org/api' });
      assert.equal(svid.id.toString(), 'spiffe://example.org/j1');
      assert.equal((await c.fetchJWTSVID({ audience: ['a', 'b'], spiffeId: ids[1] })).id.toString(), 'spiffe://example.org/j2');
      const bundles = await c.fetchJWTBundles();
      assert.ok(bundles.getJwtBundleForTrustDomain(ca.td).findAuthority('k1')?.equals(key.publicKey));
      const ok = await c.validateJWTSVID(svid.marshal(), 'spiffe://example.org/api');
      assert.equal(ok.id.toString(), 'spiffe://example.org/j1');
      await assert.rejects(
        c.validateJWTSVID(svid.marshal(), 'spiffe://example.org/other'),
        (e: unknown) => isReason('INVALID_ARGUMENT', 2)(e) && /audience/.test((e as Error).message),
      );
      const forged = await signJwtSvid({
        id: ids[0]!,
        audience: 'x',
        key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
        kid: 'k1',
      });
      await assert.rejects(c.validateJWTSVID(forged, 'x'), isReason('INVALID_ARGUMENT'));
      await assert.rejects(c.fetchJWTSVID({ audience: [] }), isReason('INVALID_ARGUMENT', 2));
    } finally {
      c.close();
    }
  });
});

describe('workloadapi client against garbage on the socket', () => {
  let dir: string;
  let server: NetServer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'evident-wl-garbage-'));
    server = createServer((s) => {
      s.on('error', () => undefined);
      s.end(randomBytes(512));
    });
    await new Promise<void>((resolve) => server.listen(join(dir, 'garbage.sock'), resolve));
  });
  after(async () => {
    server.close(); // not awaited: close() waits for sockets the client may still be tearing down
    await rm(dir, { recursive: true, force: true });
  });

  it('errors cleanly and the process survives', async () => {
    const address = `unix://${join(dir, 'garbage.sock')}`;
    await assert.rejects(
      fetchX509SVID({ address, timeoutMs: 3000 }),
      (e: unknown) => e instanceof WorkloadApiError && e.code === 'ENVIRONMENT' && /^workloadapi: /.test(e.message),
    );
    const c = WorkloadApiClient.create({ address, timeoutMs: 3000 });
    await assert.rejects(c.fetchJWTSVID({ audience: 'x' }), (e: unknown) => e instanceof WorkloadApiError && e.code === 'ENVIRONMENT');
    c.close();
  });
});
