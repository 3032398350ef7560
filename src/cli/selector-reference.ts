import type { SelectorKind } from '../identity/common/selectors.js';

/** The selectors of one attestor, as `evident agent selectors` shows them. */
export interface AttestorSelectors {
  attestor: string;
  kinds: readonly SelectorKind[];
}

export interface SelectorReference {
  /** What workload attestors say of a process: what entries parented to an agent (or an alias) require. */
  workload: AttestorSelectors[];
  /** What node attestation says of an agent: what node entries (parented to the server) require. */
  node: AttestorSelectors[];
}

/**
 * The selector reference, read from the attestors' own catalog entries (the agent's workload attestors, the
 * server's node attestors) and the agent-ID selector every agent has. Loaded on use: the catalogs load
 * every plugin's code. docs/identity.md embeds its `--markdown` form, and a test keeps the two equal.
 */
export async function selectorReference(): Promise<SelectorReference> {
  const { workloadAttestorCatalog } = await import('../identity/agent/catalog.js');
  const { nodeAttestorCatalog } = await import('../identity/server/catalog.js');
  const { AGENT_ID_SELECTOR } = await import('../identity/common/selectors.js');
  return {
    workload: workloadAttestorCatalog.names().map((attestor) => ({ attestor, kinds: workloadAttestorCatalog.selectorsOf(attestor) })),
    node: [
      ...nodeAttestorCatalog.names().map((attestor) => ({ attestor, kinds: nodeAttestorCatalog.selectorsOf(attestor) })),
      { attestor: '(every agent)', kinds: [AGENT_ID_SELECTOR] },
    ],
  };
}

const selectorOf = (k: SelectorKind): string => `${k.prefix}:${k.placeholder}`;

export function referenceJson(r: SelectorReference): unknown {
  const side = (list: AttestorSelectors[]) =>
    list.map((a) => ({
      attestor: a.attestor,
      selectors: a.kinds.map((k) => ({ selector: selectorOf(k), example: k.example, doc: k.doc })),
    }));
  return { workload: side(r.workload), node: side(r.node) };
}

export function referenceText(r: SelectorReference): string[] {
  const out: string[] = [];
  const side = (title: string, list: AttestorSelectors[]) => {
    out.push(title);
    for (const a of list) {
      if (a.kinds.length === 0) {
        out.push(`  ${a.attestor}: none`);
        continue;
      }
      out.push(`  ${a.attestor}`);
      for (const k of a.kinds) out.push(`    ${selectorOf(k).padEnd(34)} e.g. ${k.example.padEnd(42)} ${k.doc}`);
    }
  };
  side(
    'Workload selectors (entries whose parent is an agent, or an alias of agents; evident agent run --workload-attestor NAME):',
    r.workload,
  );
  side(
    'Node selectors (node entries, whose parent is the server, spiffe://TD/evident/server; evident server run --node-attestor NAME):',
    r.node,
  );
  return out;
}

/** Two Markdown tables, as docs/identity.md has them. */
export function referenceMarkdown(r: SelectorReference): string[] {
  const table = (list: AttestorSelectors[]) => [
    '| attestor | selector | example | what it is |',
    '|---|---|---|---|',
    ...list.flatMap((a) =>
      a.kinds.length === 0
        ? [`| ${a.attestor} | (none) | | |`]
        : a.kinds.map((k) => `| ${a.attestor} | \`${selectorOf(k)}\` | \`${k.example}\` | ${k.doc.replace(/\|/g, '\\|')} |`),
    ),
  ];
  return [
    'Workload selectors, for entries whose parent is an agent or an alias of agents:',
    '',
    ...table(r.workload),
    '',
    'Node selectors, for node entries (whose parent is the server, `spiffe://TD/evident/server`):',
    '',
    ...table(r.node),
  ];
}
