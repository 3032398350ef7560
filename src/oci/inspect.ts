import type { ReadImage } from './layout-reader.js';

/** What `evident image inspect` shows: the manifest digest, the config and the layers. */
export interface ImageSummary {
  name?: string;
  tag?: string;
  manifestDigest: string;
  mediaType: string;
  config: ReadImage['config'] & { digest: string };
  layers: { digest: string; size: number; mediaType: string; diffId: string }[];
}

export function summarizeImage(image: ReadImage): ImageSummary {
  return {
    ...(image.name !== undefined ? { name: image.name } : {}),
    ...(image.tag !== undefined ? { tag: image.tag } : {}),
    manifestDigest: image.manifestDescriptor.digest,
    mediaType: image.manifestDescriptor.mediaType,
    config: { digest: image.manifest.config.digest, ...image.config },
    layers: image.layers.map((l, i) => ({
      digest: l.descriptor.digest,
      size: l.descriptor.size,
      mediaType: l.descriptor.mediaType,
      diffId: image.config.rootfs.diff_ids[i] as string,
    })),
  };
}
