import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EvidentError } from '../../../src/errors.js';
import {
  JoinTokenAttestorClient,
  nodeAttestorClientCatalog,
  resolveAgentConfig,
  UnixAttestor,
  workloadAttestorCatalog,
  WorkloadAttestorRegistry,
  TpmAttestorClient,
  X509popAttestorClient,
  type WorkloadAttestorPlugin,
} from '../../../src/identity/agent/index.js';
import { Catalog } from '../../../src/identity/common/catalog.js';
import { makeCa } from '../../helpers/pki.js';
import { openTempDir } from './helpers.js';

const usage =
  (pattern: RegExp) =>
  (e: unknown): boolean =>
    e instanceof EvidentError && e.code === 'BAD_USAGE' && pattern.test(e.message);

describe('agent catalog: node attestor clients and workload attestors by name', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  before(async () => {
    tmp = await openTempDir('evident-agent-catalog-');
    const node = await makeCa('nodes.example', new Date());
    await writeFile(join(tmp.dir, 'node.pem'), node.pem);
    await writeFile(join(tmp.dir, 'node.key'), node.key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  });
  after(() => tmp.cleanup());

  const config = (flags: Record<string, string | string[] | boolean>) =>
    resolveAgentConfig({ flags: { server: '127.0.0.1:1', trust_bundle: 'b.pem', ...flags }, file: {}, env: {} }, tmp.dir);

  it('builds every known name from its settings; the unix workload attestor by default', async () => {
    assert.deepEqual(nodeAttestorClientCatalog.names(), ['join_token', 'x509pop', 'tpm']);
    assert.deepEqual(workloadAttestorCatalog.names(), ['unix']);
    const jt = config({ join_token: 'tok' });
    assert.deepEqual(jt.nodeAttestor, { name: 'join_token', settings: { token: 'tok' } });
    assert.deepEqual(jt.workloadAttestors, [{ name: 'unix', settings: {} }]);
    const [token] = await nodeAttestorClientCatalog.build([jt.nodeAttestor], undefined);
    assert.ok(token instanceof JoinTokenAttestorClient);
    assert.equal((await token.payload()).toString(), 'tok');
    const x = config({ x509pop_cert: 'node.pem', x509pop_key: 'node.key' });
    assert.deepEqual(x.nodeAttestor.settings, { cert: join(tmp.dir, 'node.pem'), key: join(tmp.dir, 'node.key') });
    const [pop] = await nodeAttestorClientCatalog.build([x.nodeAttestor], undefined);
    assert.ok(pop instanceof X509popAttestorClient);
    assert.equal((await pop.answer!(Buffer.from('nonce'))).length > 0, true);
    const [unix] = await workloadAttestorCatalog.build(
      config({ join_token: 't', workload_attestors: ['unix'] }).workloadAttestors,
      undefined,
    );
    assert.ok(unix instanceof UnixAttestor);
  });

  it('tpm: --tpm alone uses /dev/tpmrm0 and the RSA EK; --tpm-tcti and --tpm-ek choose; a false switch is no choice', async () => {
    const dflt = config({ tpm: true });
    assert.deepEqual(dflt.nodeAttestor, { name: 'tpm', settings: { enabled: true, tcti: 'device:/dev/tpmrm0', ek: 'rsa' } });
    const sim = config({ tpm_tcti: 'swtpm:host=127.0.0.1,port=2321', tpm_ek: 'ecc' });
    assert.equal(sim.nodeAttestor.name, 'tpm');
    const [client] = await nodeAttestorClientCatalog.build([sim.nodeAttestor], undefined);
    assert.ok(client instanceof TpmAttestorClient);
    assert.deepEqual([client.tcti, client.ekKind], [{ kind: 'swtpm', host: '127.0.0.1', port: 2321 }, 'ecc']);
    await assert.rejects(
      nodeAttestorClientCatalog.build([config({ tpm_ek: 'dsa' }).nodeAttestor], undefined),
      usage(/^--tpm-ek 'dsa': the EK is rsa or ecc$/),
    );
    await assert.rejects(
      nodeAttestorClientCatalog.build([config({ tpm_tcti: 'mssim:port=1' }).nodeAttestor], undefined),
      usage(/^--tpm-tcti 'mssim:port=1': unsupported TCTI 'mssim'/),
    );
    assert.equal(config({ tpm: false, join_token: 't' }).nodeAttestor.name, 'join_token');
  });

  it('an unknown name is a usage error naming the known ones', async () => {
    assert.throws(
      () => config({ join_token: 't', workload_attestors: ['docker'] }),
      usage(/^unknown workload attestor 'docker' \(known: unix\)$/),
    );
    assert.throws(
      () => config({ node_attestor: 'aws_iid' }),
      usage(/^unknown node attestor 'aws_iid' \(known: join_token, x509pop, tpm\)$/),
    );
    await assert.rejects(
      workloadAttestorCatalog.build([{ name: 'docker', settings: {} }], undefined),
      usage(/unknown workload attestor 'docker'/),
    );
  });

  it('registering a name twice is an error, in a catalog and in the running registry alike', () => {
    const plugin: WorkloadAttestorPlugin = { settings: [], selectors: [], build: () => new UnixAttestor() };
    const catalog = new Catalog('workload attestor').register('unix', plugin);
    assert.throws(() => catalog.register('unix', plugin), usage(/^workload attestor 'unix' registered twice$/));
    assert.throws(
      () => new WorkloadAttestorRegistry([new UnixAttestor(), new UnixAttestor()]),
      usage(/^workload attestor 'unix' registered twice$/),
    );
  });
});
