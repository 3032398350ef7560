/** An honest three-step chain (code → build → package) the conformance tests start from and then tamper with. */
import type { PrivateKey } from '../../../src/crypto/keys.js';
import type { Inspection, Layout, Link, Metablock } from '../../../src/intoto/models/types.js';
import { artifacts, layout, link, linkName, put, sign, step, testKey } from './fixtures.js';

export const owner = (): PrivateKey => testKey(0);
export const alice = (): PrivateKey => testKey(1);
export const bob = (): PrivateKey => testKey(2);
export const carol = (): PrivateKey => testKey(3);
export const mallory = (): PrivateKey => testKey(4);

export const SOURCES = { 'src/main.c': 'int main(void) { return 0; }\n', 'src/util.h': '#define UTIL 1\n' };
export const BINARY = { hello: 'ELF binary' };
export const TARBALL = { 'hello.tar.gz': 'gzip of hello' };

export function chainLayout(options: { inspect?: Inspection[]; expires?: string } = {}): Layout {
  return layout(
    [
      step({ name: 'code', keys: [alice()], products: ['CREATE src/*', 'DISALLOW *'], command: ['git', 'clone'] }),
      step({
        name: 'build',
        keys: [bob()],
        materials: ['MATCH src/* WITH PRODUCTS FROM code', 'DISALLOW *'],
        products: ['CREATE hello', 'DISALLOW *'],
        command: ['cc', '-o', 'hello', 'src/main.c'],
      }),
      step({
        name: 'package',
        keys: [carol()],
        materials: ['MATCH hello WITH PRODUCTS FROM build', 'DISALLOW *'],
        products: ['CREATE hello.tar.gz', 'DISALLOW *'],
        command: ['tar', 'czf', 'hello.tar.gz', 'hello'],
      }),
    ],
    [alice(), bob(), carol()],
    options,
  );
}

export function chainLinks(): Record<string, Link> {
  return {
    code: link('code', { products: artifacts(SOURCES), command: ['git', 'clone'] }),
    build: link('build', { materials: artifacts(SOURCES), products: artifacts(BINARY), command: ['cc', '-o', 'hello', 'src/main.c'] }),
    package: link('package', {
      materials: artifacts(BINARY),
      products: artifacts(TARBALL),
      command: ['tar', 'czf', 'hello.tar.gz', 'hello'],
    }),
  };
}

export const signers: Record<string, () => PrivateKey> = { code: alice, build: bob, package: carol };

/** Writes the signed layout (`root.layout`) and every link (optionally changed first) into `dir`. */
export async function writeChain(
  dir: string,
  options: { layout?: Layout; change?: (links: Record<string, Link>) => void; layoutKeys?: PrivateKey[] } = {},
): Promise<Metablock<Layout>> {
  const links = chainLinks();
  options.change?.(links);
  for (const [name, l] of Object.entries(links)) await put(dir, linkName(name, signers[name]!()), sign(l, [signers[name]!()]));
  const signed = sign(options.layout ?? chainLayout(), options.layoutKeys ?? [owner()]);
  await put(dir, 'root.layout', signed);
  return signed;
}
