import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScanReport } from '../../src/scan/report.js';
import { runCli } from '../helpers/cli.js';

const EXAMPLE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'hello-world');

/** The example's image spec, vendor files and advisory feed, with a stand-in `hello` binary. */
async function example(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'evident-scan-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const p of ['image.yaml', 'vendor', 'advisories']) await cp(join(EXAMPLE, p), join(dir, p), { recursive: true });
  await writeFile(join(dir, 'hello'), '\x7fELF hello');
  return dir;
}

async function buildAndScan(dir: string, extra: string[] = []): Promise<{ report: ScanReport; digest: string }> {
  const b = await runCli(['image', 'build', '-c', 'image.yaml', '-o', 'hello-image.tar', '--sbom', 'sbom.cdx.json', '--json'], {
    cwd: dir,
  });
  assert.equal(b.code, 0, b.stderr);
  const s = await runCli(['scan', 'run', 'sbom.cdx.json', '--advisories', 'advisories', '-o', 'report.json', ...extra], { cwd: dir });
  assert.equal(s.code, 0, s.stderr);
  return {
    report: JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as ScanReport,
    digest: (JSON.parse(b.stdout) as { manifestDigest: string }).manifestDigest,
  };
}

test('the honest example image (zlib 1.3.1) has no finding and passes --fail-on high', async (t) => {
  const dir = await example(t);
  const { report, digest } = await buildAndScan(dir);
  assert.deepEqual(report.scanner, { name: 'evident-scan', version: '0.1.0' });
  assert.deepEqual(report.subject, { name: 'hello-world', digest: { sha256: digest.slice(7) } });
  assert.equal(report.advisories.count, 4);
  assert.deepEqual(report.findings, []);
  const c = await runCli(['scan', 'check', 'report.json', '--fail-on', 'high'], { cwd: dir });
  assert.equal(c.code, 0);
  assert.equal(c.stdout, '✓ report.json: no finding at or above high\n');
});

test('the attack: zlib 1.2.11 in the image is caught by scan check, one line per finding', async (t) => {
  const dir = await example(t);
  const yaml = await readFile(join(dir, 'image.yaml'), 'utf8');
  await writeFile(join(dir, 'image.yaml'), yaml.replaceAll('1.3.1', '1.2.11'));
  const { report } = await buildAndScan(dir);
  assert.deepEqual(
    report.findings.map((f) => [f.package, f.version, f.advisory, f.severity, f.fixedIn, f.aliases]),
    [
      ['zlib', '1.2.11', 'EVD-2022-0001', 'critical', '1.2.13', ['CVE-2022-37434']],
      ['zlib', '1.2.11', 'EVD-2022-0002', 'high', '1.2.12', ['CVE-2018-25032']],
    ],
  );
  assert.equal(report.findings[1]?.cvssScore, 7.5, 'severity from the CVSS vector when the advisory states none');
  assert.deepEqual(report.summary, { low: 0, medium: 0, high: 1, critical: 1 });
  const c = await runCli(['scan', 'check', 'report.json', '--fail-on', 'high'], { cwd: dir });
  assert.equal(c.code, 1);
  assert.equal(
    c.stdout,
    '✗ zlib 1.2.11: EVD-2022-0001 [CVE-2022-37434] (critical) zlib: heap buffer over-read or overflow in inflate() via a large gzip header extra field — fixed in 1.2.13\n' +
      '✗ zlib 1.2.11: EVD-2022-0002 [CVE-2018-25032] (high) zlib: memory corruption when deflating input with many distant matches — fixed in 1.2.12\n',
  );
  assert.equal(c.stderr, 'evident: report.json: 2 findings at or above high: the scan policy fails\n');
  // thresholds
  const critical = await runCli(['scan', 'check', 'report.json', '--fail-on', 'critical'], { cwd: dir });
  assert.equal(critical.code, 1);
  assert.equal(critical.stdout.split('\n').filter((l) => l !== '').length, 1);
  const json = await runCli(['scan', 'check', 'report.json', '--fail-on', 'critical', '--json'], { cwd: dir });
  assert.deepEqual((JSON.parse(json.stdout) as { passed: boolean; below: number }).below, 1);
});

test('thresholds: low, moderate and critical against a report with one finding of each level', async (t) => {
  const dir = await example(t);
  const finding = (severity: string, advisory: string) => ({
    package: 'p',
    version: '1',
    purl: null,
    advisory,
    aliases: [],
    severity,
    summary: '',
    fixedIn: null,
  });
  const report = { scanner: { name: 'x', version: '1' }, findings: [finding('medium', 'M-1'), finding('low', 'L-1')] };
  await writeFile(join(dir, 'r.json'), JSON.stringify(report));
  const expect: [string, number][] = [
    ['critical', 0],
    ['high', 0],
    ['moderate', 1],
    ['medium', 1],
    ['low', 1],
  ];
  for (const [level, code] of expect)
    assert.equal((await runCli(['scan', 'check', 'r.json', '--fail-on', level], { cwd: dir })).code, code, level);
  const low = await runCli(['scan', 'check', 'r.json', '--fail-on', 'low'], { cwd: dir });
  assert.equal(low.stdout, '✗ p 1: M-1 (medium) — no fixed version recorded\n✗ p 1: L-1 (low) — no fixed version recorded\n');
  const passed = await runCli(['scan', 'check', 'r.json'], { cwd: dir });
  assert.equal(passed.stdout, '✓ r.json: no finding at or above high (2 below)\n', 'default threshold is high');
});

test('--format statement writes an in-toto Statement v1 about the image digest, and scan check reads it', async (t) => {
  const dir = await example(t);
  const { digest } = await buildAndScan(dir, ['--format', 'statement']);
  const st = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as {
    _type: string;
    subject: unknown;
    predicateType: string;
    predicate: ScanReport;
  };
  assert.equal(st._type, 'https://in-toto.io/Statement/v1');
  assert.deepEqual(st.subject, [{ name: 'hello-world', digest: { sha256: digest.slice(7) } }]);
  assert.equal(st.predicateType, 'https://evident.dev/scan/v1');
  assert.deepEqual(st.predicate.findings, []);
  assert.equal((await runCli(['scan', 'check', 'report.json'], { cwd: dir })).code, 0);
});

test('scan run is deterministic: the same SBOM and feed give the same report bytes', async (t) => {
  const dir = await example(t);
  await buildAndScan(dir);
  const first = await readFile(join(dir, 'report.json'));
  await runCli(['scan', 'run', 'sbom.cdx.json', '--advisories', 'advisories', '-o', 'again.json'], { cwd: dir });
  assert.deepEqual(await readFile(join(dir, 'again.json')), first);
});

test('bad input: exit 2 naming the file (malformed advisory, unknown severity word, bad report, bad flags)', async (t) => {
  const dir = await example(t);
  await buildAndScan(dir);
  await mkdir(join(dir, 'feed'));
  await writeFile(join(dir, 'feed', 'bad.json'), JSON.stringify({ id: 'B-1', modified: 'x', database_specific: { severity: 'URGENT' } }));
  const sev = await runCli(['scan', 'run', 'sbom.cdx.json', '--advisories', 'feed'], { cwd: dir });
  assert.equal(sev.code, 2);
  assert.equal(
    sev.stderr,
    "evident: feed/bad.json: advisory: B-1: database_specific.severity 'URGENT' is not a severity (LOW, MODERATE or MEDIUM, HIGH, CRITICAL)\n",
  );
  await writeFile(join(dir, 'feed', 'bad.json'), '{"id": ');
  const malformed = await runCli(['scan', 'run', 'sbom.cdx.json', '--advisories', 'feed'], { cwd: dir });
  assert.equal(malformed.code, 2);
  assert.match(malformed.stderr, /^evident: feed\/bad\.json: advisory: malformed JSON/);
  await writeFile(join(dir, 'feed', 'bad.json'), await readFile(join(dir, 'advisories', 'EVD-2022-0001.json')));
  await writeFile(join(dir, 'feed', 'dup.json'), await readFile(join(dir, 'advisories', 'EVD-2022-0001.json')));
  const dup = await runCli(['scan', 'run', 'sbom.cdx.json', '--advisories', 'feed'], { cwd: dir });
  assert.equal(dup.code, 2);
  assert.match(dup.stderr, /evident: feed\/dup\.json: advisory: EVD-2022-0001 is also defined in feed\/bad\.json/);
  const noFeed = await runCli(['scan', 'run', 'sbom.cdx.json', '--advisories', 'nowhere'], { cwd: dir });
  assert.equal(noFeed.code, 2);
  assert.match(noFeed.stderr, /evident: nowhere: no such advisory folder/);
  const notSbom = await runCli(['scan', 'run', 'image.yaml', '--advisories', 'advisories'], { cwd: dir });
  assert.equal(notSbom.code, 2);
  assert.match(notSbom.stderr, /^evident: image\.yaml: sbom: malformed JSON/);

  await writeFile(
    join(dir, 'r.json'),
    JSON.stringify({ scanner: {}, findings: [{ package: 'p', version: '1', advisory: 'A', severity: 'severe' }] }),
  );
  const badSev = await runCli(['scan', 'check', 'r.json'], { cwd: dir });
  assert.equal(badSev.code, 2);
  assert.equal(badSev.stderr, "evident: r.json: scan report: findings[0]: severity 'severe' is not one of low, medium, high, critical\n");
  const badFlag = await runCli(['scan', 'check', 'report.json', '--fail-on', 'urgent'], { cwd: dir });
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /--fail-on must be one of low, medium, high, critical/);
  const badFormat = await runCli(['scan', 'run', 'sbom.cdx.json', '--advisories', 'advisories', '--format', 'vex'], { cwd: dir });
  assert.equal(badFormat.code, 2);
  assert.equal((await runCli(['scan', 'check', 'missing.json'], { cwd: dir })).code, 2);
  assert.equal((await runCli(['scan', 'check'], { cwd: dir })).code, 2, 'missing argument is a usage error');
});
