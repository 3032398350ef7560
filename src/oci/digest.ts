import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync, constants } from 'node:zlib';
import { EvidentError } from '../errors.js';

/** OCI media types (image-spec v1.1) this module writes and reads. */
export const MEDIA_TYPES = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layerTar: 'application/vnd.oci.image.layer.v1.tar',
  layerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

/** The annotation naming a reference (a tag) on an index.json descriptor of an image layout. */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
/** Full image name on the same descriptor, as containerd and BuildKit write it. */
export const IMAGE_NAME_ANNOTATION = 'io.containerd.image.name';

export interface Descriptor {
  mediaType: string;
  /** `sha256:<64 hex>` */
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string; variant?: string };
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha256Digest(data: Uint8Array | string): string {
  return `sha256:${sha256Hex(data)}`;
}

export function describe(mediaType: string, data: Uint8Array): Descriptor {
  return { mediaType, digest: sha256Digest(data), size: data.length };
}

export function parseDigest(digest: unknown, where: string): { algorithm: 'sha256'; hex: string } {
  if (typeof digest !== 'string') throw new EvidentError('BAD_INPUT', `${where}: digest must be a string`);
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (!m) {
    if (/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(digest)) {
      throw new EvidentError('UNSUPPORTED', `${where}: digest algorithm of '${digest}' is not supported (sha256 only)`);
    }
    throw new EvidentError('BAD_INPUT', `${where}: '${digest}' is not a digest (sha256:<64 lowercase hex>)`);
  }
  return { algorithm: 'sha256', hex: m[1] as string };
}

/**
 * gzip with a fixed header, so equal input gives equal bytes: zlib already writes mtime 0 and no file
 * name; the OS byte (which zlib sets from the build platform) is pinned to 255, "unknown", as Go's
 * archive writers do, and the compression level is fixed.
 */
export function gzipDeterministic(data: Uint8Array): Buffer {
  const out = gzipSync(data, { level: 9, memLevel: 8, windowBits: 15, strategy: constants.Z_DEFAULT_STRATEGY });
  out[4] = 0;
  out[5] = 0;
  out[6] = 0;
  out[7] = 0;
  out[9] = 255;
  return out;
}

export function gunzip(data: Uint8Array, where: string, maxBytes = 1 << 30): Buffer {
  try {
    return gunzipSync(data, { maxOutputLength: maxBytes });
  } catch (e) {
    throw new EvidentError('BAD_INPUT', `${where}: not a valid gzip stream (${(e as Error).message})`);
  }
}
