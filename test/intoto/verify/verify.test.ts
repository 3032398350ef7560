import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { execFileSync } from '../../helpers/child-process.js';
import { canonicalJsonBytes } from '../../../src/crypto/canonical-json.js';
import { signEnvelope } from '../../../src/crypto/dsse.js';
import { parseAnyMetadata, parseMetadata, signedOf } from '../../../src/intoto/models/metablock.js';
import { serializeMetablock } from '../../../src/intoto/models/metablock.js';
import type { Link, Metablock } from '../../../src/intoto/models/types.js';
import { formatReport, reportToJson, verify } from '../../../src/intoto/verify/index.js';
import type { VerificationReport } from '../../../src/intoto/verify/index.js';
import { artifacts, layout, link, linkName, put, sign, signDsse, step, tempDir } from './fixtures.js';
import { alice, bob, carol, chainLayout, chainLinks, mallory, owner, SOURCES, writeChain } from './chain.js';

const failed = (r: VerificationReport) => r.checks.filter((c) => !c.ok);

async function withChain(fn: (dir: string) => Promise<void>, options?: Parameters<typeof writeChain>[1]): Promise<void> {
  const tmp = await tempDir();
  try {
    await writeChain(tmp.dir, options);
    await fn(tmp.dir);
  } finally {
    await tmp.cleanup();
  }
}

async function run(dir: string, extra: Partial<Parameters<typeof verify>[0]> = {}): Promise<VerificationReport> {
  const layoutDoc = JSON.parse(await readFile(join(dir, 'root.layout'), 'utf8')) as unknown;
  return verify({ layout: layoutDoc, layoutKeys: [owner().publicKey], linkDir: dir, workDir: dir, ...extra });
}

test('verify: an honest three-step chain passes, one line per check', async () => {
  await withChain(async (dir) => {
    const report = await run(dir);
    assert.equal(report.ok, true, formatReport(report));
    const text = formatReport(report);
    assert.match(text, /^✓ layout signed by every given key/m);
    assert.match(text, /^✓ build: 1 of 1 required link by distinct authorized functionaries/m);
    assert.match(text, /^✓ build: materials: 2 rules passed over 2 artifacts$/m);
    assert.match(text, /^PASSED/m);
    const json = JSON.parse(reportToJson(report)) as VerificationReport;
    assert.equal(json.ok, true);
    assert.deepEqual(json.checks.map((c) => c.id).slice(0, 2), ['layout-signature', 'layout-expiration']);
  });
});

test('verify: a source file changed between steps names the step, rule, file and both hashes', async () => {
  await withChain(
    async (dir) => {
      const report = await run(dir);
      assert.equal(report.ok, false);
      const [bad] = failed(report);
      const mine = artifacts({ 'src/main.c': 'int main(void) { evil(); }\n' })['src/main.c']!.sha256;
      const theirs = artifacts(SOURCES)['src/main.c']!.sha256;
      assert.equal(bad!.step, 'build');
      assert.equal(
        bad!.message,
        `materials: MATCH src/* WITH PRODUCTS FROM code: src/main.c sha256 ${mine.slice(0, 4)}… ≠ code's ${theirs.slice(0, 4)}…`,
      );
      assert.match(formatReport(report), /^✗ build: materials: MATCH src\/\* WITH PRODUCTS FROM code: src\/main\.c sha256 /m);
      const misses = bad!.details!.misses as { found: { sha256: string }; expected: { sha256: string } }[];
      assert.equal(misses[0]!.found.sha256, mine);
      assert.equal(misses[0]!.expected.sha256, theirs);
    },
    { change: (l) => (l.build!.materials = artifacts({ ...SOURCES, 'src/main.c': 'int main(void) { evil(); }\n' })) },
  );
});

test('verify: a link edited after signing does not count, so its step misses its threshold', async () => {
  await withChain(async (dir) => {
    const file = join(dir, linkName('build', bob()));
    const doc = JSON.parse(await readFile(file, 'utf8')) as { signed: { command: string[] } };
    doc.signed.command = ['cc', '-O2'];
    await writeFile(file, JSON.stringify(doc));
    const report = await run(dir);
    assert.equal(report.ok, false);
    const bad = failed(report);
    assert.equal(bad.length, 1);
    assert.equal(bad[0]!.id, 'step-links');
    assert.match(bad[0]!.message, /0 of 1 required link.*has no valid signature by/);
  });
});

test('verify: a link by an unauthorized key is ignored, never counted', async () => {
  await withChain(async (dir) => {
    // mallory's own file is never even read; a file under bob's name but signed by mallory is ignored
    await put(dir, linkName('build', mallory()), sign(chainLinks().build!, [mallory()]));
    await put(dir, linkName('build', bob()), sign(chainLinks().build!, [mallory()]));
    const report = await run(dir);
    assert.equal(report.ok, false);
    assert.match(failed(report)[0]!.message, /^0 of 1 required link/);
  });
});

test('verify: every given layout key must have signed; a key listed twice counts once', async () => {
  await withChain(async (dir) => {
    const twice = await run(dir, { layoutKeys: [owner().publicKey, owner().publicKey] });
    assert.equal(twice.ok, true);
    assert.match(twice.checks[0]!.message, new RegExp(`^layout signed by every given key \\(${owner().keyid.slice(0, 8)}\\)$`));
    const report = await run(dir, { layoutKeys: [owner().publicKey, alice().publicKey] });
    assert.equal(report.ok, false);
    assert.equal(report.checks.length, 1, 'nothing is trusted after a bad layout signature');
    assert.match(report.checks[0]!.message, new RegExp(`not validly signed by ${alice().keyid.slice(0, 8)}`));
  });
});

test('verify: an expired layout fails; layoutTime moves its clock, a past verifyTime does not', async () => {
  await withChain(
    async (dir) => {
      const report = await run(dir, { layoutTime: new Date('2026-01-01T00:00:00Z') });
      assert.equal(report.ok, false);
      assert.deepEqual(
        failed(report).map((c) => c.id),
        ['layout-expiration'],
      );
      assert.match(formatReport(report), /^✗ layout expired 2025-06-01T00:00:00Z \(checked at 2026-01-01T00:00:00Z, --layout-time\)$/m);
      assert.equal((await run(dir, { layoutTime: new Date('2025-06-01T00:00:00Z') })).ok, true, 'expiring exactly now is not expired');
      const backdated = await run(dir, { verifyTime: new Date('2025-06-01T00:00:00Z') });
      assert.equal(backdated.ok, false, "verifyTime is the certificates' clock, not the layout's");
      assert.match(formatReport(backdated), /^✗ layout expired 2025-06-01T00:00:00Z \(checked at \S+, the current time\)$/m);
    },
    { layout: chainLayout({ expires: '2025-06-01T00:00:00Z' }) },
  );
});

test('verify: threshold 2 needs two distinct keys that agree; one key signing twice is not enough', async () => {
  const l = layout([step({ name: 'build', keys: [alice(), bob()], threshold: 2, products: ['ALLOW *'] })], [alice(), bob()]);
  const built = link('build', { products: artifacts({ out: '1' }) });
  const tmp = await tempDir();
  try {
    const base = { layout: sign(l, [owner()]), layoutKeys: [owner().publicKey] };
    const both = { [linkName('build', alice())]: sign(built, [alice()]), [linkName('build', bob())]: sign(built, [bob()]) };
    assert.equal((await verify({ ...base, links: both })).ok, true);

    const oneKeyTwice = { [linkName('build', alice())]: sign(built, [alice()]), [linkName('build', bob())]: sign(built, [alice()]) };
    const r1 = await verify({ ...base, links: oneKeyTwice });
    assert.equal(r1.ok, false);
    assert.match(failed(r1)[0]!.message, /^1 of 2 required links/);

    const differ = { ...both, [linkName('build', bob())]: sign(link('build', { products: artifacts({ out: '2' }) }), [bob()]) };
    const r2 = await verify({ ...base, links: differ });
    assert.equal(r2.ok, false);
    assert.equal(failed(r2)[0]!.id, 'threshold-agreement');
    assert.match(failed(r2)[0]!.message, /report different artifacts/);
  } finally {
    await tmp.cleanup();
  }
});

test('verify: with threshold 1 the reference keeps the first authorized link and does not compare', async () => {
  const l = layout([step({ name: 'build', keys: [alice(), bob()], products: ['ALLOW out', 'DISALLOW *'] })], [alice(), bob()]);
  const links = {
    [linkName('build', alice())]: sign(link('build', { products: artifacts({ out: '1' }) }), [alice()]),
    [linkName('build', bob())]: sign(link('build', { products: artifacts({ other: '2' }) }), [bob()]),
  };
  const report = await verify({ layout: sign(l, [owner()]), layoutKeys: [owner().publicKey], links });
  assert.equal(report.ok, true, formatReport(report));
});

test('verify: MATCH FROM a step with no link (an inspection, during step rules) consumes nothing', async () => {
  const l = layout([step({ name: 'build', keys: [alice()], products: ['MATCH * WITH PRODUCTS FROM unpack', 'DISALLOW *'] })], [alice()]);
  const links = { [linkName('build', alice())]: sign(link('build', { products: artifacts({ out: '1' }) }), [alice()]) };
  const report = await verify({ layout: sign(l, [owner()]), layoutKeys: [owner().publicKey], links, runInspections: false });
  assert.equal(report.ok, false);
  assert.equal(failed(report)[0]!.message, 'products: MATCH * WITH PRODUCTS FROM unpack: out: unpack has no link to match against');
});

test('verify: command alignment is a warning only', async () => {
  await withChain(
    async (dir) => {
      const report = await run(dir);
      assert.equal(report.ok, true);
      const warning = report.checks.find((c) => c.id === 'command-alignment');
      assert.equal(warning?.step, 'build');
      assert.match(formatReport(report), /^! build: ran \["make"\], the layout expects/m);
    },
    { change: (l) => (l.build!.command = ['make']) },
  );
});

test('verify: links in DSSE envelopes count like metablocks', async () => {
  await withChain(async (dir) => {
    await put(dir, linkName('build', bob()), signDsse(chainLinks().build!, bob()));
    assert.equal((await run(dir)).ok, true);
    await put(dir, linkName('build', bob()), signDsse(chainLinks().build!, mallory()));
    assert.equal((await run(dir)).ok, false);
  });
});

test('verify: link files over the size limit are refused before parsing; malformed ones fail', async () => {
  await withChain(async (dir) => {
    const report = await run(dir, { maxLinkBytes: 300 });
    assert.equal(report.ok, false);
    assert.match(failed(report)[0]!.message, /over the 300-byte limit/);
    await writeFile(join(dir, linkName('code', alice())), '{"signed": {"_type": "link", "name": "code", "extra": 1}, "signatures": []}');
    const malformed = await run(dir);
    assert.equal(malformed.ok, false);
    assert.match(failed(malformed)[0]!.message, /is malformed: .*extra/);
  });
});

test('verify: bad input throws instead of reporting (no key, a step named "..", not a layout)', async () => {
  const l = chainLayout();
  await assert.rejects(verify({ layout: sign(l, [owner()]), layoutKeys: [], links: {} }), /at least one layout key/);
  const dots = { ...l, steps: [{ ...l.steps[0]!, name: '..' }] };
  await assert.rejects(
    verify({ layout: sign(dots, [owner()]), layoutKeys: [owner().publicKey], links: {} }),
    (e: Error & { code?: string }) => e.code === 'BAD_INPUT' && /'\.\.'/.test(e.message),
  );
  const slash = { ...l, steps: [{ ...l.steps[0]!, name: '../etc' }] };
  await assert.rejects(verify({ layout: sign(slash, [owner()]), layoutKeys: [owner().publicKey], links: {} }), /must not contain '\/'/);
  await assert.rejects(verify({ layout: sign(chainLinks().code!, [owner()]), layoutKeys: [owner().publicKey], links: {} }), /not a layout/);
  void bob;
  void carol;
});

test("verify: one functionary's link of another step, renamed to this step's file, is ignored", async () => {
  // a functionary of two steps signs both links; a swapped file must not let one stand in for the other
  const both = layout(
    [
      step({ name: 'build', keys: [bob()], products: ['CREATE out', 'DISALLOW *'] }),
      step({ name: 'package', keys: [bob()], materials: ['ALLOW *'], products: ['ALLOW *'] }),
    ],
    [bob()],
  );
  const tmp = await tempDir();
  try {
    await put(tmp.dir, 'root.layout', sign(both, [owner()]));
    const packaged = link('package', { materials: artifacts({ out: 'built' }), products: artifacts({ 'out.tar': 'tar' }) });
    await put(tmp.dir, linkName('package', bob()), sign(packaged, [bob()]));
    await put(tmp.dir, linkName('build', bob()), sign(packaged, [bob()]));
    const report = await run(tmp.dir);
    assert.equal(report.ok, false);
    const build = failed(report).find((c) => c.step === 'build')!;
    assert.match(build.message, /^0 of 1 required link.*is the link of step 'package', not of build/);
  } finally {
    await tmp.cleanup();
  }
});

test("verify: links given as bytes are read as link files are (packed artifacts), and the caller's bytes are left as they were", async () => {
  const l = layout(
    [
      step({ name: 'code', keys: [alice()], products: ['CREATE src/*', 'DISALLOW *'] }),
      step({
        name: 'build',
        keys: [bob(), carol()],
        threshold: 2,
        materials: ['MATCH src/* WITH PRODUCTS FROM code', 'DISALLOW *'],
        products: ['ALLOW out', 'DISALLOW *'],
      }),
    ],
    [alice(), bob(), carol()],
  );
  const bytes = (value: unknown) => Buffer.from(serializeMetablock(value as Metablock));
  const code = link('code', { products: artifacts(SOURCES) });
  const build = (sources: Record<string, string>, out: string) =>
    link('build', { materials: artifacts(sources), products: artifacts({ out }) });
  const links = (bobsBuild: Link, carolsBuild: Link) => ({
    [linkName('code', alice())]: bytes(sign(code, [alice()])),
    [linkName('build', bob())]: bytes(sign(bobsBuild, [bob()])),
    [linkName('build', carol())]: bytes(sign(carolsBuild, [carol()])),
  });
  const base = { layout: sign(l, [owner()]), layoutKeys: [owner().publicKey] };

  const honest = links(build(SOURCES, '1'), build(SOURCES, '1'));
  const before = Object.fromEntries(Object.entries(honest).map(([k, v]) => [k, Buffer.from(v)]));
  assert.equal((await verify({ ...base, links: honest })).ok, true);
  assert.deepEqual(honest, before, 'verification rewrote nothing it was given');

  const disagree = await verify({ ...base, links: links(build(SOURCES, '1'), build(SOURCES, '2')) });
  assert.deepEqual(
    failed(disagree).map((c) => c.id),
    ['threshold-agreement'],
  );

  const tampered = { ...SOURCES, 'src/main.c': 'int main(void) { return 1; }\n' };
  const report = await verify({ ...base, links: links(build(tampered, '1'), build(tampered, '1')) });
  assert.deepEqual(
    failed(report).map((c) => c.id),
    ['rules'],
  );
  const [found, expected] = [artifacts(tampered)['src/main.c']!.sha256!, artifacts(SOURCES)['src/main.c']!.sha256!];
  assert.match(formatReport(report), new RegExp(`src/main\\.c sha256 ${found.slice(0, 4)}.* ≠ code's ${expected.slice(0, 4)}`));
});

test('verify: a DSSE link of 80 000 artifacts (a payload of over 10^7 characters) verifies, and fails when tampered', async () => {
  const many: Record<string, { sha256: string }> = {};
  for (let i = 0; i < 80_000; i++) many[`src/d${i % 100}/file${i}.c`] = { sha256: (i % 16).toString(16).repeat(64) };
  const l = layout([step({ name: 'code', keys: [alice()], products: ['CREATE src/*', 'DISALLOW *'] })], [alice()]);
  const envelope = signDsse(link('code', { products: many }), alice()) as { payload: string };
  assert.ok(envelope.payload.length > 10_000_000, `payload of ${envelope.payload.length} characters`);
  const base = { layout: sign(l, [owner()]), layoutKeys: [owner().publicKey] };
  const text = (value: object) => JSON.stringify(value, null, 2);
  const passed = await verify({ ...base, links: { [linkName('code', alice())]: text(envelope) } });
  assert.equal(passed.ok, true, formatReport(passed));
  const tampered = {
    ...envelope,
    payload: Buffer.from(Buffer.from(envelope.payload, 'base64').toString().replace('"src/d0/file0.c"', '"src/d0/file0.C"')).toString(
      'base64',
    ),
  };
  const failedReport = await verify({ ...base, links: { [linkName('code', alice())]: text(tampered) } });
  assert.deepEqual(
    failed(failedReport).map((c) => c.id),
    ['step-links'],
  );
});

test('verify: a step naming a keyid missing from keys ignores it; the threshold counts keys that exist', async () => {
  const dangling = 'ab'.repeat(32);
  const withDangling = (threshold: number) => {
    const l = chainLayout();
    l.steps[1]!.pubkeys = [dangling, ...l.steps[1]!.pubkeys];
    l.steps[1]!.threshold = threshold;
    return l;
  };
  await withChain(
    async (dir) => {
      const report = await run(dir);
      assert.equal(report.ok, true, formatReport(report));
    },
    { layout: withDangling(1) },
  );
  await withChain(
    async (dir) => {
      const report = await run(dir);
      assert.equal(report.ok, false);
      assert.match(failed(report)[0]!.message, /^1 of 2 required links/);
    },
    { layout: withDangling(2) },
  );
});

test('verify: a DSSE-wrapped layout (payload the layout itself, as in-toto-golang and Python in-toto 2.x write it)', async () => {
  const envelope = signEnvelope('application/vnd.in-toto+json', canonicalJsonBytes(chainLayout()), [owner()]);
  await withChain(async (dir) => {
    const report = await run(dir, { layout: JSON.parse(JSON.stringify(envelope)) });
    assert.equal(report.ok, true, formatReport(report));
    assert.match(formatReport(report), /^✓ layout signed by every given key/m);
    // a payload changed after signing: the owner's signature no longer holds
    const changed = chainLayout();
    changed.steps[0]!.pubkeys = [mallory().keyid];
    changed.keys[mallory().keyid] = mallory().publicKey.toDict();
    const forged = { ...envelope, payload: canonicalJsonBytes(changed).toString('base64') };
    const bad = await run(dir, { layout: forged });
    assert.equal(bad.ok, false);
    assert.equal(failed(bad)[0]!.id, 'layout-signature');
  });
  // where a link is read (the store, evidence), a DSSE layout is named as what it is
  assert.throws(() => parseMetadata(envelope, 'x.link'), /is a DSSE-wrapped layout, where a link or a metablock layout was expected/);
});

test("verify: in-toto-golang's own DSSE layout and links, when its sources were fetched (read in place, never copied)", async (t) => {
  const mirror = '/work/.mirror/in-toto+in-toto-golang/repo';
  if (!existsSync(mirror)) {
    t.skip(`SKIPPED: no in-toto-golang mirror at ${mirror}`);
    return;
  }
  const show = (path: string) =>
    JSON.parse(execFileSync('git', ['-C', mirror, 'show', `HEAD:test/data/${path}`], { encoding: 'utf8' })) as unknown;
  for (const file of ['demo.dsse.layout', 'dsse-only.root.layout']) {
    const parsed = parseSignedMetadataOf(show(file), file);
    assert.equal(parsed, 'layout', file);
  }
  assert.equal(parseSignedMetadataOf(show('package-dsse.2f89b927.link'), 'package-dsse.2f89b927.link'), 'link');
});

function parseSignedMetadataOf(value: unknown, file: string): string {
  const parsed = parseAnyMetadata(value, file);
  assert.equal(parsed.format, 'dsse', file);
  return signedOf(parsed)._type;
}
