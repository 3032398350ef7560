import type { Command } from 'commander';
import { resolve } from 'node:path';
import { EvidentError } from '../errors.js';
import { DEFAULT_MAX_LINK_BYTES } from '../intoto/verify/limits.js';
import type { EvidenceItem, EvidenceQuery } from '../store/client.js';
import { asGiven, type CliContext } from './context.js';
import { registerStoreServe } from './store-serve.js';
import { addStoreOptions, artifactDigest, storeClient, storeUrlOf, type StoreFlags } from './store-options.js';

/** `evident store …`: the evidence store (docs/store.md). */
export function registerStore(program: Command, ctx: CliContext): void {
  const store = program
    .command('store')
    .description('the evidence store: keep links, layouts and attestations in one place, find them by digest');
  registerStoreServe(store, ctx);
  registerStoreClientCommands(store, ctx);
}

/** `store push`, `store query`, `store get`: the clients of a running store. */
export function registerStoreClientCommands(store: Command, ctx: CliContext): void {
  addStoreOptions(
    store
      .command('push')
      .description('upload links, layouts or DSSE envelopes, byte for byte (uploading the same file again changes nothing)')
      .argument('<files...>', 'the files to upload')
      .option('--json', 'print what the store answered as JSON, one object per file'),
    { spiffeSocket: true, purpose: 'upload to' },
  ).action(
    ctx.action(async (files: string[], flags: StoreFlags & { json?: boolean }) => {
      const client = await storeClient(flags, ctx, requiredUrl(flags, ctx));
      const { readRegularFile } = await import('../util/regular-file.js');
      const answers = [];
      for (const file of files) {
        const read = await asGiven(readRegularFile(resolve(ctx.io.cwd, file), DEFAULT_MAX_LINK_BYTES), file);
        if (read.kind === 'not-regular') throw new EvidentError('BAD_INPUT', read.problem, { file });
        if (read.kind === 'too-large') throw new EvidentError('TOO_LARGE', `is ${read.size} bytes, more than evidence may have`, { file });
        // the store's answer names the store, not the file: say which file it was about
        const answer = await client.push(read.bytes).catch((e: unknown) => {
          throw e instanceof EvidentError ? new EvidentError(e.code, e.message, { file, cause: e }) : e;
        });
        answers.push({ file, ...answer });
        if (!flags.json) ctx.out(`${answer.created ? 'stored' : 'already stored'} ${answer.digest} ${answer.kind} ${file}`);
      }
      if (flags.json) ctx.out(JSON.stringify(answers));
      return 0;
    }),
  );

  addStoreOptions(
    store
      .command('query')
      .description('find evidence by artifact digest (as subject, material or product), step, signer or time; newest first')
      .option('--digest <sha256:hex|file>', 'an artifact: its digest, or a file to hash')
      .option('--role <role>', 'how the artifact appears: subject, material or product (default: any)')
      .option('--step <name>', 'only links of this step')
      .option('--signer <keyid|spiffe-id>', 'only evidence signed by this key id or SPIFFE ID')
      .option('--since <rfc3339>', 'only evidence stored at or after this time')
      .option('--until <rfc3339>', 'only evidence stored before this time')
      .option('--limit <n>', 'at most this many items, following the pages (default 100)')
      .option('--json', 'print the items as a JSON list'),
    { spiffeSocket: true, purpose: 'search' },
  ).action(
    ctx.action(
      async (
        flags: StoreFlags & {
          digest?: string;
          role?: string;
          step?: string;
          signer?: string;
          since?: string;
          until?: string;
          limit?: string;
          json?: boolean;
        },
      ) => {
        const limit = flags.limit === undefined ? 100 : Number(flags.limit);
        if (!Number.isSafeInteger(limit) || limit < 1)
          throw new EvidentError('BAD_USAGE', `store query: --limit must be a positive number, not '${flags.limit}'`);
        if (flags.role !== undefined && !['subject', 'material', 'product'].includes(flags.role)) {
          throw new EvidentError('BAD_USAGE', `store query: --role must be subject, material or product, not '${flags.role}'`);
        }
        const url = requiredUrl(flags, ctx);
        const query: EvidenceQuery = {
          ...(flags.digest !== undefined ? { digest: await artifactDigest(flags.digest, ctx, '--digest') } : {}),
          ...(flags.role !== undefined ? { role: flags.role as EvidenceQuery['role'] } : {}),
          ...(flags.step !== undefined ? { step: flags.step } : {}),
          ...(flags.signer !== undefined ? { signer: flags.signer } : {}),
          ...(flags.since !== undefined ? { since: flags.since } : {}),
          ...(flags.until !== undefined ? { until: flags.until } : {}),
        };
        const client = await storeClient(flags, ctx, url);
        const items: EvidenceItem[] = [];
        let cursor: string | undefined;
        do {
          const page = await client.query({
            ...query,
            limit: Math.min(limit - items.length, 1000),
            ...(cursor !== undefined ? { cursor } : {}),
          });
          items.push(...page.items.slice(0, limit - items.length));
          cursor = page.items.length > 0 ? page.next : undefined;
        } while (cursor !== undefined && items.length < limit);
        if (flags.json) ctx.out(JSON.stringify(items));
        else for (const item of items) ctx.out(itemLine(item));
        return 0;
      },
    ),
  );

  addStoreOptions(
    store
      .command('get')
      .description('fetch evidence by its digest, checked to hash to it')
      .argument('<digest>', 'sha256:HEX, as push and query print it')
      .option('-o, --output <file>', 'write it to this file (atomically) instead of stdout'),
    { spiffeSocket: true, purpose: 'fetch from' },
  ).action(
    ctx.action(async (digestText: string, flags: StoreFlags & { output?: string }) => {
      const { parseStoreDigest } = await import('../store/digest.js');
      const digest = parseStoreDigest(digestText, 'the digest');
      const client = await storeClient(flags, ctx, requiredUrl(flags, ctx));
      const bytes = await client.get(digest);
      if (bytes === undefined) throw new EvidentError('NOT_FOUND', `store ${client.shown}: has no evidence ${digest}`);
      if (flags.output === undefined) {
        ctx.io.stdout.write(bytes.toString('utf8'));
        return 0;
      }
      const { writeFileAtomic } = await import('../util/atomic-write.js');
      await asGiven(writeFileAtomic(resolve(ctx.io.cwd, flags.output), bytes), flags.output);
      return 0;
    }),
  );
}

function requiredUrl(flags: StoreFlags, ctx: CliContext): string {
  const url = storeUrlOf(flags, ctx);
  if (url === undefined) throw new EvidentError('BAD_USAGE', 'which store? give --store URL (or EVIDENT_STORE_URL)');
  return url;
}

/** One line per item: digest, kind, step, signers, when stored. */
function itemLine(item: EvidenceItem): string {
  const signers = (item.signers ?? []).map((s) => s.spiffeId ?? s.keyid.slice(0, 8)).join(',') || '-';
  return [item.digest, item.kind, item.step ?? item.predicateType ?? '-', signers, item.storedAt].join('  ');
}
