import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { EvidentError } from '../errors.js';
import type { StoreClient } from '../store/client.js';
import type { StoreDigest } from '../store/digest.js';
import { asGiven, type CliContext } from './context.js';
import { WORKLOAD_API_SOCKET_HELP } from './workload-api-socket.js';

/** The flags of every command that talks to the evidence store. */
export interface StoreFlags {
  store?: string;
  storeTokenFile?: string;
  storeCa?: string;
  spiffeSocket?: string | boolean;
  spiffeId?: string;
}

/**
 * `--store URL` and `--store-token-file FILE`; with `spiffeSocket`, also `--spiffe-socket` and `--spiffe-id`
 * (`run` and `record stop` have them already: the SVID that signs is the one presented).
 */
export function addStoreOptions(command: Command, options: { spiffeSocket: boolean; purpose: string }): Command {
  command
    .option('--store <url>', `the evidence store (http(s)://HOST:PORT; or EVIDENT_STORE_URL) to ${options.purpose}`)
    .option('--store-token-file <file>', "the store's bearer token, in a file (or EVIDENT_STORE_TOKEN)")
    .option(
      '--store-ca <file>',
      "trust an https store's certificate by these CAs (PEM), e.g. the trust bundle of a store serving its X509-SVID (default: the system's CAs, or with --spiffe-socket the SPIFFE bundles)",
    );
  if (options.spiffeSocket) {
    command
      .option(
        '--spiffe-socket [path]',
        `present the X509-SVID from the SPIFFE Workload API to an https store (mTLS): ${WORKLOAD_API_SOCKET_HELP}`,
      )
      .option('--spiffe-id <id>', 'which SVID to present, when the Workload API gives several');
  }
  return command;
}

/** The store's URL: --store, else EVIDENT_STORE_URL; undefined when neither is given. */
export function storeUrlOf(flags: StoreFlags, ctx: CliContext): string | undefined {
  const url = flags.store ?? ctx.io.env.EVIDENT_STORE_URL;
  return url === '' ? undefined : url;
}

/**
 * A client of the store the flags name, with its credentials: the token from --store-token-file or
 * EVIDENT_STORE_TOKEN, and with --spiffe-socket against an https store, the workload's X509-SVID (mTLS,
 * the store trusted by the SPIFFE bundle); --store-ca FILE names the CAs the store is trusted by instead.
 * Checked before any work is done (exit 2 for a bad URL, token or CA file).
 */
export async function storeClient(
  flags: StoreFlags,
  ctx: CliContext,
  url: string,
  options: { readonly timeoutMs?: number } = {},
): Promise<StoreClient> {
  const { StoreClient, storeUrl } = await import('../store/client.js');
  const base = storeUrl(url);
  const token = await storeToken(flags, ctx);
  let tls;
  if (flags.spiffeSocket !== undefined && base.protocol === 'https:') {
    const { fetchX509Context, pickSvid } = await import('../spiffe/workloadapi/client.js');
    const { svidTls } = await import('../store/svid-tls.js');
    const address = typeof flags.spiffeSocket === 'string' ? flags.spiffeSocket : undefined;
    const context = await fetchX509Context({ address, env: ctx.io.env, cwd: ctx.io.cwd });
    tls = svidTls(pickSvid(context.svids, { spiffeId: flags.spiffeId }), context.bundles);
  }
  if (flags.storeCa !== undefined) {
    if (base.protocol !== 'https:') throw new EvidentError('BAD_USAGE', `--store-ca is for an https:// store, not ${base.origin}`);
    const { withStoreCa } = await import('../store/store-ca.js');
    tls = withStoreCa(await asGiven(readFile(resolve(ctx.io.cwd, flags.storeCa), 'utf8'), flags.storeCa), flags.storeCa, tls);
  }
  return new StoreClient({
    url,
    ...(token !== undefined ? { token } : {}),
    ...(tls !== undefined ? { tls } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
}

async function storeToken(flags: StoreFlags, ctx: CliContext): Promise<string | undefined> {
  if (flags.storeTokenFile !== undefined) {
    const text = await asGiven(readFile(resolve(ctx.io.cwd, flags.storeTokenFile), 'utf8'), flags.storeTokenFile);
    const token = text.trim();
    // a header value must be one line of visible characters: a token file with two lines is a mistake
    if (token === '' || !/^[\x21-\x7e]+$/.test(token)) {
      throw new EvidentError('BAD_INPUT', 'a store token is one line of printable characters without spaces', {
        file: flags.storeTokenFile,
      });
    }
    return token;
  }
  const env = ctx.io.env.EVIDENT_STORE_TOKEN;
  if (env === undefined || env === '') return undefined;
  if (!/^[\x21-\x7e]+$/.test(env.trim()))
    throw new EvidentError('BAD_INPUT', 'EVIDENT_STORE_TOKEN must be printable characters without spaces');
  return env.trim();
}

/**
 * An artifact as the store indexes it: `sha256:HEX` as given, or the SHA-256 of the file of that name.
 * A string that looks like a digest but is not one is refused rather than read as a file name.
 */
export async function artifactDigest(value: string, ctx: CliContext, flag: string): Promise<StoreDigest> {
  const { parseStoreDigest } = await import('../store/digest.js');
  if (/^sha256:/i.test(value)) return parseStoreDigest(value, flag);
  const hash = createHash('sha256');
  await asGiven(
    new Promise<void>((done, fail) => {
      createReadStream(resolve(ctx.io.cwd, value))
        .on('data', (c) => hash.update(c))
        .on('end', () => done())
        .on('error', fail);
    }),
    value,
  );
  return `sha256:${hash.digest('hex')}`;
}

/**
 * Uploads the link `run` or `record stop` just wrote, its exact bytes (signatures and time-stamp tokens
 * with them). A failure is an environment problem (exit 3) whatever the store said, and the message
 * says the link is still on disk, so it can be pushed again with `evident store push`.
 */
export async function uploadWrittenLink(store: StoreClient, path: string, shown: string, ctx: CliContext, quiet: boolean): Promise<void> {
  try {
    const bytes = await readFile(path);
    const { digest, created } = await store.push(bytes);
    if (!quiet) ctx.err(`evident: ${created ? 'uploaded' : 'already stored:'} ${shown} to ${store.shown} (${digest})`);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new EvidentError('ENVIRONMENT', `${message}; the link is kept at ${shown} (upload it later with: evident store push ${shown})`, {
      cause: e,
    });
  }
}
