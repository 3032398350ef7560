import { resolve } from 'node:path';
import { EvidentError } from '../errors.js';
import type { Command } from 'commander';
import { sourceDateEpochFrom } from '../oci/build.js';
import { readImageLayoutFile } from '../oci/layout-reader.js';
import { imageSbom, serializeBom } from '../sbom/cyclonedx.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { CYCLONEDX_PREDICATE_TYPE, cyclonedxStatement } from '../attestation/cyclonedx.js';
import { addAttestOptions, attestationSigner, signedAttestationText, type AttestFlags } from './attest-options.js';
import type { CliContext } from './context.js';
import { artifactDigest } from './store-options.js';

/** `evident sbom generate IMAGE -o sbom.cdx.json`: the CycloneDX 1.5 SBOM of an OCI image-layout tarball. */
export function registerSbom(program: Command, ctx: CliContext): void {
  const sbom = program.command('sbom').description('software bills of materials (CycloneDX JSON)');
  const generate = sbom
    .command('generate')
    .description("write the CycloneDX 1.5 SBOM of an OCI image-layout tarball (from the image's package database and executables)")
    .argument('<image>', 'the OCI image-layout tarball')
    .option('-o, --output <file>', 'where to write the SBOM (default: stdout)')
    .option('--ref <name>', 'which image of the layout')
    .option(
      '--attest',
      `write the SBOM as an in-toto Statement (${CYCLONEDX_PREDICATE_TYPE}) about the image tarball and its manifest digest, in a DSSE envelope signed with -k or --spiffe-socket`,
    );
  addAttestOptions(generate).action(
    ctx.action(async (file: string, flags: AttestFlags & { output?: string; ref?: string; attest?: boolean }) => {
      if (!flags.attest && [flags.key, flags.spiffeSocket, flags.timestampServer].some((f) => f !== undefined))
        throw new EvidentError('BAD_USAGE', 'sbom generate: -k, --spiffe-socket and --timestamp-server are for --attest');
      const signer = flags.attest ? await attestationSigner(flags, ctx) : undefined;
      const img = await readImageLayoutFile(resolve(ctx.io.cwd, file), { ref: flags.ref, displayName: file });
      const bom = imageSbom(img, { sourceDateEpoch: sourceDateEpochFrom(ctx.io.env) });
      let text = serializeBom(bom);
      if (signer !== undefined) {
        // the tarball as the file it is, and the image by its manifest digest (what a registry knows it by)
        const tarball = (await artifactDigest(file, ctx, 'image')).slice('sha256:'.length);
        const image = bom.metadata.component;
        const manifest = image.hashes?.find((h) => h.alg === 'SHA-256')?.content;
        const subject = [
          { name: file, digest: { sha256: tarball } },
          ...(manifest !== undefined ? [{ name: image.purl ?? image.name, digest: { sha256: manifest } }] : []),
        ];
        text = await signedAttestationText(cyclonedxStatement(bom, subject), signer, flags, ctx);
      }
      if (flags.output === undefined) {
        ctx.io.stdout.write(text);
        return 0;
      }
      await writeFileAtomic(resolve(ctx.io.cwd, flags.output), text);
      ctx.err(
        `${flags.output}: SBOM of ${bom.metadata.component.name} ${bom.metadata.component.version ?? ''}: ${bom.components.length} components`,
      );
      return 0;
    }),
  );
}
