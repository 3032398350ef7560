import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Signer } from '../crypto/signer.js';
import { EvidentError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { CliContext } from './context.js';
import { stepIdentity } from './step-options.js';
import { artifactDigest } from './store-options.js';
import { WORKLOAD_API_SOCKET_HELP } from './workload-api-socket.js';

/** `verify --vsa FILE --vsa-key KEY | --vsa-spiffe-socket [path]`: the signed SLSA Verification Summary of the verification. */
export interface VsaFlags {
  vsa?: string;
  vsaKey?: string;
  vsaSpiffeSocket?: string | boolean;
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
    .option('--vsa-spiffe-socket [path]', `sign the VSA with the X509-SVID from the SPIFFE Workload API: ${WORKLOAD_API_SOCKET_HELP}`);
}

/** The VSA's signer, asked for before verifying (exit 2 when --vsa lacks one, or one is given without --vsa). */
export async function vsaSigner(flags: VsaFlags, ctx: CliContext): Promise<Signer | undefined> {
  const signing = flags.vsaKey !== undefined || flags.vsaSpiffeSocket !== undefined;
  if (flags.vsa === undefined) {
    if (signing) throw new EvidentError('BAD_USAGE', 'verify: --vsa-key and --vsa-spiffe-socket sign the --vsa FILE: add --vsa');
    return undefined;
  }
  if (!signing) throw new EvidentError('BAD_USAGE', 'verify: --vsa needs a signer: --vsa-key KEY or --vsa-spiffe-socket');
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
): Promise<{ uri: string; sha256: string }[]> {
  if ('links' in links) return Object.entries(links.links).map(([uri, bytes]) => ({ uri, sha256: sha256(bytes) }));
  const names = (await readdir(links.linkDir, { recursive: true })).filter((n) => n.endsWith('.link') || n.endsWith('.json')).sort();
  const out = [];
  for (const name of names) {
    const path = join(links.linkDir, name);
    if (path === skip) continue;
    const bytes = await readFile(path).catch(() => undefined);
    if (bytes === undefined || (name.endsWith('.json') && !isInTotoEnvelope(bytes))) continue;
    out.push({ uri: relative(links.linkDir, path).replaceAll('\\', '/'), sha256: sha256(bytes) });
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

/** Writes the VSA: the product as subject and resourceUri, the layout's bytes as the policy, the verdict. */
export async function writeVsa(
  flags: VsaFlags & { vsa: string; product: string },
  signer: Signer,
  ctx: CliContext,
  verdict: { ok: boolean; verifiedAt: Date; links: { linkDir: string } | { links: Record<string, Buffer> } },
): Promise<void> {
  const [{ vsaStatement }, { signStatement, envelopeText, signerUri }, { VERSION }] = await Promise.all([
    import('../attestation/vsa.js'),
    import('../attestation/sign-statement.js'),
    import('./main.js'),
  ]);
  const product = (await artifactDigest(flags.product, ctx, '--product')).slice('sha256:'.length);
  const layoutBytes = await readFile(resolve(ctx.io.cwd, flags.layout));
  const statement = vsaStatement({
    verifierId: signerUri(signer),
    verifierVersion: VERSION,
    timeVerified: verdict.verifiedAt,
    subject: [{ name: flags.product, digest: { sha256: product } }],
    resourceUri: flags.product.startsWith('sha256:') ? flags.product : flags.product.replaceAll('\\', '/'),
    policy: { uri: flags.layout.replaceAll('\\', '/'), sha256: sha256(layoutBytes) },
    inputAttestations: await inputFiles(verdict.links, resolve(ctx.io.cwd, flags.vsa)),
    passed: verdict.ok,
  });
  await writeFileAtomic(resolve(ctx.io.cwd, flags.vsa), envelopeText(await signStatement(statement, signer)));
  if (!flags.quiet) ctx.err(`evident: wrote ${flags.vsa} (${verdict.ok ? 'PASSED' : 'FAILED'})`);
}
