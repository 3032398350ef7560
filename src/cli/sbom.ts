import { resolve } from 'node:path';
import type { Command } from 'commander';
import { sourceDateEpochFrom } from '../oci/build.js';
import { readImageLayoutFile } from '../oci/layout-reader.js';
import { imageSbom, serializeBom } from '../sbom/cyclonedx.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { CliContext } from './context.js';

/** `evident sbom generate IMAGE -o sbom.cdx.json`: the CycloneDX 1.5 SBOM of an OCI image-layout tarball. */
export function registerSbom(program: Command, ctx: CliContext): void {
  const sbom = program.command('sbom').description('software bills of materials (CycloneDX JSON)');
  sbom
    .command('generate')
    .description("write the CycloneDX 1.5 SBOM of an OCI image-layout tarball (from the image's package database and executables)")
    .argument('<image>', 'the OCI image-layout tarball')
    .option('-o, --output <file>', 'where to write the SBOM (default: stdout)')
    .option('--ref <name>', 'which image of the layout')
    .action(
      ctx.action(async (file: string, flags: { output?: string; ref?: string }) => {
        const img = await readImageLayoutFile(resolve(ctx.io.cwd, file), { ref: flags.ref, displayName: file });
        const bom = imageSbom(img, { sourceDateEpoch: sourceDateEpochFrom(ctx.io.env) });
        const text = serializeBom(bom);
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
