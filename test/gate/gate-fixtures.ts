/**
 * What the gate's tests run against: a real evidence store on 127.0.0.1 holding the page tests' signed
 * chain (test/store/chain-fixtures.ts: code → build → package, honest and tampered), and a second signed
 * layout with an inspection (which a gate does not run).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serializeMetablock, signMetablock } from '../../src/intoto/models/metablock.js';
import type { Layout } from '../../src/intoto/models/types.js';
import { startEvidenceStore, type RunningEvidenceStore } from '../../src/store/server.js';
import { pageChain, type PageChain } from '../store/chain-fixtures.js';
import { call, edKey, tokenDir } from '../store/server-fixtures.js';

export const TOKEN = 'gate-test-token';

export interface GateWorld {
  dir: string;
  store: RunningEvidenceStore;
  chain: PageChain;
  /** A layout (and its owner's key) with an inspection `untar`. */
  inspectedLayoutFile: string;
  inspectedKeyFile: string;
  upload(bodies: readonly Buffer[]): Promise<void>;
}

export async function gateWorld(options: { uploadHonest?: boolean } = {}): Promise<GateWorld> {
  const { dir, tokenFile } = tokenDir([TOKEN]);
  const chain = pageChain(dir);
  const store = await startEvidenceStore({ datastore: `sqlite:${join(dir, 'evidence.sqlite3')}`, tokenFile });
  const upload = async (bodies: readonly Buffer[]) => {
    for (const body of bodies) {
      const r = await call(store.url, '/v1/evidence', { body, token: TOKEN });
      assert.ok(r.status === 201 || r.status === 200, r.body.toString());
    }
  };
  if (options.uploadHonest !== false) await upload([...chain.honest, ...chain.tampered]);
  const owner = edKey();
  const layout: Layout = {
    _type: 'layout',
    expires: '2100-01-01T00:00:00Z',
    readme: 'gate test with an inspection',
    keys: {},
    steps: [],
    inspect: [
      {
        _type: 'inspection',
        name: 'untar',
        expected_materials: [],
        expected_products: [['ALLOW', '*']],
        run: ['tar', 'xzf', 'app.tar.gz'],
      },
    ],
  };
  const inspectedLayoutFile = join(dir, 'inspected.layout');
  writeFileSync(inspectedLayoutFile, serializeMetablock(signMetablock(layout, [owner])));
  const inspectedKeyFile = join(dir, 'inspected-owner.pub');
  writeFileSync(inspectedKeyFile, owner.publicKey.keyObject.export({ type: 'spki', format: 'pem' }) as string);
  return { dir, store, chain, inspectedLayoutFile, inspectedKeyFile, upload };
}
