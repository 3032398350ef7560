/**
 * A three-step supply chain (code → build → package) as the store's page tests upload it: a signed
 * layout, its owner's public key file, the honest links, and a tampered build that slipped an extra
 * material in (the build step's `DISALLOW *` rule fails on it). Real keys and signatures.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serializeMetablock, signMetablock } from '../../src/intoto/models/metablock.js';
import type { Layout, Step } from '../../src/intoto/models/types.js';
import { edKey, hex, link, linkFile } from './server-fixtures.js';

export interface PageChain {
  layoutFile: string;
  ownerKeyFile: string;
  honest: Buffer[];
  tampered: Buffer[];
  /** The packaged artifact of each chain. */
  honestProduct: string;
  tamperedProduct: string;
}

function step(name: string, materials: string[][], products: string[][], keyid: string): Step {
  return {
    _type: 'step',
    name,
    threshold: 1,
    expected_materials: materials,
    expected_products: products,
    pubkeys: [keyid],
    expected_command: [],
  };
}

export function pageChain(dir: string): PageChain {
  const owner = edKey();
  const developer = edKey();
  const builder = edKey();
  const layout: Layout = {
    _type: 'layout',
    expires: '2100-01-01T00:00:00Z',
    readme: 'page test',
    keys: { [developer.keyid]: developer.publicKey.toDict(), [builder.keyid]: builder.publicKey.toDict() },
    steps: [
      step(
        'code',
        [],
        [
          ['CREATE', 'src/main.c'],
          ['DISALLOW', '*'],
        ],
        developer.keyid,
      ),
      step(
        'build',
        [
          ['MATCH', 'src/main.c', 'WITH', 'PRODUCTS', 'FROM', 'code'],
          ['DISALLOW', '*'],
        ],
        [
          ['CREATE', 'app'],
          ['DISALLOW', '*'],
        ],
        builder.keyid,
      ),
      step(
        'package',
        [
          ['MATCH', 'app', 'WITH', 'PRODUCTS', 'FROM', 'build'],
          ['DISALLOW', '*'],
        ],
        [
          ['CREATE', 'app.tar.gz'],
          ['DISALLOW', '*'],
        ],
        builder.keyid,
      ),
    ],
    inspect: [],
  };
  const layoutFile = join(dir, 'root.layout');
  writeFileSync(layoutFile, serializeMetablock(signMetablock(layout, [owner])));
  const ownerKeyFile = join(dir, 'owner.pub');
  writeFileSync(ownerKeyFile, owner.publicKey.keyObject.export({ type: 'spki', format: 'pem' }) as string);

  const source = hex('int main() { return 0; }');
  const code = linkFile(link('code', {}, { 'src/main.c': source }), [developer]);
  const app = hex('app binary');
  const honestProduct = hex('app.tar.gz');
  const honest = [
    code,
    linkFile(link('build', { 'src/main.c': source }, { app }), [builder]),
    linkFile(link('package', { app }, { 'app.tar.gz': honestProduct }), [builder]),
  ];
  const evilApp = hex('app binary with a backdoor');
  const tamperedProduct = hex('app.tar.gz with a backdoor');
  const tampered = [
    code,
    linkFile(link('build', { 'src/main.c': source, 'evil.patch': hex('backdoor') }, { app: evilApp }), [builder]),
    linkFile(link('package', { app: evilApp }, { 'app.tar.gz': tamperedProduct }), [builder]),
  ];
  return {
    layoutFile,
    ownerKeyFile,
    honest,
    tampered,
    honestProduct: `sha256:${honestProduct}`,
    tamperedProduct: `sha256:${tamperedProduct}`,
  };
}
