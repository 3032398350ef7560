// The selector reference comes from the attestors' own catalog entries: `evident agent selectors` prints it,
// docs/identity.md embeds it, and the server checks entries against the same kinds.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { workloadAttestorCatalog } from '../../src/identity/agent/catalog.js';
import { WORKLOAD_SELECTORS } from '../../src/identity/common/selectors.js';
import { nodeAttestorCatalog } from '../../src/identity/server/catalog.js';
import { runCli } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/evident-process.js';

const BEGIN = '<!-- BEGIN evident agent selectors --markdown -->';
const END = '<!-- END evident agent selectors -->';

describe('evident agent selectors', () => {
  it('lists every attestor of both catalogs, each selector with an example', async () => {
    const r = await runCli(['agent', 'selectors', '--json']);
    assert.equal(r.code, 0, r.stderr);
    type Side = { attestor: string; selectors: { selector: string; example: string; doc: string }[] }[];
    const out = JSON.parse(r.stdout) as { workload: Side; node: Side };
    assert.deepEqual(
      out.workload.map((a) => a.attestor),
      workloadAttestorCatalog.names(),
    );
    assert.deepEqual(
      out.node.map((a) => a.attestor),
      [...nodeAttestorCatalog.names(), '(every agent)'],
    );
    for (const a of [...out.workload, ...out.node])
      for (const s of a.selectors) assert.ok(s.example.startsWith(s.selector.slice(0, s.selector.lastIndexOf(':') + 1)), s.example);
    const unix = out.workload.find((a) => a.attestor === 'unix')!.selectors.map((s) => s.selector);
    assert.ok(unix.includes('unix:uid:UID') && unix.includes('unix:sha256:HEX'), unix.join());
    assert.ok(out.node.find((a) => a.attestor === 'x509pop')!.selectors.some((s) => s.selector === 'x509pop:subject:cn:CN'));
    const text = await runCli(['agent', 'selectors']);
    assert.match(text.stdout, /unix:uid:UID +e\.g\. unix:uid:1000 +the process's effective user ID/);
  });

  it("the server's list of workload selectors is the agent catalog's: the server cannot import the agent", () => {
    assert.deepEqual([...WORKLOAD_SELECTORS.keys()], workloadAttestorCatalog.names());
    for (const name of workloadAttestorCatalog.names())
      assert.deepEqual(workloadAttestorCatalog.selectorsOf(name), WORKLOAD_SELECTORS.get(name));
  });

  it('docs/identity.md has exactly what `evident agent selectors --markdown` prints', async () => {
    const doc = await readFile(join(REPO_ROOT, 'docs', 'identity.md'), 'utf8');
    const from = doc.indexOf(BEGIN);
    const to = doc.indexOf(END);
    assert.ok(from >= 0 && to > from, `docs/identity.md has the block ${BEGIN} … ${END}`);
    const embedded = doc.slice(from + BEGIN.length, to).trim();
    const r = await runCli(['agent', 'selectors', '--markdown']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(embedded, r.stdout.trim(), 'regenerate the block with: evident agent selectors --markdown');
  });
});

describe('--help says which settings are required', () => {
  it('server run: the trust domain and the data dir; agent run: the server', async () => {
    const server = (await runCli(['server', 'run', '--help'])).stdout.replace(/\s+/g, ' ');
    assert.match(server, /--trust-domain <td> the trust domain, e\.g\. example\.org \(required\)/);
    assert.match(server, /--data-dir <dir> [^-]*\(required\)/);
    assert.doesNotMatch(server, /--bind <host:port> [^-]*\(required\)/);
    const agent = (await runCli(['agent', 'run', '--help'])).stdout.replace(/\s+/g, ' ');
    assert.match(agent, /--server <host:port> the server's agent API \(its --bind\) \(required\)/);
    assert.match(agent, /--trust-bundle <file> [^]*?\(required unless --insecure-bootstrap\)/);
  });

  it('every socket flag says it takes a path or a unix:// URI, and where it looks by default', async () => {
    const help = async (...args: string[]) => (await runCli([...args, '--help'])).stdout.replace(/\s+/g, ' ');
    assert.match(
      await help('svid', 'fetch'),
      /--socket <path> the Workload API socket, a path or unix:\/\/ URI \(default: \$SPIFFE_ENDPOINT_SOCKET, else the agent's \/tmp\/evident-agent\/public\/api\.sock\)/,
    );
    assert.match(
      await help('run'),
      /--spiffe-socket \[path\] [^]*a path or unix:\/\/ URI \(default: \$SPIFFE_ENDPOINT_SOCKET, else the agent's/,
    );
    assert.match(
      await help('server', 'entry', 'create'),
      /--admin-socket <path> [^]*\(default: \$EVIDENT_SERVER_ADMIN_SOCKET, else \/tmp\/evident-server\/private\/admin\.sock\)/,
    );
    assert.match(await help('agent', 'run'), /--socket <path> the Workload API Unix socket, a path or unix:\/\/ URI/);
  });
});
