import { readFile } from 'node:fs/promises';
import { EvidentError } from '../errors.js';
import { IMAGE_NAME_ANNOTATION, MEDIA_TYPES, REF_NAME_ANNOTATION, gunzip, parseDigest, sha256Digest, type Descriptor } from './digest.js';
import type { ImageConfig, ImageIndex, ImageManifest } from './layout-writer.js';
import { readTar } from './tar.js';

export interface ImageLayer {
  descriptor: Descriptor;
  /** The layer's uncompressed tarball (its digest checked against the config's diff_id). */
  tar: Buffer;
}

export interface ReadImage {
  index: ImageIndex;
  manifestDescriptor: Descriptor;
  manifest: ImageManifest;
  config: ImageConfig;
  layers: ImageLayer[];
  /** The image name from the index annotations, when there is one. */
  name?: string;
  tag?: string;
}

export async function readImageLayoutFile(file: string, options: { ref?: string; displayName?: string } = {}): Promise<ReadImage> {
  const bytes = await readFile(file);
  try {
    return readImageLayout(bytes, options.ref);
  } catch (e) {
    if (e instanceof EvidentError) throw e.inFile(options.displayName ?? file);
    throw e;
  }
}

/**
 * Reads an OCI image-layout tarball and checks it: every blob it uses must exist with the size and
 * sha256 its descriptor names (a swapped or edited blob is a DIGEST_MISMATCH, verification failed), the
 * config's diff_ids must match the uncompressed layers, and the media types must be the OCI ones.
 */
export function readImageLayout(tarball: Uint8Array, ref?: string): ReadImage {
  const files = new Map<string, Buffer>();
  for (const e of readTar(tarball, 'image layout')) {
    const path = e.path.replace(/^\.\//, '');
    if (e.type !== 'file') continue;
    if (files.has(path)) throw new EvidentError('BAD_INPUT', `image layout: ${path} appears twice in the tarball`);
    files.set(path, Buffer.from(e.data ?? new Uint8Array()));
  }
  const layoutFile = files.get('oci-layout');
  if (!layoutFile) throw new EvidentError('BAD_INPUT', 'image layout: no oci-layout file (not an OCI image layout)');
  const layoutVersion = (jsonOf(layoutFile, 'oci-layout') as { imageLayoutVersion?: unknown }).imageLayoutVersion;
  if (layoutVersion !== '1.0.0')
    throw new EvidentError('UNSUPPORTED', `image layout: imageLayoutVersion '${String(layoutVersion)}' is not supported (1.0.0)`);
  const indexFile = files.get('index.json');
  if (!indexFile) throw new EvidentError('BAD_INPUT', 'image layout: no index.json');
  const index = jsonOf(indexFile, 'index.json') as ImageIndex;
  if (index.schemaVersion !== 2 || !Array.isArray(index.manifests))
    throw new EvidentError('BAD_INPUT', 'index.json: schemaVersion 2 and a manifests list are required');
  const chosen = pickManifest(index.manifests, ref);
  const blob = (d: Descriptor, where: string): Buffer => {
    const { hex } = parseDigest(d?.digest, where);
    const data = files.get(`blobs/sha256/${hex}`);
    if (!data) throw new EvidentError('BAD_INPUT', `${where}: blob ${d.digest} is missing from the layout`);
    const actual = sha256Digest(data);
    if (actual !== d.digest)
      throw new EvidentError('DIGEST_MISMATCH', `${where}: blob ${d.digest} has digest ${actual}: its content was changed or swapped`);
    if (data.length !== d.size)
      throw new EvidentError(
        'DIGEST_MISMATCH',
        `${where}: blob ${d.digest} is ${data.length} bytes, its descriptor says ${String(d.size)}`,
      );
    return data;
  };
  if (chosen.mediaType !== MEDIA_TYPES.manifest)
    throw new EvidentError(
      'UNSUPPORTED',
      `index.json: manifest media type '${String(chosen.mediaType)}' is not supported (${MEDIA_TYPES.manifest})`,
    );
  const manifest = jsonOf(blob(chosen, 'manifest'), 'manifest') as ImageManifest;
  if (manifest.schemaVersion !== 2 || typeof manifest.config !== 'object' || manifest.config === null || !Array.isArray(manifest.layers)) {
    throw new EvidentError('BAD_INPUT', 'manifest: schemaVersion 2, config and layers are required');
  }
  if (manifest.mediaType !== undefined && manifest.mediaType !== MEDIA_TYPES.manifest)
    throw new EvidentError('BAD_INPUT', `manifest: mediaType '${manifest.mediaType}' does not match its descriptor`);
  if (manifest.config.mediaType !== MEDIA_TYPES.config)
    throw new EvidentError('UNSUPPORTED', `manifest: config media type '${String(manifest.config.mediaType)}' is not an OCI image config`);
  const config = jsonOf(blob(manifest.config, 'config'), 'config') as ImageConfig;
  const diffIds = config?.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== manifest.layers.length) {
    throw new EvidentError('BAD_INPUT', `config: rootfs.diff_ids must list one digest per layer (${manifest.layers.length})`);
  }
  const layers = manifest.layers.map((d, i): ImageLayer => {
    const where = `layer ${i}`;
    const data = blob(d, where);
    let tar: Buffer;
    if (d.mediaType === MEDIA_TYPES.layerGzip || d.mediaType === 'application/vnd.docker.image.rootfs.diff.tar.gzip')
      tar = gunzip(data, where);
    else if (d.mediaType === MEDIA_TYPES.layerTar) tar = data;
    else throw new EvidentError('UNSUPPORTED', `${where}: media type '${String(d.mediaType)}' is not supported (tar or tar+gzip)`);
    const diffId = sha256Digest(tar);
    if (diffId !== diffIds[i])
      throw new EvidentError(
        'DIGEST_MISMATCH',
        `${where}: uncompressed digest ${diffId} does not match the config's diff_id ${String(diffIds[i])}`,
      );
    return { descriptor: d, tar };
  });
  const fullName = chosen.annotations?.[IMAGE_NAME_ANNOTATION];
  const tag = chosen.annotations?.[REF_NAME_ANNOTATION];
  const name = fullName !== undefined ? fullName.replace(/:[^:/]+$/, '') : undefined;
  return {
    index,
    manifestDescriptor: chosen,
    manifest,
    config,
    layers,
    ...(name !== undefined ? { name } : {}),
    ...(tag !== undefined ? { tag } : {}),
  };
}

function pickManifest(manifests: Descriptor[], ref: string | undefined): Descriptor {
  if (manifests.length === 0) throw new EvidentError('BAD_INPUT', 'index.json: no manifests');
  if (ref === undefined) {
    if (manifests.length > 1)
      throw new EvidentError(
        'BAD_USAGE',
        `index.json lists ${manifests.length} manifests; choose one with --ref (${manifests.map(refOf).join(', ')})`,
      );
    return manifests[0] as Descriptor;
  }
  const found = manifests.filter(
    (m) => m.annotations?.[REF_NAME_ANNOTATION] === ref || m.annotations?.[IMAGE_NAME_ANNOTATION] === ref || m.digest === ref,
  );
  if (found.length !== 1)
    throw new EvidentError(
      'NOT_FOUND',
      `index.json: ${found.length === 0 ? 'no' : 'more than one'} manifest named '${ref}' (${manifests.map(refOf).join(', ')})`,
    );
  return found[0] as Descriptor;
}

function refOf(d: Descriptor): string {
  return d.annotations?.[IMAGE_NAME_ANNOTATION] ?? d.annotations?.[REF_NAME_ANNOTATION] ?? d.digest;
}

function jsonOf(data: Buffer, where: string): unknown {
  try {
    return JSON.parse(data.toString('utf8'));
  } catch (e) {
    throw new EvidentError('BAD_INPUT', `${where}: malformed JSON: ${(e as Error).message}`);
  }
}
