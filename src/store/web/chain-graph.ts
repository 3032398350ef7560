import type { ArtifactChain } from './artifact-chain.js';
import { failuresOf } from './artifact-chain.js';

export type NodeState = 'passed' | 'failed' | 'unverified' | 'missing';

/** A box of the drawing: a step's link, the inputs nothing in the chain made, or the artifact asked about. */
export interface GraphNode {
  readonly id: string;
  readonly kind: 'step' | 'sources' | 'artifact' | 'missing';
  /** First line (the step name, "sources", the artifact's name). */
  readonly title: string;
  /** Second line (who signed, a short digest). */
  readonly subtitle: string;
  readonly state: NodeState;
  /** Where the page's section on it is (`#step-…`). */
  readonly anchor?: string;
}

/** Artifacts flowing from one box to another: their names, by the digest they share. */
export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly names: readonly string[];
}

export interface ChainGraph {
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

const SOURCES = 'sources';
const ARTIFACT = 'artifact';

/** The anchor of a link's section on the page: its file name, which is unique in a chain. */
export function linkAnchor(path: string): string {
  return `link-${path}`;
}

/**
 * Steps as nodes, artifacts along edges: an edge goes from the link that produced a digest to each link
 * that consumed it (matched by sha256, as MATCH rules match), from "sources" for materials nothing in
 * the chain produced, and to the artifact asked about from each link that produced it. With a verdict,
 * a step is failed when the report has a failed check for it, and a layout step without any link is
 * drawn as missing.
 */
export function chainGraph(chain: ArtifactChain, artifactNames: readonly string[]): ChainGraph {
  const report = chain.verdict?.report;
  const nodes: GraphNode[] = chain.links.map((l) => ({
    id: l.path,
    kind: 'step',
    title: l.step,
    subtitle: l.signatures.map((s) => s.spiffeId ?? `key ${s.keyid.slice(0, 8)}`).join(', '),
    state: report === undefined ? 'unverified' : failuresOf(report, l.step).length > 0 ? 'failed' : 'passed',
    anchor: linkAnchor(l.path),
  }));
  for (const step of chain.verdict?.steps ?? []) {
    if (step.kind !== 'step' || chain.links.some((l) => l.step === step.name)) continue;
    nodes.push({ id: `missing:${step.name}`, kind: 'missing', title: step.name, subtitle: 'no link in the store', state: 'missing' });
  }
  const hex = chain.artifact.slice('sha256:'.length);
  nodes.push({
    id: ARTIFACT,
    kind: 'artifact',
    title: artifactNames[0] ?? 'this artifact',
    subtitle: `${chain.artifact.slice(0, 19)}…`,
    state: report === undefined ? 'unverified' : report.ok ? 'passed' : 'failed',
  });

  const producers = new Map<string, string[]>();
  for (const l of chain.links) for (const d of new Set(l.products.values())) producers.set(d, [...(producers.get(d) ?? []), l.path]);
  const flows = new Map<string, Set<string>>();
  const flow = (from: string, to: string, name: string) => {
    const key = `${from}\n${to}`;
    if (!flows.has(key)) flows.set(key, new Set());
    flows.get(key)!.add(name);
  };
  for (const l of chain.links) {
    for (const [name, digest] of l.materials) {
      const from = (producers.get(digest) ?? []).filter((p) => p !== l.path);
      if (from.length === 0) flow(SOURCES, l.path, name);
      for (const p of from) flow(p, l.path, name);
    }
    for (const [name, digest] of l.products) if (digest === hex) flow(l.path, ARTIFACT, name);
  }
  if ([...flows.keys()].some((k) => k.startsWith(`${SOURCES}\n`))) {
    nodes.unshift({ id: SOURCES, kind: 'sources', title: 'sources', subtitle: 'inputs no step here made', state: 'unverified' });
  }
  const edges = [...flows].map(([key, names]) => {
    const [from, to] = key.split('\n') as [string, string];
    return { from, to, names: [...names].sort() };
  });
  return { nodes, edges };
}
