import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { formatReport, verify } from '../../../src/intoto/verify/index.js';
import type { VerificationReport } from '../../../src/intoto/verify/index.js';
import type { Inspection } from '../../../src/intoto/models/types.js';
import { inspection, put, sign, tempDir } from './fixtures.js';
import { alice, chainLayout, chainLinks, owner, signers, SOURCES } from './chain.js';
import { linkName } from './fixtures.js';

/** The chain's links in memory, a work folder holding the sources, and the given inspections. */
async function runWith(
  inspect: Inspection[],
  options: {
    layoutKeys?: (typeof alice)[];
    timeoutMs?: number;
    workFiles?: Record<string, string>;
    runInspections?: boolean;
    changeLinks?: (l: ReturnType<typeof chainLinks>) => void;
  } = {},
): Promise<{ report: VerificationReport; work: string[]; marker: boolean; stages: string[] }> {
  const tmp = await tempDir();
  try {
    const work = join(tmp.dir, 'work');
    for (const [path, content] of Object.entries(options.workFiles ?? SOURCES)) await put(work, path, content);
    const links: Record<string, object> = {};
    const chain = chainLinks();
    options.changeLinks?.(chain);
    for (const [name, l] of Object.entries(chain)) links[linkName(name, signers[name]!())] = sign(l, [signers[name]!()]);
    const marker = join(tmp.dir, 'marker');
    const stages: string[] = [];
    const withMarker = inspect.map((i) => ({ ...i, run: i.run.map((a) => a.replace('$MARKER', marker)) }));
    const report = await verify({
      layout: sign(chainLayout({ inspect: withMarker }), [owner()]),
      layoutKeys: (options.layoutKeys ?? [owner]).map((k) => k().publicKey),
      links,
      workDir: work,
      onProgress: (stage) => stages.push(stage),
      ...(options.timeoutMs !== undefined ? { inspectionTimeoutMs: options.timeoutMs } : {}),
      ...(options.runInspections !== undefined ? { runInspections: options.runInspections } : {}),
    });
    return { report, work: (await readdir(work, { recursive: true })).sort(), marker: existsSync(marker), stages };
  } finally {
    await tmp.cleanup();
  }
}

const copyInspection = inspection(
  'copy',
  ['sh', '-c', 'cp src/main.c copied.c && touch "$0"', '$MARKER'],
  ['MATCH src/* WITH PRODUCTS FROM code', 'DISALLOW *'],
  ['MATCH src/* WITH PRODUCTS FROM code', 'CREATE copied.c', 'DISALLOW *'],
);

test('inspections: run in a scratch copy of the work folder, their artifacts checked by their rules', async () => {
  const { report, work, marker, stages } = await runWith([copyInspection]);
  assert.equal(report.ok, true, formatReport(report));
  assert.deepEqual(
    stages.slice(-2),
    ['running inspection copy', 'applying the rules of copy'],
    'progress names the inspection, then its rules',
  );
  assert.equal(marker, true);
  assert.deepEqual(work, ['src', 'src/main.c', 'src/util.h'], 'the work folder itself is untouched');
  const text = formatReport(report);
  assert.match(text, /^✓ copy: \["sh","-c",.*\] ran and exited with 0$/m);
  assert.match(text, /^✓ copy: products: 3 rules passed over 3 artifacts$/m);
});

test('inspections: their rules fail when the work folder holds something other than what the steps made', async () => {
  const { report } = await runWith([copyInspection], { workFiles: { ...SOURCES, 'src/main.c': 'tampered' } });
  assert.equal(report.ok, false);
  assert.match(formatReport(report), /^✗ copy: materials: MATCH src\/\* WITH PRODUCTS FROM code: src\/main\.c sha256 /m);
});

test('inspections: a failing command fails the verification', async () => {
  const { report } = await runWith([inspection('fail', ['sh', '-c', 'echo broken >&2; exit 3'])]);
  assert.equal(report.ok, false);
  assert.match(formatReport(report), /^✗ fail: \["sh","-c","echo broken >&2; exit 3"\] exited with 3: broken$/m);
});

test('inspections: a command over the time limit is killed and fails', async () => {
  const started = Date.now();
  const { report } = await runWith([inspection('slow', ['sleep', '20'])], { timeoutMs: 300 });
  assert.equal(report.ok, false);
  assert.match(formatReport(report), /^✗ slow: .*timed out after 300 ms/m);
  assert.ok(Date.now() - started < 10_000);
});

test('inspections: a command that does not exist fails', async () => {
  const { report } = await runWith([inspection('nope', ['/nonexistent/evident-cmd'])]);
  assert.equal(report.ok, false);
  assert.match(formatReport(report), /^✗ nope: /m);
});

test('inspections: never run when the layout signature is bad, nor after another check failed', async () => {
  const bad = await runWith([copyInspection], { layoutKeys: [owner, alice] });
  assert.equal(bad.report.ok, false);
  assert.equal(bad.marker, false, 'the inspection must not have run');
  const earlier = await runWith([copyInspection], {
    changeLinks: (l) => (l.build!.products = { ...l.build!.products, stray: { sha256: 'ab'.repeat(32) } }),
  });
  assert.equal(earlier.report.ok, false);
  assert.equal(earlier.marker, false, 'the inspection must not have run');
  assert.match(formatReport(earlier.report), /^- copy: not run, because earlier checks failed$/m);
  assert.equal(earlier.report.checks.at(-1)!.ok, false);
});

test('inspections: skipped (not failed) when the caller turns them off', async () => {
  const off = await runWith([copyInspection], { runInspections: false });
  assert.equal(off.report.ok, true);
  assert.equal(off.marker, false);
  assert.match(formatReport(off.report), /^- copy: not run \(inspections disabled\)$/m);
});

test('inspections: a FIFO in the work folder is not copied into the scratch folder (and does not hang)', async () => {
  const tmp = await tempDir();
  try {
    const { execFileSync } = await import('node:child_process');
    const work = join(tmp.dir, 'work');
    for (const [path, content] of Object.entries(SOURCES)) await put(work, path, content);
    execFileSync('mkfifo', [join(work, 'pipe')]);
    const links: Record<string, object> = {};
    for (const [name, l] of Object.entries(chainLinks())) links[linkName(name, signers[name]!())] = sign(l, [signers[name]!()]);
    const probe = inspection('probe', ['sh', '-c', 'test ! -e pipe'], ['ALLOW *'], ['ALLOW *']);
    const report = await verify({
      layout: sign(chainLayout({ inspect: [probe] }), [owner()]),
      layoutKeys: [owner().publicKey],
      links,
      workDir: work,
    });
    assert.equal(report.ok, true, formatReport(report));
  } finally {
    await tmp.cleanup();
  }
});

test('inspections: a later inspection sees what an earlier one made, as its materials', async () => {
  const unpack = inspection('unpack', ['sh', '-c', 'echo unpacked > made.txt'], ['ALLOW *'], ['CREATE made.txt', 'ALLOW *']);
  const later = inspection('later', ['true'], ['MATCH made.txt WITH PRODUCTS FROM unpack', 'ALLOW src/*', 'DISALLOW *'], ['ALLOW *']);
  const { report } = await runWith([unpack, later]);
  const text = formatReport(report);
  assert.equal(report.ok, true, text);
  assert.match(text, /^✓ later: materials: 3 rules passed over 3 artifacts$/m);
  const changed = inspection('changed', ['sh', '-c', 'echo again > made.txt'], ['ALLOW *'], ['ALLOW *']);
  const stale = await runWith([unpack, changed, later]);
  assert.equal(stale.report.ok, false, 'materials are recorded anew after a command changed the folder');
  assert.match(formatReport(stale.report), /^✗ later: materials: MATCH made\.txt WITH PRODUCTS FROM unpack: made\.txt sha256 /m);
});
