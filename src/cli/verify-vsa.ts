import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Signer } from '../crypto/signer.js';
import { EvidentError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { CliContext } from './context.js';
import { stepIdentity } from './step-options.js';
import { WORKLOAD_API_SOCKET_HELP } from './workload-api-socket.js';

/** `verify --vsa FILE --vsa-key KEY | --vsa-spiffe-socket [path]`: the signed SLSA Verification Summary of the verification. */
export interface VsaFlags {
  vsa?: string;
  vsaKey?: string;
  vsaSpiffeSocket?: string | boolean;
  vsaResourceUri?: string;
  product?: string;
  layout: string;
  quiet?: boolean;
}

export function addVsaOptions(command: Command): Command {
  return command
    .option(
      '--vsa <file>',
      'write a signed SLSA Verification Summary (https://slsa.dev/verification_summary/v1) of the result, PASSED or FAILED',
    )
    .option('--vsa-key <path>', "the verifier's private key that signs the VSA (its password as for run: EVIDENT_KEY_PASSWORD or asked)")
    .option('--vsa-spiffe-socket [path]', `sign the VSA with the X509-SVID from the SPIFFE Workload API: ${WORKLOAD_API_SOCKET_HELP}`)
    .option(
      '--vsa-resource-uri <uri>',
      "the VSA's resourceUri, what the product is or where it goes (default: --product's digest, or pkg:generic/PATH for a file)",
    );
}

/** The VSA's signer, asked for before verifying (exit 2 when --vsa lacks one, or one is given without --vsa). */
export async function vsaSigner(flags: VsaFlags, ctx: CliContext): Promise<Signer | undefined> {
  const signing = flags.vsaKey !== undefined || flags.vsaSpiffeSocket !== undefined;
  if (flags.vsa === undefined) {
    if (signing) throw new EvidentError('BAD_USAGE', 'verify: --vsa-key and --vsa-spiffe-socket sign the --vsa FILE: add --vsa');
    if (flags.vsaResourceUri !== undefined)
      throw new EvidentError('BAD_USAGE', 'verify: --vsa-resource-uri is for the --vsa FILE: add --vsa');
    return undefined;
  }
  if (!signing) throw new EvidentError('BAD_USAGE', 'verify: --vsa needs a signer: --vsa-key KEY or --vsa-spiffe-socket');
  // a ResourceURI is an RFC 3986 URI, its scheme lowercase (in-toto's field types): `lib.tar` is not one
  if (flags.vsaResourceUri !== undefined && !/^[a-z][a-z0-9+.-]*:[^\s]+$/.test(flags.vsaResourceUri))
    throw new EvidentError(
      'BAD_USAGE',
      `verify: --vsa-resource-uri must be a URI with a lowercase scheme (pkg:generic/lib.tar, oci://registry/app), not '${flags.vsaResourceUri}'`,
    );
  if (flags.product === undefined)
    throw new EvidentError('BAD_USAGE', 'verify: --vsa is about a product: say which with --product sha256:HEX or --product FILE');
  const identity = await stepIdentity({ stepName: '', format: 'link', key: flags.vsaKey, spiffeSocket: flags.vsaSpiffeSocket }, ctx);
  return identity.signer;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * The evidence a verification read, for inputAttestations: with --store, the links and attestations fetched;
 * from a folder, its `*.link` files and its `*.json` files that are in-toto DSSE envelopes, sublayout folders
 * included (what was offered to the verifier: one it did not count is listed too, the digest says which
 * bytes it saw). SBOMs, advisories and the VSA being written are not evidence and are left out.
 */
async function inputFiles(
  links: { linkDir: string } | { links: Record<string, Buffer> },
  skip: string,
): Promise<{ name: string; sha256: string }[]> {
  if ('links' in links) return Object.entries(links.links).map(([name, bytes]) => ({ name, sha256: sha256(bytes) }));
  const names = (await readdir(links.linkDir, { recursive: true })).filter((n) => n.endsWith('.link') || n.endsWith('.json')).sort();
  const out = [];
  for (const name of names) {
    const path = join(links.linkDir, name);
    if (path === skip) continue;
    const bytes = await readFile(path).catch(() => undefined);
    if (bytes === undefined || (name.endsWith('.json') && !isInTotoEnvelope(bytes))) continue;
    out.push({ name: relative(links.linkDir, path).replaceAll('\\', '/'), sha256: sha256(bytes) });
  }
  return out;
}

function isInTotoEnvelope(bytes: Buffer): boolean {
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as { payloadType?: unknown };
    return doc.payloadType === 'application/vnd.in-toto+json';
  } catch {
    return false;
  }
}

/**
 * Writes the VSA: the product (`verdict.product`, its sha256 as --product gave or hashed it) as subject and
 * resourceUri, the layout's bytes as the policy, the verdict, which fails when the product is nothing the
 * verified chain made (verify's `product` check).
 */
export async function writeVsa(
  flags: VsaFlags & { vsa: string; product: string },
  signer: Signer,
  ctx: CliContext,
  verdict: { ok: boolean; verifiedAt: Date; product: string; links: { linkDir: string } | { links: Record<string, Buffer> } },
): Promise<void> {
  const [{ vsaStatement, fileResourceUri }, { signStatement, envelopeText, signerUri }, { VERSION }] = await Promise.all([
    import('../attestation/vsa.js'),
    import('../attestation/sign-statement.js'),
    import('./main.js'),
  ]);
  const product = verdict.product.slice('sha256:'.length);
  const layoutBytes = await readFile(resolve(ctx.io.cwd, flags.layout));
  const statement = vsaStatement({
    verifierId: signerUri(signer),
    verifierVersion: VERSION,
    timeVerified: verdict.verifiedAt,
    subject: [{ name: flags.product, digest: { sha256: product } }],
    resourceUri: flags.vsaResourceUri ?? (flags.product.startsWith('sha256:') ? flags.product : fileResourceUri(flags.product)),
    policy: { uri: fileResourceUri(flags.layout), sha256: sha256(layoutBytes) },
    inputAttestations: await inputFiles(verdict.links, resolve(ctx.io.cwd, flags.vsa)),
    passed: verdict.ok,
  });
  await writeFileAtomic(resolve(ctx.io.cwd, flags.vsa), envelopeText(await signStatement(statement, signer)));
  if (!flags.quiet) ctx.err(`evident: wrote ${flags.vsa} (${verdict.ok ? 'PASSED' : 'FAILED'})`);
}
