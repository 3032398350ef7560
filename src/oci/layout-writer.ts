import {
  IMAGE_NAME_ANNOTATION,
  MEDIA_TYPES,
  REF_NAME_ANNOTATION,
  describe,
  sha256Digest,
  gzipDeterministic,
  type Descriptor,
} from './digest.js';
import { writeTar, type TarEntry } from './tar.js';

/** The image configuration (OCI image-spec config.md), the fields evident writes. */
export interface ImageConfig {
  created?: string;
  architecture: string;
  os: string;
  config: { Env?: string[]; Entrypoint?: string[]; Cmd?: string[]; WorkingDir?: string; Labels?: Record<string, string> };
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }[];
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export interface AssembleInput {
  /** Uncompressed layer tarballs, lowest first. */
  layers: Uint8Array[];
  config: Omit<ImageConfig, 'rootfs'>;
  /** The full image name (`hello-world`) and tag (`1.0`). */
  name: string;
  tag: string;
  /** Seconds since the epoch for every entry of the outer tarball. */
  mtime?: number;
}

export interface AssembledImage {
  /** The OCI image layout as one tarball. */
  tarball: Buffer;
  manifestDescriptor: Descriptor;
  /** The manifest blob's exact bytes: their sha256 is the digest a registry and a cluster name the image by. */
  manifestBytes: Buffer;
  manifest: ImageManifest;
  config: ImageConfig;
}

/** JSON as written into blobs: stable key order is the caller's; no trailing newline, as registries store it. */
function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/**
 * Writes an OCI image layout (image-spec image-layout.md) as a tarball: `oci-layout`, `index.json` and
 * `blobs/sha256/<hex>` for each gzip layer, the config and the manifest. Entries are sorted and carry
 * fixed owners and times, so equal input gives a byte-identical tarball.
 */
export function assembleImageLayout(input: AssembleInput): AssembledImage {
  const blobs = new Map<string, Buffer>();
  const layerDescriptors: Descriptor[] = [];
  const diffIds: string[] = [];
  for (const layer of input.layers) {
    const gz = gzipDeterministic(layer);
    diffIds.push(sha256Digest(layer));
    const d = describe(MEDIA_TYPES.layerGzip, gz);
    layerDescriptors.push(d);
    blobs.set(d.digest, gz);
  }
  const config: ImageConfig = { ...input.config, rootfs: { type: 'layers', diff_ids: diffIds } };
  const configBytes = jsonBytes(config);
  const configDescriptor = describe(MEDIA_TYPES.config, configBytes);
  blobs.set(configDescriptor.digest, configBytes);
  const manifest: ImageManifest = { schemaVersion: 2, mediaType: MEDIA_TYPES.manifest, config: configDescriptor, layers: layerDescriptors };
  const manifestBytes = jsonBytes(manifest);
  const manifestDescriptor: Descriptor = {
    ...describe(MEDIA_TYPES.manifest, manifestBytes),
    annotations: { [IMAGE_NAME_ANNOTATION]: `${input.name}:${input.tag}`, [REF_NAME_ANNOTATION]: input.tag },
    platform: { architecture: input.config.architecture, os: input.config.os },
  };
  blobs.set(manifestDescriptor.digest, manifestBytes);
  const index: ImageIndex = { schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests: [manifestDescriptor] };
  const mtime = input.mtime ?? 0;
  const entries: TarEntry[] = [
    { path: 'blobs/', type: 'directory', mode: 0o755, mtime },
    { path: 'blobs/sha256/', type: 'directory', mode: 0o755, mtime },
    ...[...blobs.keys()]
      .sort()
      .map((digest): TarEntry => ({ path: `blobs/sha256/${digest.slice(7)}`, type: 'file', mode: 0o644, mtime, data: blobs.get(digest) })),
    { path: 'index.json', type: 'file', mode: 0o644, mtime, data: jsonBytes(index) },
    { path: 'oci-layout', type: 'file', mode: 0o644, mtime, data: jsonBytes({ imageLayoutVersion: '1.0.0' }) },
  ];
  return { tarball: writeTar(entries), manifestDescriptor, manifestBytes, manifest, config };
}
