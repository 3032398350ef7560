import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EvidentError } from '../../../src/errors.js';
import { Catalog } from '../../../src/identity/common/catalog.js';
import {
  JoinTokenAttestor,
  ManualClock,
  NodeAttestorRegistry,
  nodeAttestorCatalog,
  openSqliteDatastore,
  resolveServerConfig,
  TpmAttestor,
  X509popAttestor,
  type Datastore,
  type NodeAttestorPlugin,
} from '../../../src/identity/server/index.js';
import { makeCa } from '../../helpers/pki.js';

const usage =
  (pattern: RegExp) =>
  (e: unknown): boolean =>
    e instanceof EvidentError && e.code === 'BAD_USAGE' && pattern.test(e.message);

describe('server catalog: node attestors by name', () => {
  let dir: string;
  let ds: Datastore;
  let bundle: string;
  const clock = new ManualClock(Date.now());
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'evident-catalog-'));
    ds = await openSqliteDatastore(join(dir, 'ds.sqlite'));
    bundle = join(dir, 'node-ca.pem');
    await writeFile(bundle, (await makeCa('nodes.example', new Date())).pem);
  });
  after(async () => {
    await ds.close();
    await rm(dir, { recursive: true, force: true });
  });

  const config = (flags: Record<string, string | string[] | boolean>) =>
    resolveServerConfig({ flags: { trust_domain: 'example.org', data_dir: dir, ...flags }, file: {}, env: {} }, dir);

  it('builds every known name from its settings; by default join_token, and x509pop once its CA bundle is given (as before)', async () => {
    assert.deepEqual(nodeAttestorCatalog.names(), ['join_token', 'x509pop', 'tpm']);
    assert.deepEqual(
      config({}).nodeAttestors.map((a) => a.name),
      ['join_token'],
    );
    const both = config({ x509pop_ca_bundle: bundle }).nodeAttestors;
    assert.deepEqual(both, [
      { name: 'join_token', settings: {} },
      { name: 'x509pop', settings: { ca_bundle: bundle } },
    ]);
    const built = await nodeAttestorCatalog.build(both, { ds, clock });
    assert.ok(built[0] instanceof JoinTokenAttestor);
    assert.ok(built[1] instanceof X509popAttestor);
    assert.deepEqual(
      config({ node_attestors: ['x509pop'], x509pop_ca_bundle: bundle }).nodeAttestors.map((a) => a.name),
      ['x509pop'],
    );
  });

  it('an unknown name is a usage error naming the known ones', async () => {
    assert.throws(
      () => config({ node_attestors: ['join_token', 'aws_iid'] }),
      usage(/^unknown node attestor 'aws_iid' \(known: join_token, x509pop, tpm\)$/),
    );
    await assert.rejects(
      nodeAttestorCatalog.build([{ name: 'aws_iid', settings: {} }], { ds, clock }),
      usage(/unknown node attestor 'aws_iid'/),
    );
  });

  it('tpm: --tpm, or either of its files, turns it on beside join_token; a false switch does not; bad files are refused at start', async () => {
    assert.deepEqual(config({ tpm: true }).nodeAttestors, [
      { name: 'join_token', settings: {} },
      { name: 'tpm', settings: { enabled: true, ek_ca_bundle: undefined, allowed_hashes: undefined } },
    ]);
    assert.deepEqual(
      config({ tpm: false }).nodeAttestors.map((a) => a.name),
      ['join_token'],
    );
    const list = join(dir, 'allowed');
    await writeFile(list, `${'ab'.repeat(32)}\n`);
    const chosen = config({ node_attestors: ['tpm'], tpm_allowed_hashes: list, tpm_ek_ca_bundle: bundle }).nodeAttestors;
    assert.deepEqual(chosen, [{ name: 'tpm', settings: { enabled: undefined, ek_ca_bundle: bundle, allowed_hashes: list } }]);
    const [tpm] = await nodeAttestorCatalog.build(chosen, { ds, clock });
    assert.ok(tpm instanceof TpmAttestor);
    await writeFile(list, `${'ab'.repeat(32)}\nabc\n`);
    await assert.rejects(
      nodeAttestorCatalog.build(chosen, { ds, clock }),
      (e: unknown) =>
        e instanceof EvidentError &&
        e.code === 'BAD_INPUT' &&
        e.file === list &&
        /^TPM allow-list line 2: 'abc' is not the SHA-256 of an EK/.test(e.message),
    );
    await writeFile(list, 'nothing');
    await assert.rejects(
      nodeAttestorCatalog.build([{ name: 'tpm', settings: { ek_ca_bundle: list } }], { ds, clock }),
      (e: unknown) => e instanceof EvidentError && e.code === 'BAD_INPUT' && e.file === list && /no PEM certificate/.test(e.message),
    );
  });

  it('a chosen attestor without its required setting says how to give it', () => {
    assert.throws(
      () => config({ node_attestors: ['x509pop'] }),
      usage(
        /node attestor 'x509pop' needs --x509pop-ca-bundle FILE \(or node_attestors\.x509pop\.ca_bundle in the config file, or EVIDENT_SERVER_X509POP_CA_BUNDLE\)/,
      ),
    );
  });

  it('registering a name twice is an error, in a catalog and in the running registry alike', () => {
    const plugin: NodeAttestorPlugin = { settings: [], selectors: [], build: (_s, ctx) => new JoinTokenAttestor(ctx.ds, ctx.clock) };
    const catalog = new Catalog('node attestor').register('join_token', plugin);
    assert.throws(() => catalog.register('join_token', plugin), usage(/^node attestor 'join_token' registered twice$/));
    const registry = new NodeAttestorRegistry().register(new JoinTokenAttestor(ds, clock));
    assert.throws(() => registry.register(new JoinTokenAttestor(ds, clock)), usage(/^node attestor 'join_token' registered twice$/));
  });
});
