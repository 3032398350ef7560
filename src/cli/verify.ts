import { Option, type Command } from 'commander';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { PublicKey } from '../crypto/keys.js';
import { EvidentError } from '../errors.js';
// the verifier (and the X.509 library under it) is loaded by the action, not by `--help`
import type { formatReport as FormatReport, VerificationReport } from '../intoto/verify/index.js';
import type { Layout } from '../intoto/models/types.js';
import type { StoreDigest } from '../store/digest.js';
import type { LinkJudgeOptions } from '../store/link-judge.js';
import { asGiven, type CliContext } from './context.js';
import { checkGpgHome, GPG_HOME_HELP, gpgKeyids, gpgPublicKeys, type GpgFlags } from './gpg-options.js';
import { readIntermediateCerts } from './intermediate-certs.js';
import { keyTypesOption, noteKeyTypes } from './key-types-note.js';
import { stageReporter } from './progress.js';
import { addStoreOptions, artifactDigest, storeClient, storeUrlOf, type StoreFlags } from './store-options.js';
import { addVsaOptions, vsaSigner, writeVsa, type VsaFlags } from './verify-vsa.js';

interface VerifyFlags extends StoreFlags, Omit<VsaFlags, 'layout'>, GpgFlags {
  layout: string;
  layoutKeys?: string[];
  intermediateCerts?: string[];
  linkDir?: string;
  json?: boolean;
  maxLinkSize?: string;
  verifyTime?: string;
  layoutTime?: string;
  inspectionTimeout?: string;
  keyTypes?: string[];
  verbose?: boolean;
  quiet?: boolean;
  product?: string;
  maxStoreLinks?: string;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/**
 * `evident verify -l LAYOUT -k KEY… [--link-dir DIR] [--json]`, as `in-toto-verify`: exit 0 when the
 * supply chain followed its layout, 1 when it did not (the report says which step, rule and file), 2
 * for unusable input. The report goes to stdout, one line per check, or as JSON with --json.
 */
export function registerVerify(program: Command, ctx: CliContext): void {
  const command = program
    .command('verify')
    .description('verify that a product followed its signed layout (in-toto final product verification)')
    .requiredOption('-l, --layout <file>', 'the signed root layout')
    .option(
      '-k, --layout-keys <files...>',
      "the layout owners' public keys (PEM, securesystemslib JSON, or OpenPGP as gpg --export writes it); each must have signed",
    )
    .option(
      '-g, --gpg <keyids...>',
      "layout owners' OpenPGP keys from the gpg keyring, by keyid, as in-toto-verify --gpg; each must have signed",
    )
    .option('--gpg-home <dir>', GPG_HOME_HELP)
    .option('--link-dir <dir>', 'the folder of link files and sublayout folders (default: the current folder)')
    .option(
      '-i, --intermediate-certs <files...>',
      "more intermediate CA certificates (PEM) to chain signers' certificates to the layout's rootcas with (in-toto-golang's verify -i)",
    )
    .option('--json', 'print the report as JSON')
    .option('--max-link-size <bytes>', 'refuse link files larger than this (default 268435456, 256 MiB)')
    .option(
      '--verify-time <rfc3339>',
      "check signers' certificates at this time instead of now when no trusted timestamp dates them, e.g. 2026-01-31T12:00:00Z (not the layout's expiry; timestamps made after it do not count)",
    )
    .option('--layout-time <rfc3339>', "check the layout's expiry at this time instead of now (default: now, or a later --verify-time)")
    .option('--inspection-timeout <seconds>', 'time limit for each inspection command (default 10)')
    .addOption(keyTypesOption('--key-types'))
    .addOption(new Option('-v, --verbose', 'say each stage on stderr as it begins').conflicts('quiet'))
    .option('-q, --quiet', 'print only the failed checks (nothing when verification passes)')
    .option(
      '--product <sha256:hex|file>',
      'with --store: the product to verify, by digest or as a file to hash; its links are found in the store. With --vsa: the subject of the VSA',
    )
    .option('--max-store-links <n>', 'with --store: fetch at most this many links (default 1000)');
  addVsaOptions(addStoreOptions(command, { spiffeSocket: true, purpose: 'fetch the links from, instead of --link-dir' })).action(
    ctx.action(async (flags: VerifyFlags) => {
      const [{ loadPublicKey }, { loadLayoutDocument }, { formatReport, reportToJson, verify }] = await Promise.all([
        import('../crypto/key-files.js'),
        import('../intoto/models/layout-file.js'),
        import('../intoto/verify/index.js'),
      ]);
      const cwd = ctx.io.cwd;
      noteKeyTypes(ctx, flags.keyTypes, flags.quiet);
      // as in-toto-verify: at least one of --layout-keys and --gpg
      if (flags.layoutKeys === undefined && flags.gpg === undefined)
        throw new EvidentError('BAD_USAGE', "verify: give the layout owners' keys: -k KEY_FILE… and/or --gpg KEYID…");
      checkGpgHome(flags, 'verify');
      const options = parseFlags(flags);
      const vsa = await vsaSigner(flags, ctx);
      // a metablock, or a DSSE envelope of the layout (in-toto-golang, Python in-toto 2.x)
      const layout = await loadLayoutDocument(resolve(cwd, flags.layout), flags.layout);
      const keys: PublicKey[] = [];
      for (const file of flags.layoutKeys ?? []) {
        // named as the user wrote it, not as resolved
        keys.push(await asGiven(loadPublicKey(resolve(cwd, file)), file));
      }
      keys.push(...(await gpgPublicKeys(gpgKeyids(flags), flags, ctx, flags.quiet)));
      const intermediateCerts = flags.intermediateCerts ? await readIntermediateCerts(flags.intermediateCerts, cwd) : undefined;
      const { product, ...links } = await linksFrom(flags, ctx, layout.signed, {
        ...(options.verifyTime !== undefined ? { verifyTime: options.verifyTime } : {}),
        ...(options.maxLinkBytes !== undefined ? { maxLinkBytes: options.maxLinkBytes } : {}),
        ...(intermediateCerts !== undefined ? { intermediateCerts } : {}),
      });
      const progress = flags.verbose
        ? { stage: (text: string) => ctx.err(`evident: verify: ${text}`), clear: () => {} }
        : stageReporter(ctx, 'verify');
      let report;
      try {
        report = await verify({
          layout: layout.document,
          layoutFile: flags.layout,
          layoutKeys: keys,
          ...(intermediateCerts !== undefined ? { intermediateCerts } : {}),
          ...links,
          // a VSA must be about something the chain made (with --store the walk from the product already is)
          ...(product !== undefined && vsa !== undefined ? { product } : {}),
          workDir: cwd,
          ...options,
          ...(progress ? { onProgress: progress.stage } : {}),
        });
      } finally {
        progress?.clear();
      }
      ctx.io.stdout.write(flags.json ? reportToJson(report) : flags.quiet ? quietReport(report, formatReport) : formatReport(report));
      if (vsa !== undefined) {
        await writeVsa({ ...flags, vsa: flags.vsa!, product: flags.product! }, vsa, ctx, {
          ok: report.ok,
          verifiedAt: new Date(report.verifiedAt),
          product: product!,
          links,
        });
      }
      return report.ok ? 0 : 1;
    }),
  );
}

/**
 * Where the links are: the folder (--link-dir, default the current one), or with --store, the links the
 * store holds for --product, found by walking the chain back from it (store/chain.ts) and handed to the
 * verifier under the names they would have in a folder, so the report is the one a folder gives.
 */
async function linksFrom(
  flags: VerifyFlags,
  ctx: CliContext,
  layout: Layout,
  judging: LinkJudgeOptions,
): Promise<({ linkDir: string } | { links: Record<string, Buffer> }) & { product?: StoreDigest }> {
  const url = storeUrlOf(flags, ctx);
  if (url === undefined) {
    // --product without a store names what a --vsa is about
    if ((flags.product !== undefined && flags.vsa === undefined) || flags.maxStoreLinks !== undefined) {
      throw new EvidentError(
        'BAD_USAGE',
        `verify: ${flags.product !== undefined ? '--product' : '--max-store-links'} is for links from a store: it needs --store URL`,
      );
    }
    const linkDir = resolve(ctx.io.cwd, flags.linkDir ?? '.');
    // a mistyped folder would otherwise read as "no links" (exit 1); it is the user's input (exit 2)
    const info = await stat(linkDir).catch(() => undefined);
    if (!info?.isDirectory()) throw new EvidentError('BAD_INPUT', 'no such folder of links', { file: flags.linkDir ?? '.' });
    // what the VSA is about must be something the verified chain made (verify's `product` check)
    if (flags.product !== undefined) return { linkDir, product: await artifactDigest(flags.product, ctx, '--product') };
    return { linkDir };
  }
  if (flags.linkDir !== undefined) throw new EvidentError('BAD_USAGE', 'verify: the links come from --link-dir or from --store, not both');
  if (flags.product === undefined)
    throw new EvidentError('BAD_USAGE', 'verify: with --store, say which product: --product sha256:HEX or --product FILE');
  const maxLinks = flags.maxStoreLinks === undefined ? undefined : Number(flags.maxStoreLinks);
  if (maxLinks !== undefined && (!Number.isSafeInteger(maxLinks) || maxLinks < 1)) {
    throw new EvidentError('BAD_USAGE', `verify: --max-store-links must be a positive number, not '${flags.maxStoreLinks}'`);
  }
  const product = await artifactDigest(flags.product, ctx, '--product');
  const store = await storeClient(flags, ctx, url);
  const { fetchProductEvidence } = await import('../store/verify-product.js');
  const { walk, attestations, files } = await fetchProductEvidence(store, layout, product, {
    ...(maxLinks !== undefined ? { maxLinks } : {}),
    ...judging,
  });
  if (!flags.quiet) {
    const n = walk.links.size;
    ctx.err(`evident: verify: ${n} link${n === 1 ? '' : 's'} for ${product} from ${store.shown}`);
    if (flags.verbose) {
      for (const link of walk.links.values()) {
        const unsound = walk.unsound.get(link.path);
        ctx.err(`evident: verify:   ${link.path} = ${link.digest}${unsound !== undefined ? ` (does not count: ${unsound})` : ''}`);
      }
      for (const s of walk.skipped) ctx.err(`evident: verify:   not used: ${s.digest} ${s.reason}`);
    }
    // the attestations the layout's rules are about, beside the links as a folder would hold them (docs/policy.md)
    if (attestations !== undefined) {
      const n = attestations.attestations.length;
      const cut =
        attestations.unsearched > 0
          ? ` (${attestations.unsearched} artifacts of the steps past the first ${attestations.searches} not searched)`
          : '';
      ctx.err(`evident: verify: ${n} attestation${n === 1 ? '' : 's'} about the chain's artifacts from ${store.shown}${cut}`);
      if (flags.verbose) for (const a of attestations.attestations) ctx.err(`evident: verify:   ${a.path}`);
    }
  }
  const links: Record<string, Buffer> = files;
  return { links, product };
}

/** -q: the failed checks and the verdict, or nothing when it passed (the exit code says so). */
function quietReport(report: VerificationReport, formatReport: typeof FormatReport): string {
  return report.ok ? '' : formatReport({ ...report, checks: report.checks.filter((c) => !c.ok && !c.skipped) });
}

type ParsedFlags = { maxLinkBytes?: number; verifyTime?: Date; layoutTime?: Date; inspectionTimeoutMs?: number };

function parseFlags(flags: VerifyFlags): ParsedFlags {
  const out: ParsedFlags = {};
  if (flags.maxLinkSize !== undefined) {
    const n = Number(flags.maxLinkSize);
    if (!/^\d+$/.test(flags.maxLinkSize) || !Number.isSafeInteger(n) || n < 1) {
      throw new EvidentError('BAD_USAGE', `verify: --max-link-size must be a positive number of bytes, not '${flags.maxLinkSize}'`);
    }
    out.maxLinkBytes = n;
  }
  if (flags.verifyTime !== undefined) out.verifyTime = parseTime(flags.verifyTime, '--verify-time');
  // the layout's expiry has a clock of its own: a back-dated --verify-time must not revive an expired layout
  if (flags.layoutTime !== undefined) out.layoutTime = parseTime(flags.layoutTime, '--layout-time');
  if (flags.inspectionTimeout !== undefined) {
    const s = Number(flags.inspectionTimeout);
    if (!(s > 0) || !Number.isFinite(s)) {
      throw new EvidentError(
        'BAD_USAGE',
        `verify: --inspection-timeout must be a positive number of seconds, not '${flags.inspectionTimeout}'`,
      );
    }
    out.inspectionTimeoutMs = Math.round(s * 1000);
  }
  return out;
}

function parseTime(value: string, flag: string): Date {
  const t = new Date(value.replace(' ', 'T'));
  if (!RFC3339.test(value) || Number.isNaN(t.getTime())) {
    throw new EvidentError('BAD_USAGE', `verify: ${flag} must be an RFC 3339 time like 2026-01-31T12:00:00Z, not '${value}'`);
  }
  return t;
}
