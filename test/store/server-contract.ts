/**
 * The store server's HTTP contract (docs/store.md), run against each datastore: real HTTP on 127.0.0.1,
 * real evidence signed with evident's own code.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from '../helpers/child-process.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMetadata, verifyMetadataSignature } from '../../src/intoto/models/metablock.js';
import { startEvidenceStore, type EvidenceStoreOptions, type RunningEvidenceStore } from '../../src/store/server.js';
import { parseStrictJson } from '../../src/util/strict-json.js';
import { call, dsseLinkFile, edKey, hex, layoutFile, link, linkFile, sha256Of, statementFile, tokenDir } from './server-fixtures.js';

/** Where a suite's store keeps its data: options for startEvidenceStore, or undefined to skip (said loudly by the caller). */
export type Backend = () => Promise<{ options: Partial<EvidenceStoreOptions>; cleanup: () => Promise<void> } | undefined>;

const TOKEN = 'upload-token-0123456789';

/** `git hash-object` of the bytes in a sha256 repository: the gitoid as git itself computes it. */
function gitHashObjectSha256(bytes: Buffer): string {
  const repo = mkdtempSync(join(tmpdir(), 'evident-gitoid-'));
  try {
    execFileSync('git', ['init', '-q', '--object-format=sha256', repo]);
    const file = join(repo, 'blob');
    writeFileSync(file, bytes);
    return execFileSync('git', ['-C', repo, 'hash-object', '--no-filters', file], { encoding: 'utf8' }).trim();
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
}

export function runStoreContract(name: string, backend: Backend): void {
  describe(`evidence store server (${name})`, () => {
    let store: RunningEvidenceStore | undefined;
    let small: RunningEvidenceStore | undefined;
    let cleanup: (() => Promise<void>) | undefined;
    const dirs: string[] = [];
    const alice = edKey();
    const bob = edKey();
    const owner = edKey();
    const url = () => store!.url;
    const upload = (body: Buffer | string, o: Parameters<typeof call>[2] = {}) => call(url(), '/v1/evidence', { body, token: TOKEN, ...o });

    before(async () => {
      const b = await backend();
      if (b === undefined) return;
      cleanup = b.cleanup;
      const { dir, tokenFile } = tokenDir([TOKEN, 'another-token']);
      dirs.push(dir);
      store = await startEvidenceStore({ dataDir: dir, tokenFile, ...b.options });
      const d2 = tokenDir([TOKEN]);
      dirs.push(d2.dir);
      small = await startEvidenceStore({ dataDir: d2.dir, tokenFile: d2.tokenFile, limits: { maxEvidenceBytes: 2048 } });
    });
    after(async () => {
      await store?.close();
      await small?.close();
      await cleanup?.();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });
    const live = (title: string, fn: () => Promise<void>) => it(title, async (t) => (store === undefined ? t.skip('no datastore') : fn()));

    live('stores a link, answers its digest, and a second upload of the same bytes changes nothing', async () => {
      const bytes = linkFile(link('code', {}, { 'src/a.c': hex('a.c') }), [alice]);
      const first = await upload(bytes);
      assert.equal(first.status, 201);
      assert.deepEqual(first.json(), { digest: sha256Of(bytes), kind: 'link', created: true });
      const again = await upload(bytes);
      assert.equal(again.status, 200);
      assert.deepEqual(again.json(), { digest: sha256Of(bytes), kind: 'link', created: false });
      const found = (await call(url(), `/v1/evidence?digest=sha256:${hex('a.c')}`)).json();
      assert.equal((found.items as unknown[]).length, 1, 'the duplicate is not indexed twice');
    });

    live('gives back the exact bytes, whose signature still verifies', async () => {
      for (const bytes of [
        linkFile(link('build', { 'src/a.c': hex('a.c') }, { hello: hex('hello') }), [alice, bob]),
        dsseLinkFile(link('build', { 'src/b.c': hex('b.c') }, { hello2: hex('hello2') }), [alice]),
      ]) {
        const { digest } = (await upload(bytes)).json() as { digest: string };
        const got = await call(url(), `/v1/evidence/${digest}`);
        assert.equal(got.status, 200);
        assert.match(String(got.headers['content-type']), /^application\/json/);
        assert.ok(got.body.equals(bytes), 'byte for byte');
        const file = parseMetadata(parseStrictJson(got.body.toString('utf8')));
        assert.ok(verifyMetadataSignature(file, alice.publicKey));
      }
      assert.equal((await call(url(), `/v1/evidence/sha256:${'0'.repeat(64)}`)).status, 404);
      const bad = await call(url(), '/v1/evidence/sha256:XYZ');
      assert.equal(bad.status, 400);
      assert.match(String(bad.json().error), /sha256: and 64 lowercase hex/);
    });

    live('takes layouts and DSSE envelopes of any Statement, indexed by subject digests (every algorithm) and predicate type', async () => {
      const layout = await upload(layoutFile(owner, alice));
      assert.equal(layout.status, 201);
      assert.equal(layout.json().kind, 'layout');
      const image = hex('image');
      const bytes = statementFile({ image }, 'https://slsa.dev/provenance/v1', bob);
      const up = await upload(bytes, { contentType: 'application/vnd.dsse.envelope.v1+json' });
      assert.equal(up.status, 201);
      assert.equal(up.json().kind, 'dsse');
      const bySha256 = (await call(url(), `/v1/evidence?digest=sha256:${image}&role=subject`)).json().items as Record<string, unknown>[];
      assert.equal(bySha256.length, 1);
      assert.equal(bySha256[0]!.predicateType, 'https://slsa.dev/provenance/v1');
      assert.deepEqual(bySha256[0]!.signers, [{ keyid: bob.keyid }]);
      const sha512 = hex(image) + hex(image + image);
      const bySha512 = (await call(url(), `/v1/evidence?digest=sha512:${sha512}`)).json().items as unknown[];
      assert.equal(bySha512.length, 1);
      assert.equal(((await call(url(), `/v1/evidence?digest=sha256:${image}&role=material`)).json().items as unknown[]).length, 0);
    });

    live('searches by artifact role, step, signer and time, newest first, in pages', async () => {
      const src = hex(`src-${name}`);
      const start = new Date().toISOString();
      const digests: string[] = [];
      for (let i = 0; i < 7; i++) {
        const l = link(`compile-${name}`, { 'main.c': src }, { [`out${i}`]: hex(`out${i}-${name}`) });
        const { digest } = (await upload(linkFile(l, [i % 2 === 0 ? alice : bob]))).json() as { digest: string };
        digests.push(digest);
        await new Promise((r) => setTimeout(r, 3));
      }
      const dsse = (await upload(dsseLinkFile(link(`package-${name}`, { out0: hex(`out0-${name}`) }, {}), [bob]))).json();
      const newestFirst = [...digests].reverse();
      const q = (qs: string) =>
        call(url(), `/v1/evidence?${qs}`).then((r) => r.json() as { items: Record<string, unknown>[]; next?: string });

      assert.deepEqual(
        (await q(`digest=sha256:${src}&role=material`)).items.map((i) => i.digest),
        newestFirst,
      );
      assert.deepEqual((await q(`digest=sha256:${src}&role=product`)).items, []);
      const out0 = await q(`digest=SHA256:${hex(`out0-${name}`).toUpperCase()}`);
      assert.deepEqual(
        out0.items.map((i) => i.digest),
        [dsse.digest, digests[0]],
        'as product of one link and material of another',
      );
      assert.deepEqual(
        (await q(`step=package-${name}`)).items.map((i) => i.digest),
        [dsse.digest],
      );
      assert.equal((await q(`step=package-${name}`)).items[0]!.kind, 'dsse');
      const byAlice = await q(`digest=sha256:${src}&signer=${alice.keyid}`);
      assert.deepEqual(
        byAlice.items.map((i) => i.digest),
        [digests[6], digests[4], digests[2], digests[0]],
      );
      const item = byAlice.items[0]!;
      assert.deepEqual(Object.keys(item).sort(), ['digest', 'kind', 'signers', 'step', 'storedAt', 'timestamps']);
      assert.equal(item.timestamps, 0);
      assert.ok(Date.parse(item.storedAt as string) >= Date.parse(start) - 5);

      // pages of 3 walk the same list, each once
      const walked: unknown[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await q(`digest=sha256:${src}&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
        walked.push(...page.items.map((i) => i.digest));
        cursor = page.next;
        pages++;
      } while (cursor !== undefined);
      assert.deepEqual(walked, newestFirst);
      assert.equal(pages, 3);

      const future = new Date(Date.now() + 3600_000).toISOString();
      assert.deepEqual((await q(`digest=sha256:${src}&since=${future}`)).items, []);
      assert.equal((await q(`digest=sha256:${src}&until=${future}&since=${start}`)).items.length, 7);
      assert.deepEqual((await q(`digest=sha256:${src}&until=${start}`)).items, []);
      assert.deepEqual((await q(`digest=sha256:${hex('never')}`)).items, []);
    });

    live('refuses what is not evidence with the right 4xx and one line naming the problem', async () => {
      const cases: [string, Parameters<typeof call>[2], number, RegExp][] = [
        ['text/plain', { body: 'hello', contentType: 'text/plain' }, 415, /Content-Type: application\/json/],
        ['no content type', { body: '{}', contentType: null }, 415, /Content-Type: application\/json/],
        ['malformed JSON', { body: '{"signed": ' }, 400, /not evidence: malformed JSON/],
        ['not a metablock', { body: '{"hello": 1}' }, 400, /not evidence: .*unknown field|not evidence: .*signed/],
        ['a float in a link', { body: '{"signed": {"_type": "link", "x": 1.5}, "signatures": []}' }, 400, /not evidence/],
        [
          'unsigned',
          {
            body: linkFile(link('x', {}, {}), [alice])
              .toString()
              .replace(/"signatures": \[[^\]]*\]/s, '"signatures": []'),
          },
          400,
          /no signature/,
        ],
        [
          'bad DSSE',
          { body: '{"payloadType": "x", "payload": "!!", "signatures": []}' },
          400,
          /not evidence: dsse: payload must be base64/,
        ],
        ['empty', { body: '' }, 400, /empty/],
        ['an array', { body: '[1, 2]' }, 400, /not evidence/],
      ];
      for (const [what, o, status, message] of cases) {
        const r = await call(url(), '/v1/evidence', { token: TOKEN, ...o });
        assert.equal(r.status, status, what);
        const { error } = r.json() as { error: string };
        assert.match(error, message, what);
        assert.ok(!error.includes('\n'), `${what}: one line`);
      }
      const big = linkFile(link('big', {}, Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}`, hex(String(i))]))), [alice]);
      const tooBig = await call(small!.url, '/v1/evidence', { body: big, token: TOKEN });
      assert.equal(tooBig.status, 413);
      assert.match(String(tooBig.json().error), /larger than this store's limit of 2048 bytes/);
      const fits = await call(small!.url, '/v1/evidence', { body: linkFile(link('s', {}, {}), [alice]), token: TOKEN });
      assert.equal(fits.status, 201);
      for (const [qs, message] of [
        ['limit=0', /limit/],
        ['limit=x', /limit/],
        ['role=product', /role needs digest/],
        ['digest=sha256:zz', /digest must be alg:hex/],
        ['since=yesterday', /since must be an ISO 8601 time/],
        ['cursor=bogus', /cursor/],
        ['colour=red', /unknown parameter 'colour'/],
        ['step=a&step=b', /more than once/],
      ] as const) {
        const r = await call(url(), `/v1/evidence?${qs}`);
        assert.equal(r.status, 400, qs);
        assert.match(String(r.json().error), message, qs);
      }
      const many = await call(url(), '/v1/evidence?limit=100000');
      assert.equal(many.status, 200, 'a limit past 500 is served as pages of 500');
      assert.equal((await call(url(), '/nowhere')).status, 404);
    });

    live('refuses writes without a valid token', async () => {
      const bytes = linkFile(link('anon', {}, {}), [alice]);
      const none = await call(url(), '/v1/evidence', { body: bytes });
      assert.equal(none.status, 401);
      assert.equal(none.headers['www-authenticate'], 'Bearer');
      assert.match(String(none.json().error), /bearer token .* or a client X509-SVID/);
      const wrong = await call(url(), '/v1/evidence', { body: bytes, token: 'upload-token-0123456788' });
      assert.equal(wrong.status, 403);
      assert.equal((await call(url(), '/upload', { body: bytes })).status, 401);
      assert.equal((await call(url(), `/v1/evidence/${sha256Of(bytes)}`)).status, 404, 'nothing was stored');
      assert.equal((await upload(bytes, { token: 'another-token' })).status, 201, 'any token of the file');
    });

    live('speaks Archivista: POST /upload answers the gitoid git computes, GET /download/{gitoid} the envelope', async () => {
      const bytes = dsseLinkFile(link(`witness-${name}`, {}, { app: hex(`app-${name}`) }), [alice]);
      const up = await call(url(), '/upload', { body: bytes, token: TOKEN });
      assert.equal(up.status, 200);
      const { gitoid } = up.json() as { gitoid: string };
      assert.equal(gitoid, gitHashObjectSha256(bytes));
      const down = await call(url(), `/download/${gitoid}`);
      assert.equal(down.status, 200);
      assert.ok(down.body.equals(bytes));
      assert.ok((await call(url(), `/v1/download/${gitoid}`)).body.equals(bytes));
      assert.equal((await call(url(), '/upload', { body: bytes, token: TOKEN })).json().gitoid, gitoid, 'idempotent');
      // what /upload stored is evidence like any other
      assert.equal((await call(url(), `/v1/evidence/${sha256Of(bytes)}`)).status, 200);
      const items = (await call(url(), `/v1/evidence?digest=sha256:${hex(`app-${name}`)}`)).json().items as unknown[];
      assert.equal(items.length, 1);
      const notDsse = await call(url(), '/upload', { body: linkFile(link('m', {}, {}), [alice]), token: TOKEN });
      assert.equal(notDsse.status, 400);
      assert.match(String(notDsse.json().error), /DSSE envelope/);
      assert.equal((await call(url(), `/download/${'0'.repeat(64)}`)).status, 404);
    });

    live('serves its OpenAPI document and a health check', async () => {
      const doc = (await call(url(), '/openapi.json')).json() as { openapi: string; paths: Record<string, unknown> };
      assert.equal(doc.openapi, '3.1.0');
      // every route the server answers, the /v1/ spellings of Archivista's included
      for (const p of [
        '/v1/evidence',
        '/v1/evidence/{digest}',
        '/upload',
        '/v1/upload',
        '/download/{gitoid}',
        '/v1/download/{gitoid}',
        '/healthz',
      ])
        assert.ok(p in doc.paths, p);
      assert.deepEqual((await call(url(), '/healthz')).json(), { status: 'ok' });
    });
  });
}
