import { createHash } from 'node:crypto';
import { EvidentError } from '../errors.js';
import type { ReadImage } from '../oci/layout-reader.js';
import { cmp, PACKAGE_DB_PATH, parsePackageDb, type PackageRecord } from '../oci/package-db.js';
import { flattenLayers } from '../oci/rootfs.js';
import { ociPurl } from './purl.js';
import { uuidV5 } from './uuid.js';

export const CYCLONEDX_SPEC_VERSION = '1.5';
const TOOL = { type: 'application', name: 'evident', version: '0.1.0' } as const;

export interface CdxHash {
  alg: 'SHA-256';
  content: string;
}

export interface CdxProperty {
  name: string;
  value: string;
}

export interface CdxComponent {
  type: 'container' | 'library' | 'application' | 'file';
  'bom-ref': string;
  name: string;
  version?: string;
  purl?: string;
  hashes?: CdxHash[];
  properties?: CdxProperty[];
}

export interface CycloneDxBom {
  bomFormat: 'CycloneDX';
  specVersion: typeof CYCLONEDX_SPEC_VERSION;
  serialNumber: string;
  version: 1;
  metadata: { timestamp?: string; tools: { components: (typeof TOOL)[] }; component: CdxComponent };
  components: CdxComponent[];
  dependencies: { ref: string; dependsOn: string[] }[];
}

export interface SbomOptions {
  /** Seconds since the epoch for metadata.timestamp; without it the BOM carries no time (reproducible). */
  sourceDateEpoch?: number;
  /** The image name when the layout carries none. */
  name?: string;
}

/**
 * A CycloneDX 1.5 BOM of an image: metadata.component is the image (its manifest digest as purl version
 * and as SHA-256 hash), components are the packages from the image's package database and the
 * executable files no package owns. A package's hash is the SHA-256 of its file list (`<sha256>  <path>`
 * lines, sorted), so it changes when any of its files does. Deterministic: sorted, and the serialNumber
 * is a name-based UUID of the image purl.
 */
export function imageSbom(image: ReadImage, options: SbomOptions = {}): CycloneDxBom {
  const digest = image.manifestDescriptor.digest;
  const name = image.name ?? options.name ?? 'image';
  const imagePurl = ociPurl(name, digest, image.tag);
  const rootfs = flattenLayers(image.layers.map((l) => l.tar));
  const dbNode = rootfs.get(PACKAGE_DB_PATH.slice(1));
  let packages: PackageRecord[] = [];
  if (dbNode?.type === 'file') packages = parsePackageDb(Buffer.from(dbNode.data ?? new Uint8Array()).toString('utf8')).packages;
  else if (dbNode !== undefined) throw new EvidentError('BAD_INPUT', `sbom: ${PACKAGE_DB_PATH} in the image is not a file`);
  const owned = new Set(packages.flatMap((p) => p.files.map((f) => f.path)));
  const components: CdxComponent[] = packages.map((p) => {
    const listing = [...p.files]
      .sort((a, b) => cmp(a.path, b.path))
      .map((f) => `${f.sha256}  ${f.path}\n`)
      .join('');
    return {
      type: 'library',
      'bom-ref': p.purl,
      name: p.name,
      version: p.version,
      purl: p.purl,
      hashes: [{ alg: 'SHA-256', content: createHash('sha256').update(listing).digest('hex') }],
      properties: p.files
        .map((f) => ({ name: 'evident:file', value: `${f.path} sha256:${f.sha256}` }))
        .sort((a, b) => cmp(a.value, b.value)),
    };
  });
  for (const [path, node] of rootfs) {
    if (node.type !== 'file' || (node.mode & 0o111) === 0 || owned.has(`/${path}`)) continue;
    components.push({
      type: 'file',
      'bom-ref': `file:/${path}`,
      name: `/${path}`,
      hashes: [
        {
          alg: 'SHA-256',
          content: createHash('sha256')
            .update(node.data ?? new Uint8Array())
            .digest('hex'),
        },
      ],
    });
  }
  components.sort(
    (a, b) => cmp(a.type, b.type) || cmp(a.name, b.name) || cmp(a.version ?? '', b.version ?? '') || cmp(a['bom-ref'], b['bom-ref']),
  );
  const refs = new Set<string>();
  for (const c of components) {
    if (refs.has(c['bom-ref'])) throw new EvidentError('BAD_INPUT', `sbom: two components of the image are both '${c['bom-ref']}'`);
    refs.add(c['bom-ref']);
  }
  const imageComponent: CdxComponent = {
    type: 'container',
    'bom-ref': imagePurl,
    name,
    version: digest,
    purl: imagePurl,
    hashes: [{ alg: 'SHA-256', content: digest.slice('sha256:'.length) }],
  };
  return {
    bomFormat: 'CycloneDX',
    specVersion: CYCLONEDX_SPEC_VERSION,
    serialNumber: `urn:uuid:${uuidV5(imagePurl)}`,
    version: 1,
    metadata: {
      ...(options.sourceDateEpoch !== undefined
        ? { timestamp: new Date(options.sourceDateEpoch * 1000).toISOString().replace(/\.000Z$/, 'Z') }
        : {}),
      tools: { components: [TOOL] },
      component: imageComponent,
    },
    components,
    dependencies: [{ ref: imagePurl, dependsOn: components.map((c) => c['bom-ref']) }],
  };
}

export function serializeBom(bom: CycloneDxBom): string {
  return `${JSON.stringify(bom, null, 2)}\n`;
}
