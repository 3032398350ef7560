/** CycloneDX SBOMs of OCI images: generated from an image's package database, read back for scanning. */
export { imageSbom, serializeBom, CYCLONEDX_SPEC_VERSION } from './cyclonedx.js';
export type { CycloneDxBom, CdxComponent, CdxHash, CdxProperty, SbomOptions } from './cyclonedx.js';
export { readCycloneDx } from './read-bom.js';
export type { BomSummary, BomPackage } from './read-bom.js';
export { ociPurl, parsePurl } from './purl.js';
export type { PackageUrl } from './purl.js';
export { uuidV5 } from './uuid.js';
