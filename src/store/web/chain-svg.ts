import { Graph, layout } from '@dagrejs/dagre';
import type { ChainGraph, GraphEdge } from './chain-graph.js';
import { html, type Html } from './html.js';

const NODE_WIDTH = 230;
const NODE_HEIGHT = 54;
const CHAR_WIDTH = 6.6;
/** Longer text is cut with an ellipsis in the drawing; the full text is in the section it links to. */
const MAX_TITLE = 30;
const MAX_SUBTITLE = 34;
const MAX_LABEL = 32;

/**
 * The chain drawn as SVG, left to right, laid out by dagre (the layered graph layout many graph tools
 * use): steps as boxes coloured by state, artifacts as labelled arrows. Inline SVG, no script: each box
 * is a link to its section of the page, and every text is escaped by `html`.
 */
export function chainSvg(graph: ChainGraph): Html {
  const g = new Graph({ multigraph: false });
  g.setGraph({ rankdir: 'LR', nodesep: 28, ranksep: 90, edgesep: 16, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of graph.nodes) g.setNode(n.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const e of graph.edges) {
    const label = edgeLabel(e);
    g.setEdge(e.from, e.to, { width: label.length * CHAR_WIDTH + 8, height: 16, labelpos: 'c' });
  }
  layout(g);
  const { width = 0, height = 0 } = g.graph();
  const nodes = graph.nodes.map((n) => {
    const { x, y } = g.node(n.id);
    const box = html`<g class="node ${n.kind} ${n.state}" data-step="${n.kind === 'step' || n.kind === 'missing' ? n.title : ''}">
      <rect x="${x - NODE_WIDTH / 2}" y="${y - NODE_HEIGHT / 2}" width="${NODE_WIDTH}" height="${NODE_HEIGHT}" rx="6" />
      <text x="${x}" y="${y - 5}" class="title">${cut(n.title, MAX_TITLE)}</text>
      <text x="${x}" y="${y + 14}" class="subtitle">${cut(n.subtitle, MAX_SUBTITLE)}</text>
      <title>${n.title} ${n.subtitle}</title></g
    >`;
    return n.anchor === undefined ? box : html`<a href="#${n.anchor}">${box}</a>`;
  });
  const edges = graph.edges.map((e) => {
    const label = g.edge(e.from, e.to);
    const points = (label.points ?? []).map((p: { x: number; y: number }) => `${round(p.x)},${round(p.y)}`).join(' ');
    return html`<g class="edge"
      ><polyline points="${points}" marker-end="url(#arrow)" />
      <text x="${round(label.x ?? 0)}" y="${round((label.y ?? 0) + 4)}">${edgeLabel(e)}</text><title>${e.names.join('\n')}</title></g
    >`;
  });
  return html`<svg
    class="chain"
    xmlns="http://www.w3.org/2000/svg"
    role="img"
    aria-label="supply chain graph"
    width="${round(width)}"
    height="${round(height)}"
    viewBox="0 0 ${round(width)} ${round(height)}"
  >
    <defs>
      <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
        <path d="M 0 0 L 10 5 L 0 10 z" />
      </marker>
    </defs>
    ${edges}${nodes}
  </svg>`;
}

/** The names an edge carries: the first, and how many more. */
function edgeLabel(e: GraphEdge): string {
  const first = cut(e.names[0] ?? '', MAX_LABEL);
  return e.names.length > 1 ? `${first} +${e.names.length - 1}` : first;
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
