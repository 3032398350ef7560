/**
 * OCI image layouts built in code, byte for byte reproducible (no Docker engine): deterministic tar and
 * gzip, manifests and indexes, the package database an SBOM is read from, and unpacking an image's layers
 * into a folder without writing outside it.
 */
export { writeTar, readTar } from './tar.js';
export type { TarEntry, TarEntryType } from './tar.js';
export {
  MEDIA_TYPES,
  REF_NAME_ANNOTATION,
  IMAGE_NAME_ANNOTATION,
  sha256Digest,
  sha256Hex,
  describe,
  parseDigest,
  gzipDeterministic,
  gunzip,
} from './digest.js';
export type { Descriptor } from './digest.js';
export { loadImageSpec, parseImageSpec, isImagePath } from './image-spec.js';
export type { ImageSpec, ImageFileSpec, ImagePackageSpec } from './image-spec.js';
export { PACKAGE_DB_PATH, PACKAGE_DB_SCHEMA, serializePackageDb, parsePackageDb } from './package-db.js';
export type { PackageDb, PackageRecord, PackageFile } from './package-db.js';
export { assembleImageLayout } from './layout-writer.js';
export type { ImageConfig, ImageManifest, ImageIndex, AssembleInput, AssembledImage } from './layout-writer.js';
export { buildImage, layerTar, sourceDateEpochFrom } from './build.js';
export type { BuildOptions } from './build.js';
export { readImageLayout, readImageLayoutFile } from './layout-reader.js';
export type { ReadImage, ImageLayer } from './layout-reader.js';
export { classifyLayerPath, layerPathParts, WHITEOUT_PREFIX, OPAQUE_WHITEOUT } from './layer-paths.js';
export type { LayerChange } from './layer-paths.js';
export { flattenLayers } from './rootfs.js';
export type { RootfsNode } from './rootfs.js';
export { unpackLayers, resolveInRoot } from './unpack.js';
export type { UnpackStats } from './unpack.js';
export { summarizeImage } from './inspect.js';
export type { ImageSummary } from './inspect.js';
