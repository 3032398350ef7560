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

  const config = (flags: Record<string, string | string[]>) =>
    resolveServerConfig({ flags: { trust_domain: 'example.org', data_dir: dir, ...flags }, file: {}, env: {} }, dir);

  it('builds every known name from its settings; by default join_token, and x509pop once its CA bundle is given (as before)', async () => {
    assert.deepEqual(nodeAttestorCatalog.names(), ['join_token', 'x509pop']);
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
      () => config({ node_attestors: ['join_token', 'tpm'] }),
      usage(/^unknown node attestor 'tpm' \(known: join_token, x509pop\)$/),
    );
    await assert.rejects(nodeAttestorCatalog.build([{ name: 'tpm', settings: {} }], { ds, clock }), usage(/unknown node attestor 'tpm'/));
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
