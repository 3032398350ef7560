import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo } from '../../src/demo/hello-world.js';
import { StoreClient } from '../../src/store/client.js';
import { answers, processesMentioning } from './processes.js';

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

test(
  'the demo: runners upload to the store, the deployer verifies the image from the store alone, and every attack is caught, each for its own reason',
  { timeout: 420_000 },
  async (t) => {
    const workdir = await mkdtemp(join(tmpdir(), 'evident-demo-test-'));
    t.after(() => rm(workdir, { recursive: true, force: true }));
    const lines: string[] = [];
    const honest = join(workdir, 'honest');
    /** What the honest store held while it was up, by step: the digests of its links. */
    const stored = new Map<string, string[]>();
    let healthy = false;
    let page = '';
    const result = await runDemo({
      workdir,
      log: (l) => lines.push(l),
      whileUp: async (r) => {
        healthy = ((await (await fetch(`${r.storeUrl}/healthz`)).json()) as { status?: string }).status === 'ok';
        page = (await (await fetch(r.imagePage)).text()).replace(/\s+/g, ' ');
        const client = new StoreClient({ url: r.storeUrl });
        for (const step of ['code', 'build', 'package', 'scan']) {
          stored.set(
            step,
            (await client.queryAll({ step }, 100)).map((i) => i.digest),
          );
        }
      },
    });
    const output = lines.join('\n');
    assert.ok(result.honestPassed, output);
    assert.ok(result.honestLaterPassed, output);

    // each signer uploaded its link to the honest store: exactly the links in the honest folder, and nothing of the attacks'
    assert.ok(healthy, 'the store answered /healthz while the demo held it up');
    for (const step of ['code', 'build', 'package', 'scan']) {
      const file = (await readdir(honest)).find((f) => f.startsWith(`${step}.`) && f.endsWith('.link'));
      assert.ok(file, `the honest ${step} link was written`);
      assert.deepEqual(
        stored.get(step),
        [sha256(await readFile(join(honest, file)))],
        `the store holds the honest ${step} link, and only it`,
      );
    }

    // the deployer had the image and the layout, no link or attestation: they came from the store, by the
    // image's digest, its OCI manifest's (what a registry and a cluster name it by), a product of the package step
    assert.deepEqual((await readdir(join(honest, 'deliver'))).sort(), ['hello-image.tar', 'root.layout']);
    assert.equal(result.image, sha256(await readFile(join(honest, 'hello-image.manifest.json'))));
    const packaged = JSON.parse(
      await readFile(
        join(
          honest,
          (await readdir(honest)).find((f) => f.startsWith('package.') && f.endsWith('.link'))!,
        ),
        'utf8',
      ),
    ) as { signed: { products: Record<string, { sha256: string }> } };
    assert.equal(`sha256:${packaged.signed.products['hello-image.manifest.json']!.sha256}`, result.image);
    assert.match(result.storeUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    const found = `4 links for ${result.image} from ${result.storeUrl}`;
    assert.ok(output.includes(`\n   ${found}\n`), `the deployer's verify says where its links came from\n${output}`);
    assert.match(output, /✓ verification PASSED: the product followed its layout, on the evidence in the store alone/);
    // the scan policy and the builder are rules over signed attestations, read from the store; the scan is not re-run
    assert.match(
      output,
      /✓ build: 1 attestation of https:\/\/slsa\.dev\/provenance\/v1 by a functionary \(sha256:[0-9a-f]{64}\.json by spiffe:\/\/demo\.evident\/ci\/builder/,
    );
    assert.match(
      output,
      /✓ build: https:\/\/slsa\.dev\/provenance\/v1: rule "predicate\.runDetails\.builder\.id == 'spiffe:\/\/demo\.evident\/ci\/builder'" holds/,
    );
    assert.match(
      output,
      /✓ scan: 1 attestation of https:\/\/in-toto\.io\/attestation\/vulns\/v0\.2 by a functionary \(sha256:[0-9a-f]{64}\.json by spiffe:\/\/demo\.evident\/ci\/scanner/,
    );
    assert.match(output, /✓ scan: https:\/\/in-toto\.io\/attestation\/vulns\/v0\.2: rule .* holds/);
    assert.doesNotMatch(output, /scan check|scan-policy/);
    // the deployer's signed verification summary: where it is, and that it says PASSED for this image against this layout
    const vsaFile = join(honest, 'hello-image.vsa.json');
    assert.ok(output.includes(`✓ the deployer signed a verification summary (SLSA VSA) for others to consume: ${vsaFile}\n`), output);
    const vsa = JSON.parse(
      Buffer.from((JSON.parse(await readFile(vsaFile, 'utf8')) as { payload: string }).payload, 'base64').toString(),
    ) as {
      subject: { digest: { sha256: string } }[];
      predicateType: string;
      predicate: { verificationResult: string; policy: { digest: { sha256: string } } };
    };
    assert.equal(vsa.predicateType, 'https://slsa.dev/verification_summary/v1');
    assert.equal(vsa.predicate.verificationResult, 'PASSED');
    assert.deepEqual(
      vsa.subject.map((s) => `sha256:${s.digest.sha256}`),
      [result.image],
    );
    assert.equal(`sha256:${vsa.predicate.policy.digest.sha256}`, sha256(await readFile(join(honest, 'root.layout'))));
    assert.match(
      output,
      new RegExp(`   ${result.image}: PASSED against the layout sha256:[0-9a-f]{16}…, verifier urn:evident:keyid:[0-9a-f]{64}\n`),
    );
    assert.match(result.imagePage, new RegExp(`^http://127\\.0\\.0\\.1:\\d+/artifacts/${result.image}$`));
    assert.ok(
      output.includes(`✓ the store's page for the verified image, its chain drawn with the layout's verdict: ${result.imagePage}\n`),
      output,
    );
    // the page shows the chain of the image, and the layout's verdict on it, as the deployer's verify gave it
    assert.match(page, /class="verdict passed"[^>]*>\s*PASSED: the supply chain of this artifact followed layout root\.layout/);
    for (const step of ['code', 'build', 'package']) assert.match(page, new RegExp(`<section class="step passed"[^>]*data-step="${step}"`));

    const byName = new Map(result.attacks.map((a) => [a.attack, a]));
    const noLink = (image: string) => new RegExp(`the store holds no link that made ${image}: ✗ code: 0 of 1`);
    const expectations: [string, RegExp][] = [
      [
        'a one-line change to the source after the sign-off',
        /^✗ build: materials: MATCH src\/hello\.c WITH PRODUCTS FROM code: src\/hello\.c sha256/,
      ],
      // the swapped image is not the one the store has evidence for
      ['a swapped binary inside the delivered image', noLink('sha256:(?!' + result.image.slice(7) + ')[0-9a-f]{64}')],
      [
        'a build performed by a workload without the builder identity (a rogue runner)',
        /^✗ build: .*spiffe:\/\/demo\.evident\/ci\/scanner does not satisfy build's constraints/,
      ],
      [
        'links edited after signing to vouch for another image, uploaded with a stolen store token',
        /^✗ build: .*signature does not verify/,
      ],
      ['an expired layout', /layout expired 2020-01-31/],
      [
        'build and package links signed with a stolen builder key after its SVID expired, back-dated',
        /^✗ build: .*timestamp 1 of signature by spiffe:\/\/demo\.evident\/ci\/builder: not signed by a TSA the layout trusts/,
      ],
      [
        'a backdoored library behind a backslash-named decoy of it',
        new RegExp(
          `refused to record the package step: .*vendor/zlib-1\\.3\\.1\\\\libz\\.so\\.1: cannot be recorded: .*backslash[^]*then the deployer: ${noLink(result.image).source}`,
        ),
      ],
      [
        'a library with a known critical advisory added to the image',
        // caught by the rule over the scanner's signed attestation, naming the advisory, the package and its version
        /^✗ scan: https:\/\/in-toto\.io\/attestation\/vulns\/v0\.2: rule ".*" is false for the attestation in sha256:[0-9a-f]{64}\.json, signed by spiffe:\/\/demo\.evident\/ci\/scanner; .*fails at predicate\.scanner\.result\[0\] = \{"id": "EVD-2022-0001", .*"package": "zlib", "version": "1\.2\.11"/,
      ],
    ];
    assert.equal(result.attacks.length, expectations.length);
    for (const [name, reason] of expectations) {
      const outcome = byName.get(name);
      assert.ok(outcome, `attack '${name}' ran`);
      assert.ok(outcome.caught, `attack '${name}' was caught\n${output}`);
      assert.match(outcome.reason, reason, `attack '${name}' reason`);
    }
    // the forged links reached the deployer through the store: uploaded with the stolen token, and kept
    assert.match(
      output,
      /-- links edited after signing[^\n]*\n {3}the store took them \(it checks no signatures[^\n]*: sha256:[0-9a-f]{64}, sha256:[0-9a-f]{64}\n/,
    );
    assert.match(
      output,
      /-- build and package links signed with a stolen[^\n]*\n {3}uploaded with a stolen store token: sha256:[0-9a-f]{64}, sha256:[0-9a-f]{64}\n/,
    );

    assert.match(
      output,
      /== later: every SVID that signed the honest pipeline has expired\n.*build: 1 of 1 link signed by .*\(timestamped /,
    );
    assert.match(output, /== summary/);
    assert.match(
      output,
      /✓ build: 1 of 1 link signed by spiffe:\/\/demo\.evident\/ci\/builder \(timestamped \S+ by CN=evident TSA, O=evident/,
    );
    assert.match(output, /✓ scan: 1 of 1 link signed by spiffe:\/\/demo\.evident\/ci\/scanner/);

    // the deployer's gate, a real `evident gate serve` asked with AdmissionReview v1 bodies for Pod hello: the
    // honest image admitted, every image an attack made refused, with the reason a cluster would print
    assert.ok(result.gatePassed, output);
    assert.match(output, /\n== the deployment gate: what a cluster admits\n/);
    assert.match(output, /✓ evident gate serve at http:\/\/127\.0\.0\.1:\d+ reads it, with the deployer's gate\.yaml/);
    const gate = new Map(result.gate.map((g) => [g.subject, g]));
    assert.equal(result.gate.length, 1 + expectations.length);
    assert.deepEqual(gate.get('honest pipeline'), {
      subject: 'honest pipeline',
      image: `hello@${result.image}`,
      namespace: 'default',
      allowed: true,
      message: '',
    });
    const refusedFor = (name: string, namespace = 'default') => {
      const g = gate.get(name);
      assert.ok(g, `the gate's part for '${name}'`);
      assert.equal(g.allowed, false, `the gate refused the image of '${name}'\n${output}`);
      assert.equal(g.namespace, namespace);
      assert.notEqual(g.image, undefined);
      const [header, line, ...more] = g.message.split('\n');
      assert.equal(header, `evident gate refused Pod ${namespace}/hello: 1 image not admitted`);
      assert.deepEqual(more, []);
      assert.ok(line!.startsWith(`- ${g.image} at spec.containers[0] (hello): `), line);
      return { image: g.image!, reasons: line! };
    };
    const changedSource = refusedFor('a one-line change to the source after the sign-off');
    assert.notEqual(changedSource.image, `hello@${result.image}`);
    assert.match(changedSource.reasons, /: build: materials: MATCH src\/hello\.c WITH PRODUCTS FROM code: src\/hello\.c sha256/);
    // the look-alike image of attacks 2, 4 and 6: in the cluster's store, the edited links and the back-dated ones vouch for it, and neither holds
    const lookAlike = [
      'a swapped binary inside the delivered image',
      'links edited after signing to vouch for another image, uploaded with a stolen store token',
      'build and package links signed with a stolen builder key after its SVID expired, back-dated',
    ].map((name) => refusedFor(name));
    assert.equal(new Set(lookAlike.map((r) => r.image)).size, 1, 'one look-alike image');
    // the edited and the back-dated links are by one SVID key, so one of each step's two is verified (the newest):
    // the refusal names its reason, and the other is listed as not used (`verify --store -v`)
    assert.match(lookAlike[0]!.reasons, /: build: 0 of 1 link signed by an authorized functionary; build\.\w{8}\.link: /);
    assert.match(lookAlike[0]!.reasons, /signature does not verify with the key of its certificate|not signed by a TSA the layout trusts/);
    assert.match(refusedFor('an expired layout', 'legacy').reasons, /: layout expired 2020-01-31T00:00:00Z/);
    assert.equal(refusedFor('an expired layout', 'legacy').image, `hello@${result.image}`, 'the honest image, under the expired policy');
    assert.match(
      refusedFor('a library with a known critical advisory added to the image').reasons,
      /: scan: https:\/\/in-toto\.io\/attestation\/vulns\/v0\.2: rule ".*" is false .*"id": "EVD-2022-0001"/,
    );
    // the two attacks that delivered the honest image itself: not asked, and the output says why
    for (const name of [
      'a build performed by a workload without the builder identity (a rogue runner)',
      'a backdoored library behind a backslash-named decoy of it',
    ]) {
      const g = gate.get(name)!;
      assert.equal(g.allowed, undefined);
      assert.ok(g.message.startsWith('not asked: ') && g.message.includes(`(hello@${result.image}, admitted above)`), g.message);
      assert.ok(output.includes(`-- ${name}\n   ${g.message}\n`), output);
    }
    assert.match(output, /the gate, for the honest image +admitted ✓\nthe gate, for the attacks' images \(6 asked\) +all refused ✓/);

    // without --keep, nothing is left: the store's port is closed, no server, agent, store or gate runs
    assert.equal(await answers(`${result.storeUrl}/healthz`), false, 'the store stopped with the demo');
    assert.deepEqual(await processesMentioning(workdir), []);
  },
);
