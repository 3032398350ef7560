import type { Selector } from '../proto/selector.js';

/**
 * One kind of selector an attestor produces, e.g. `unix:uid:UID`: what an entry may require. The
 * attestors' catalog entries carry their kinds (`evident agent selectors` prints them, docs/identity.md
 * lists them), and the server refuses an entry with a selector no attestor produces. Both sides need
 * them and never import each other, so they live here.
 */
export interface SelectorKind {
  /** The selector up to its variable part: `unix:uid`. */
  readonly prefix: string;
  /** The variable part as help shows it: `UID`. */
  readonly placeholder: string;
  readonly example: string;
  readonly doc: string;
  /** What the variable part must look like, when it has one form (a uid is a number), and what to say otherwise. */
  readonly value?: { readonly pattern: RegExp; readonly expected: string };
}

const number = (what: string) => ({ pattern: /^\d+$/, expected: `a number (the ${what})` });

/** What the `unix` workload attestor says of a process (from the kernel and /proc, see docs/workload-attestation.md). */
export const UNIX_SELECTORS: readonly SelectorKind[] = [
  { prefix: 'unix:uid', placeholder: 'UID', example: 'unix:uid:1000', doc: "the process's effective user ID", value: number('user ID') },
  { prefix: 'unix:user', placeholder: 'NAME', example: 'unix:user:builder', doc: 'the name of that user, when /etc/passwd has one' },
  { prefix: 'unix:gid', placeholder: 'GID', example: 'unix:gid:1000', doc: "the process's effective group ID", value: number('group ID') },
  { prefix: 'unix:group', placeholder: 'NAME', example: 'unix:group:ci', doc: 'the name of that group, when /etc/group has one' },
  {
    prefix: 'unix:supplementary_gid',
    placeholder: 'GID',
    example: 'unix:supplementary_gid:27',
    doc: 'one of its supplementary group IDs (one selector each)',
    value: number('group ID'),
  },
  {
    prefix: 'unix:supplementary_group',
    placeholder: 'NAME',
    example: 'unix:supplementary_group:docker',
    doc: 'the name of one of its supplementary groups',
  },
  {
    prefix: 'unix:path',
    placeholder: 'PATH',
    example: 'unix:path:/usr/local/bin/builder',
    doc: 'the executable it runs, as the agent sees that file (none when it was deleted or is mounted over)',
    value: { pattern: /^\//, expected: 'an absolute path' },
  },
  {
    prefix: 'unix:sha256',
    placeholder: 'HEX',
    example: 'unix:sha256:3f5a…(64 hex digits)',
    doc: 'the SHA-256 of that executable (sha256sum prints it)',
    value: { pattern: /^[0-9a-f]{64}$/, expected: '64 lowercase hex digits (sha256sum FILE)' },
  },
];

/** What x509pop node attestation says of a node, from the certificate it proved it holds the key of. */
export const X509POP_SELECTORS: readonly SelectorKind[] = [
  {
    prefix: 'x509pop:subject:cn',
    placeholder: 'CN',
    example: 'x509pop:subject:cn:node-1',
    doc: "the node certificate's subject common name",
  },
  {
    prefix: 'x509pop:fingerprint',
    placeholder: 'SHA1',
    example: 'x509pop:fingerprint:9f3c…(40 hex digits)',
    doc: 'the SHA-1 of the node certificate (DER), as in the agent ID',
    value: { pattern: /^[0-9a-f]{40}$/, expected: '40 lowercase hex digits' },
  },
  {
    prefix: 'x509pop:ca:fingerprint',
    placeholder: 'SHA1',
    example: 'x509pop:ca:fingerprint:51d2…(40 hex digits)',
    doc: 'the SHA-1 of a CA certificate on its chain (one selector each)',
    value: { pattern: /^[0-9a-f]{40}$/, expected: '40 lowercase hex digits' },
  },
];

/**
 * What TPM node attestation says of a node: the hash of its endorsement key, and, when the EK certificate
 * chains to the server's `--tpm-ek-ca-bundle`, who issued it (an unchecked certificate names nothing).
 */
export const TPM_SELECTORS: readonly SelectorKind[] = [
  {
    prefix: 'tpm:pub_hash',
    placeholder: 'SHA256',
    example: 'tpm:pub_hash:1b0e…(64 hex digits)',
    doc: "the SHA-256 of the TPM's endorsement public key (DER SubjectPublicKeyInfo), as in the agent ID",
    value: { pattern: /^[0-9a-f]{64}$/, expected: '64 lowercase hex digits' },
  },
  {
    prefix: 'tpm:ek_cert_issuer_cn',
    placeholder: 'CN',
    example: 'tpm:ek_cert_issuer_cn:Infineon OPTIGA(TM) RSA Manufacturing CA 003',
    doc: "the issuer common name of the EK certificate, when it chains to the server's --tpm-ek-ca-bundle",
  },
  {
    prefix: 'tpm:ek_cert_serial',
    placeholder: 'HEX',
    example: 'tpm:ek_cert_serial:4f1a09c2',
    doc: 'the serial number of that EK certificate, lowercase hex',
    value: { pattern: /^[0-9a-f]+$/, expected: 'lowercase hex digits' },
  },
];

/** The one node selector the server gives every agent, whatever attested it: its own ID. */
export const AGENT_ID_SELECTOR: SelectorKind = {
  prefix: 'spiffe_id',
  placeholder: 'AGENT_ID',
  example: 'spiffe_id:spiffe://example.org/evident/agent/x509pop/9f3c…',
  doc: 'the agent ID itself (what `token generate --spiffe-id` aliases)',
};

/**
 * The selectors of each workload attestor, by its catalog name: what the server checks workload entries
 * against, since it cannot see which attestors an agent runs. The agent's catalog (identity/agent/catalog.ts)
 * registers the attestors with these same kinds; test/identity/selectors.test.ts keeps the two one list.
 */
export const WORKLOAD_SELECTORS: ReadonlyMap<string, readonly SelectorKind[]> = new Map([['unix', UNIX_SELECTORS]]);

/** The kind a selector is of, or undefined when none of `kinds` is its. The longest prefix wins (`x509pop:ca:fingerprint`). */
export function kindOf(selector: Selector, kinds: readonly SelectorKind[]): SelectorKind | undefined {
  const text = `${selector.type}:${selector.value}`;
  let best: SelectorKind | undefined;
  for (const k of kinds)
    if (text.startsWith(`${k.prefix}:`) && text.length > k.prefix.length + 1 && (!best || k.prefix.length > best.prefix.length)) best = k;
  return best;
}

/**
 * Why `selector` can never match when only `kinds` are produced, or undefined when it can: the one check
 * behind `entry create` refusing `unix:bogus:1` or `unix:uid:alice`. `producers` names who produces
 * `kinds` in the message: `workload attestor`.
 */
export function selectorProblem(selector: Selector, kinds: readonly SelectorKind[], producers: string): string | undefined {
  const text = `${selector.type}:${selector.value}`;
  const kind = kindOf(selector, kinds);
  if (kind === undefined) {
    const known = kinds.length ? kinds.map((k) => k.prefix).join(', ') : 'none';
    return `'${text}' is not a selector any ${producers} produces (known: ${known}; \`evident agent selectors\` lists them)`;
  }
  const v = text.slice(kind.prefix.length + 1);
  if (kind.value && !kind.value.pattern.test(v)) return `'${text}': ${kind.prefix} takes ${kind.value.expected}`;
  return undefined;
}
