import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assembleImageLayout } from '../../src/oci/layout-writer.js';
import { writeTar, type TarEntry } from '../../src/oci/tar.js';

export const IMAGE_YAML = `name: hello-world
tag: "1.0"
entrypoint: [/usr/local/bin/hello]
env: {PATH: /usr/local/bin:/usr/bin}
files:
  - {src: hello, dest: /usr/local/bin/hello, mode: 0755}
packages:
  - name: zlib
    version: 1.3.1
    purl: pkg:generic/zlib@1.3.1
    files:
      - {src: lib/libz.so.1, dest: /usr/lib/libz.so.1}
`;

/** A build folder with image.yaml, a `hello` binary and a library file; removed after the test. */
export async function imageProject(t: { after: (fn: () => Promise<void>) => void }, yaml = IMAGE_YAML): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'evident-image-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'image.yaml'), yaml);
  await writeFile(join(dir, 'hello'), Buffer.from('\x7fELF hello world binary stand-in\n'));
  await mkdir(join(dir, 'lib'));
  await writeFile(join(dir, 'lib', 'libz.so.1'), 'zlib 1.3.1 stand-in\n');
  return dir;
}

export function file(path: string, content: string, mode = 0o644): TarEntry {
  return { path, type: 'file', mode, mtime: 0, data: Buffer.from(content) };
}

export function dir(path: string): TarEntry {
  return { path, type: 'directory', mode: 0o755, mtime: 0 };
}

export function link(path: string, target: string): TarEntry {
  return { path, type: 'symlink', mode: 0o777, mtime: 0, linkname: target };
}

/** An image layout whose layers are exactly the given entries (no sorting, no parents added). */
export function layoutOf(...layers: TarEntry[][]): Buffer {
  return assembleImageLayout({
    layers: layers.map((l) => writeTar(l)),
    config: { architecture: 'amd64', os: 'linux', config: {} },
    name: 'test',
    tag: 'latest',
  }).tarball;
}
