/**
 * A DSSE payload is ordinary JSON, whatever the link's byproducts hold. OLPC canonical JSON (what metablock
 * signatures are over) escapes only `"` and `\`: a command's stdout with newlines, tabs or other control
 * characters would go into the payload raw, which no JSON reader accepts. Checked on both DSSE forms
 * `evident run` writes, by JSON.parse, by the Python reference's json module and by evident reading it
 * back; the metablock form keeps signing the canonical bytes the reference checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePrivateKey, saveKeyPair } from '../../src/crypto/key-files.js';
import { parseMetadata } from '../../src/intoto/models/metablock.js';
import type { Link } from '../../src/intoto/models/types.js';
import { runCli } from '../helpers/cli.js';
import { runReferenceCli, runReferencePython, skipUnlessReference } from '../helpers/reference.js';

/** Newlines, a tab, a carriage return, the control characters 0x01 and 0x1f, DEL, a quote, a backslash, and non-ASCII. */
const NASTY = 'line one\nline\ttwo\r\n\u0001\u001f\u007f "quoted" back\\slash é ✓\n';
/** What the link records: the streams decoded as the reference decodes them (universal newlines: CRLF becomes LF). */
const RECORDED = NASTY.replace('\r\n', '\n');

async function scratch(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'evident-dsse-json-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // securesystemslib JSON keys: the reference's in-toto-sign reads ed25519 public keys only so
  await saveKeyPair(generatePrivateKey('ed25519'), join(dir, 'alice'), { format: 'securesystemslib' });
  // the command prints the bytes of NASTY on stdout and a control character on stderr
  await writeFile(join(dir, 'nasty.txt'), NASTY);
  return dir;
}

const printNasty = ['-s', '--', 'sh', '-c', 'cat nasty.txt; printf "err\\001\\n" >&2'];

for (const format of ['dsse', 'dsse-link'] as const) {
  test(`run --format ${format}: a stdout with newlines and control characters gives a payload that is valid JSON`, async (t) => {
    const dir = await scratch(t);
    const ran = await runCli(['run', '-n', 'say', '-k', 'alice', '--format', format, ...printNasty], { cwd: dir });
    assert.equal(ran.code, 0, ran.stderr);
    const [file] = (await readdir(dir)).filter((f) => f.endsWith('.link'));
    const envelope = JSON.parse(await readFile(join(dir, file!), 'utf8')) as { payload: string };
    const text = Buffer.from(envelope.payload, 'base64').toString('utf8');
    const payload = JSON.parse(text) as { predicate?: Link } & Partial<Link>;
    const link = format === 'dsse' ? payload.predicate! : (payload as Link);
    assert.equal(link.byproducts.stdout, RECORDED);
    assert.equal(link.byproducts.stderr, 'err\u0001\n');
    // read back by evident as the same link, its signature checked
    const loaded = parseMetadata(JSON.parse(await readFile(join(dir, file!), 'utf8')), file);
    assert.equal(loaded.format === 'dsse' && 'link' in loaded ? loaded.link.byproducts.stdout : undefined, RECORDED);
    const verified = await runCli(['sign', file!, '-k', 'alice.pub', '--verify'], { cwd: dir });
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    if (skipUnlessReference(t)) return;
    // Python's json module (strict by default, as in-toto's readers use it) refuses raw control characters
    const stdout = await runReferencePython(
      'import json, sys; d = json.loads(sys.stdin.read()); print(json.dumps(d["predicate"]["byproducts"]["stdout"] if "predicate" in d else d["byproducts"]["stdout"]))',
      {
        input: text,
      },
    );
    assert.equal(JSON.parse(stdout) as string, RECORDED);
  });
}

test('run (metablock): the same stdout; the reference verifies the signature over its canonical bytes', async (t) => {
  if (skipUnlessReference(t)) return;
  const dir = await scratch(t);
  const ran = await runCli(['run', '-n', 'say', '-k', 'alice', ...printNasty], { cwd: dir });
  assert.equal(ran.code, 0, ran.stderr);
  const [file] = (await readdir(dir)).filter((f) => f.endsWith('.link'));
  const written = JSON.parse(await readFile(join(dir, file!), 'utf8')) as { signed: Link };
  assert.equal(written.signed.byproducts.stdout, RECORDED);
  const checked = await runReferenceCli('in-toto-sign', ['-f', file!, '--verify', '-k', 'alice.pub', '-t', 'ed25519'], { cwd: dir });
  assert.equal(checked.code, 0, checked.stdout + checked.stderr);
});
