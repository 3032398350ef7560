import { resolve } from 'node:path';
import type { Command } from 'commander';
import { EvidentError } from '../errors.js';
import { buildImage, sourceDateEpochFrom } from '../oci/build.js';
import { summarizeImage } from '../oci/inspect.js';
import { readImageLayout, readImageLayoutFile } from '../oci/layout-reader.js';
import { unpackLayers } from '../oci/unpack.js';
import { imageSbom, serializeBom } from '../sbom/cyclonedx.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { type CliContext } from './context.js';

interface BuildFlags {
  config: string;
  output: string;
  sbom?: string;
  manifest?: string;
  json?: boolean;
}

interface UnpackFlags {
  output: string;
  ref?: string;
  json?: boolean;
}

/**
 * `evident image build|unpack|inspect`: OCI image-layout tarballs without a container engine.
 * build: reproducible (SOURCE_DATE_EPOCH or time 0); unpack: digests checked (a changed blob exits 1),
 * paths confined to the output folder; inspect: the manifest digest, config and layers.
 */
export function registerImage(program: Command, ctx: CliContext): void {
  const image = program.command('image').description('build, unpack and inspect OCI image-layout tarballs (no container engine needed)');
  image
    .command('build')
    .description('build a reproducible OCI image-layout tarball from an image spec (image.yaml)')
    .requiredOption('-c, --config <file>', 'the image spec: name, tag, files, packages, entrypoint, env (paths relative to it)')
    .requiredOption('-o, --output <file>', 'the OCI image-layout tarball to write')
    .option('--sbom <file>', 'also write the CycloneDX 1.5 SBOM of the image')
    .option(
      '--manifest <file>',
      "also write the image manifest's exact bytes: recorded as a product, its sha256 is the digest a registry and a cluster name the image by",
    )
    .option('--json', 'print the result as JSON')
    .action(
      ctx.action(async (flags: BuildFlags) => {
        const sourceDateEpoch = sourceDateEpochFrom(ctx.io.env);
        // the YAML reader is loaded here, not by `--help`
        const { loadImageSpec } = await import('../oci/image-spec.js');
        const spec = await loadImageSpec(resolve(ctx.io.cwd, flags.config), flags.config);
        const built = await buildImage(spec, { sourceDateEpoch });
        // the manifest first: a folder it cannot be written to leaves no image behind
        if (flags.manifest !== undefined) await writeFileAtomic(resolve(ctx.io.cwd, flags.manifest), built.manifestBytes);
        await writeFileAtomic(resolve(ctx.io.cwd, flags.output), built.tarball);
        if (flags.sbom !== undefined) {
          const bom = imageSbom(readImageLayout(built.tarball), { sourceDateEpoch });
          await writeFileAtomic(resolve(ctx.io.cwd, flags.sbom), serializeBom(bom));
        }
        const digest = built.manifestDescriptor.digest;
        if (flags.json)
          ctx.out(
            JSON.stringify({
              image: `${spec.name}:${spec.tag}`,
              output: flags.output,
              manifestDigest: digest,
              size: built.tarball.length,
              ...(flags.sbom !== undefined ? { sbom: flags.sbom } : {}),
              ...(flags.manifest !== undefined ? { manifest: flags.manifest } : {}),
            }),
          );
        else {
          const also = [
            ...(flags.sbom !== undefined ? [`SBOM: ${flags.sbom}`] : []),
            ...(flags.manifest !== undefined ? [`manifest: ${flags.manifest}`] : []),
          ];
          ctx.out(`${flags.output}: ${spec.name}:${spec.tag} ${digest}${also.length > 0 ? ` (${also.join('; ')})` : ''}`);
        }
        return 0;
      }),
    );
  image
    .command('unpack')
    .description("check an OCI image-layout tarball's digests and write its root filesystem into a folder")
    .argument('<image>', 'the OCI image-layout tarball')
    .requiredOption('-o, --output <dir>', 'the folder to write the root filesystem into')
    .option('--ref <name>', 'which image of the layout (its ref name, name:tag or manifest digest)')
    .option('--json', 'print the result as JSON')
    .action(
      ctx.action(async (file: string, flags: UnpackFlags) => {
        const img = await readImageLayoutFile(resolve(ctx.io.cwd, file), { ref: flags.ref, displayName: file });
        let stats;
        try {
          stats = await unpackLayers(
            img.layers.map((l) => l.tar),
            resolve(ctx.io.cwd, flags.output),
          );
        } catch (e) {
          throw e instanceof EvidentError ? e.inFile(file) : e;
        }
        for (const s of stats.skipped) ctx.warn(`${file}: skipped special file ${s}`);
        if (flags.json)
          ctx.out(JSON.stringify({ image: file, manifestDigest: img.manifestDescriptor.digest, output: flags.output, ...stats }));
        else
          ctx.out(
            `${file}: ${img.manifestDescriptor.digest} unpacked into ${flags.output} (${stats.files} files, ${stats.directories} directories, ${img.layers.length} layer${img.layers.length === 1 ? '' : 's'})`,
          );
        return 0;
      }),
    );
  image
    .command('inspect')
    .description('print the manifest digest, config and layers of an OCI image-layout tarball (digests checked)')
    .argument('<image>', 'the OCI image-layout tarball')
    .option('--ref <name>', 'which image of the layout')
    .option('--json', 'print as JSON')
    .action(
      ctx.action(async (file: string, flags: { ref?: string; json?: boolean }) => {
        const s = summarizeImage(await readImageLayoutFile(resolve(ctx.io.cwd, file), { ref: flags.ref, displayName: file }));
        if (flags.json) {
          ctx.out(JSON.stringify(s, null, 2));
          return 0;
        }
        ctx.out(`image:    ${s.name !== undefined ? `${s.name}:${s.tag ?? ''}` : '(unnamed)'}`);
        ctx.out(`manifest: ${s.manifestDigest}`);
        ctx.out(`config:   ${s.config.digest} (${s.config.os}/${s.config.architecture})`);
        if (s.config.config.Entrypoint) ctx.out(`entrypoint: ${JSON.stringify(s.config.config.Entrypoint)}`);
        for (const e of s.config.config.Env ?? []) ctx.out(`env:      ${e}`);
        for (const [i, l] of s.layers.entries()) ctx.out(`layer ${i}:  ${l.digest} ${l.size} bytes (${l.mediaType}; diff_id ${l.diffId})`);
        return 0;
      }),
    );
}
