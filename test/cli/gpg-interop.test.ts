/**
 * OpenPGP-signed in-toto metadata across evident and the Python reference, with keys made here by gpg in
 * throwaway keyrings: a chain evident writes (`layout create --gpg`, `run --gpg`, `record --gpg`) is
 * verified by `in-toto-verify --gpg`; a chain the reference's tools write (`in-toto-run --gpg`,
 * `in-toto-record --gpg`, `in-toto-sign --gpg`) is verified by `evident verify --gpg`, and each tampered
 * variant of it gets the reference's verdict from evident too.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { GpgHome, gpgInstalled } from '../helpers/gpg.js';
import { referenceInstalled, runReferenceCli, runReferencePython } from '../helpers/reference.js';

const WRITE_PRODUCTS = [
  ['CREATE', 'foo.py'],
  ['DISALLOW', '*'],
];
const PACKAGE_MATERIALS = [
  ['MATCH', 'foo.py', 'WITH', 'PRODUCTS', 'FROM', 'write'],
  ['DISALLOW', '*'],
];
const PACKAGE_PRODUCTS = [
  ['CREATE', 'foo.tar.gz'],
  ['DISALLOW', '*'],
];

describe(
  'OpenPGP-signed chains between evident and the reference',
  { skip: !(gpgInstalled && referenceInstalled) && 'needs gpg and the in-toto reference' },
  () => {
    let home: GpgHome;
    let owner: string;
    let alice: string;
    let aliceSub: string;
    let bob: string;
    let stale: string;
    let work: string;
    const homes: GpgHome[] = [];

    before(async () => {
      home = await GpgHome.create();
      homes.push(home);
      owner = home.generate('Owner <owner@example.com>', 'ed25519');
      // alice signs through a signing subkey, as many real keys do
      alice = home.generate('Alice <alice@example.com>', 'rsa2048', { usage: 'cert' });
      aliceSub = home.addSigningSubkey(alice, 'rsa2048');
      bob = home.generate('Bob <bob@example.com>', 'ed25519');
      // made, and expired, in 2020
      stale = home.generate('Stale <stale@example.com>', 'rsa2048', { expire: '1d', at: '20200101T000000' });
      work = await mkdtemp(join(tmpdir(), 'evident-gpg-interop-'));
    });
    after(async () => {
      for (const h of homes) await h.remove();
      await rm(work, { recursive: true, force: true });
    });

    /** A fresh folder with the source file. */
    async function project(name: string): Promise<string> {
      const dir = join(work, name);
      await mkdir(dir);
      await writeFile(join(dir, 'foo.py'), 'print("hello")\n');
      return dir;
    }

    async function evident(args: string[], dir: string, keyring = home): Promise<void> {
      const r = await runCli([...args, '--gpg-home', keyring.dir], { cwd: dir });
      assert.equal(r.code, 0, `evident ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    }

    async function reference(tool: string, args: string[], dir: string, keyring = home): Promise<void> {
      const r = await runReferenceCli(tool, [...args, '--gpg-home', keyring.dir], { cwd: dir });
      assert.equal(r.code, 0, `${tool} ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    }

    /** A layout the reference makes (keys from the keyring, as in-toto's Layout.add_functionary_key_from_gpg_keyid), signed by in-toto-sign --gpg. */
    async function referenceLayout(dir: string, writer: string, keyring = home): Promise<void> {
      const config = { home: keyring.dir, out: join(dir, 'root.layout'), writer, bob, WRITE_PRODUCTS, PACKAGE_MATERIALS, PACKAGE_PRODUCTS };
      await runReferencePython(
        [
          'import json',
          'from in_toto.models.layout import Layout, Step',
          'from in_toto.models.metadata import Metablock',
          `c = json.loads(${JSON.stringify(JSON.stringify(config))})`,
          'layout = Layout()',
          "w = layout.add_functionary_key_from_gpg_keyid(c['writer'], c['home'])['keyid']",
          "b = layout.add_functionary_key_from_gpg_keyid(c['bob'], c['home'])['keyid']",
          "layout.steps = [Step(name='write', pubkeys=[w], expected_products=c['WRITE_PRODUCTS']),",
          "  Step(name='package', pubkeys=[b], expected_materials=c['PACKAGE_MATERIALS'], expected_products=c['PACKAGE_PRODUCTS'])]",
          'layout.set_relative_expiration(days=30)',
          "Metablock(signed=layout).dump(c['out'])",
        ].join('\n'),
      );
      await reference('in-toto-sign', ['-f', 'root.layout', '--gpg', owner], dir, keyring);
    }

    /** The reference's links for the chain: write by `writer` (in-toto-run), package by bob (in-toto-record). */
    async function referenceLinks(dir: string, writer: string, keyring = home): Promise<void> {
      await reference('in-toto-run', ['-n', 'write', '--gpg', writer, '-p', 'foo.py', '-x'], dir, keyring);
      await reference('in-toto-record', ['start', '-n', 'package', '--gpg', bob, '-m', 'foo.py'], dir, keyring);
      await writeFile(join(dir, 'foo.tar.gz'), 'a tarball of foo.py');
      await reference('in-toto-record', ['stop', '-n', 'package', '--gpg', bob, '-p', 'foo.tar.gz'], dir, keyring);
    }

    /** Both verdicts on the chain in `dir`, the layout's signature checked with `layoutKey` from the keyring. */
    async function verdicts(dir: string, layoutKey = owner): Promise<{ reference: boolean; evident: boolean; report: string }> {
      const ref = await runReferenceCli('in-toto-verify', ['-l', 'root.layout', '--gpg', layoutKey, '--gpg-home', home.dir], { cwd: dir });
      const ours = await runCli(['verify', '-l', 'root.layout', '--gpg', layoutKey, '--gpg-home', home.dir], { cwd: dir });
      assert.ok(ours.code === 0 || ours.code === 1, `evident verify: exit ${ours.code}: ${ours.stderr}`);
      return { reference: ref.code === 0, evident: ours.code === 0, report: `${ref.stderr}\n${ours.stdout}${ours.stderr}` };
    }

    const linkFile = async (dir: string, step: string): Promise<string> => {
      const names = (await readdir(dir)).filter((n) => n.startsWith(`${step}.`) && n.endsWith('.link'));
      assert.equal(names.length, 1, `${step}: ${names.join(', ')}`);
      return join(dir, names[0]!);
    };

    it('in-toto-verify --gpg passes a chain evident wrote: layout create --gpg, run --gpg (by a subkey), record --gpg', async () => {
      const dir = await project('evident-chain');
      await writeFile(join(dir, 'alice.gpg'), home.export(alice));
      await writeFile(join(dir, 'bob.asc'), home.export(bob, true));
      await writeFile(
        join(dir, 'layout.yaml'),
        [
          'expires: 30d',
          'keys: {alice: alice.gpg, bob: bob.asc}',
          'steps:',
          '  - name: write',
          '    functionaries: [alice]',
          '    products: [CREATE foo.py, DISALLOW *]',
          '  - name: package',
          '    functionaries: [bob]',
          '    materials: [MATCH foo.py WITH PRODUCTS FROM write, DISALLOW *]',
          '    products: [CREATE foo.tar.gz, DISALLOW *]',
          '',
        ].join('\n'),
      );
      await evident(['layout', 'create', 'layout.yaml', '--gpg', owner, '-o', 'root.layout'], dir);
      await evident(['run', '-n', 'write', '--gpg', alice, '-p', 'foo.py', '-x'], dir);
      // the link is named after the key that signed: alice's signing subkey
      assert.equal(await linkFile(dir, 'write'), join(dir, `write.${aliceSub.slice(0, 8).toLowerCase()}.link`));
      await evident(['record', 'start', '-n', 'package', '--gpg', bob, '-m', 'foo.py'], dir);
      await writeFile(join(dir, 'foo.tar.gz'), 'a tarball of foo.py');
      await evident(['record', 'stop', '-n', 'package', '--gpg', bob, '-p', 'foo.tar.gz'], dir);
      const layout = JSON.parse(await readFile(join(dir, 'root.layout'), 'utf8')) as { signatures: object[]; signed: { keys: object } };
      assert.deepEqual(Object.keys(layout.signatures[0]!).sort(), ['keyid', 'other_headers', 'signature']);
      const v = await verdicts(dir);
      assert.deepEqual([v.reference, v.evident], [true, true], v.report);
      // evident sign --gpg --verify agrees, and in-toto-sign --verify --gpg checks evident's signature
      const check = await runCli(['sign', '--verify', '--gpg', owner, '--gpg-home', home.dir, 'root.layout'], { cwd: dir });
      assert.equal(check.code, 0, check.stdout + check.stderr);
      await reference('in-toto-sign', ['-f', 'root.layout', '--verify', '--gpg', owner], dir);
    });

    it('evident verifies a chain the reference wrote, and gives its verdict on each tampered variant', async () => {
      const dir = await project('reference-chain');
      await referenceLayout(dir, alice);
      await referenceLinks(dir, alice);
      const intact = await verdicts(dir);
      assert.deepEqual([intact.reference, intact.evident], [true, true], intact.report);

      // a product of the link changed after it was signed
      const altered = join(work, 'altered');
      await cp(dir, altered, { recursive: true });
      const link = await linkFile(altered, 'write');
      await writeFile(link, (await readFile(link, 'utf8')).replace(/"sha256": "[0-9a-f]{64}"/, `"sha256": "${'0'.repeat(64)}"`));
      const a = await verdicts(altered);
      assert.deepEqual([a.reference, a.evident], [false, false], a.report);
      assert.match(a.report, /write: 0 of 1 required link/);

      // the layout checked with a key that did not sign it
      const w = await verdicts(dir, bob);
      assert.deepEqual([w.reference, w.evident], [false, false], w.report);
      assert.match(w.report, /layout is not validly signed by/);
    });

    it('a link by an expired key counts for neither', async () => {
      const dir = await project('expired');
      await referenceLayout(dir, stale);
      // gpg signs with an expired key only at a time it was valid
      const then = await home.clone({ fakedTime: '20200101T120000' });
      homes.push(then);
      await reference('in-toto-run', ['-n', 'write', '--gpg', stale, '-p', 'foo.py', '-x'], dir, then);
      await reference('in-toto-record', ['start', '-n', 'package', '--gpg', bob, '-m', 'foo.py'], dir);
      await writeFile(join(dir, 'foo.tar.gz'), 'a tarball of foo.py');
      await reference('in-toto-record', ['stop', '-n', 'package', '--gpg', bob, '-p', 'foo.tar.gz'], dir);
      const v = await verdicts(dir);
      assert.deepEqual([v.reference, v.evident], [false, false], v.report);
      assert.match(v.report, /OpenPGP key [0-9a-f]{16} expired at 2020-01-02T00:00:\d\d\.000Z/);
    });

    it('a link by a subkey the layout does not list (added after it was made) counts for neither', async () => {
      const dir = await project('unknown-subkey');
      await referenceLayout(dir, alice);
      const later = await home.clone();
      homes.push(later);
      const added = later.addSigningSubkey(alice, 'rsa2048');
      await referenceLinks(dir, alice, later);
      assert.equal(await linkFile(dir, 'write'), join(dir, `write.${added.slice(0, 8).toLowerCase()}.link`));
      const v = await verdicts(dir);
      assert.deepEqual([v.reference, v.evident], [false, false], v.report);
    });

    it('a revoked subkey: the reference keeps it in the layouts it makes (evident agrees on those); evident leaves it out of its own', async () => {
      const dir = await project('revoked-subkey');
      await referenceLinks(dir, alice); // signed by alice's subkey while it was good
      const revoked = await home.clone();
      homes.push(revoked);
      revoked.revokeSubkey(alice, aliceSub);
      // the reference's export ignores the revocation: the subkey is in its layout, and its links count
      await referenceLayout(dir, alice, revoked);
      const theirs = await verdicts(dir);
      assert.deepEqual([theirs.reference, theirs.evident], [true, true], theirs.report);
      // evident's export leaves the revoked subkey out: neither verifier counts alice's link under evident's layout
      await writeFile(join(dir, 'alice.gpg'), revoked.export(alice));
      await writeFile(join(dir, 'bob.gpg'), revoked.export(bob));
      await writeFile(
        join(dir, 'layout.yaml'),
        `expires: 30d\nkeys: {alice: alice.gpg, bob: bob.gpg}\nsteps:\n  - name: write\n    functionaries: [alice]\n    products: [CREATE foo.py, DISALLOW *]\n`,
      );
      await evident(['layout', 'create', 'layout.yaml', '--gpg', owner, '-o', 'root.layout'], dir, revoked);
      const layout = JSON.parse(await readFile(join(dir, 'root.layout'), 'utf8')) as {
        signed: { keys: Record<string, { subkeys?: object }> };
      };
      assert.equal(layout.signed.keys[alice.toLowerCase()]!.subkeys, undefined);
      const ours = await verdicts(dir);
      assert.deepEqual([ours.reference, ours.evident], [false, false], ours.report);
    });

    it('bad input: exit 2 with one line naming the problem, and no link written', async () => {
      const dir = await project('bad-input');
      await writeFile(join(dir, 'cut.gpg'), home.export(alice).subarray(0, 100));
      const cases: [string[], RegExp][] = [
        [['verify', '-l', 'root.layout', '--gpg', 'DEADBEEF', '--gpg-home', home.dir], /no OpenPGP key DEADBEEF in the keyring/],
        [['run', '-n', 'x', '--gpg', 'zz', '--gpg-home', home.dir, '-x'], /'zz' is not an OpenPGP keyid/],
        [['run', '-n', 'x', '--gpg', bob, '--gpg-home', home.dir, '--format', 'dsse', '-x'], /--gpg signs links as the reference does/],
        [
          ['run', '-n', 'x', '-k', 'key', '--gpg-home', home.dir, '-x'],
          /^evident: --gpg-home is the keyring of --gpg keys: it needs --gpg\n$/,
        ],
        [['verify', '-l', 'root.layout', '-k', 'cut.gpg'], /cut\.gpg: not an OpenPGP public key/],
      ];
      // a good layout (the first test's), so that each case fails on what it is about
      await cp(join(work, 'evident-chain', 'root.layout'), join(dir, 'root.layout'));
      for (const [argv, message] of cases) {
        const r = await runCli(argv, { cwd: dir });
        assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, message, argv.join(' '));
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      }
      assert.deepEqual(
        (await readdir(dir)).filter((n) => n.endsWith('.link')),
        [],
      );
    });
  },
);
