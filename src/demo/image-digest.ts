import { readImageLayoutFile } from '../oci/layout-reader.js';

/**
 * The digest of the image's OCI manifest in an image-layout tarball, `sha256:HEX`: what a registry and a
 * cluster name the image by (`hello@sha256:HEX`), and what the package step's link records it by
 * (`image build --manifest`). The tarball's blobs are checked against their digests on the way.
 */
export async function imageDigest(tarball: string): Promise<string> {
  return (await readImageLayoutFile(tarball)).manifestDescriptor.digest;
}
