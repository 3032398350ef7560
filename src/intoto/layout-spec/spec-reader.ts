import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';

/** A YAML node with the spec path users know it by (`steps[1].materials[0]`). */
export interface At {
  readonly node: Node | null | undefined;
  readonly path: string;
}

/**
 * Reads a layout spec's YAML with line numbers kept, so every problem can be reported as
 * `<file>:<line>: <path>: <what>`. Problems are collected; the compiler throws once at the end.
 */
export class SpecReader {
  readonly problems: string[] = [];
  readonly root: At;
  private readonly lines = new LineCounter();
  private readonly doc: Document;

  constructor(
    readonly file: string,
    text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: true, uniqueKeys: true });
    for (const e of [...this.doc.errors, ...this.doc.warnings]) {
      const line = e.linePos?.[0]?.line;
      this.problems.push(`${file}${line !== undefined ? `:${line}` : ''}: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
    }
    this.root = { node: this.doc.contents as Node | null, path: '' };
  }

  /** The problems in the order of their lines (stable), as a reader of the spec goes through it. */
  sortedProblems(): string[] {
    const lineOf = (p: string) => Number(/^.*?:(\d+): /.exec(p.slice(this.file.length))?.[1] ?? 0);
    return this.problems
      .map((p, i) => ({ p, i, line: p.startsWith(`${this.file}:`) ? lineOf(p) : 0 }))
      .sort((a, b) => a.line - b.line || a.i - b.i)
      .map(({ p }) => p);
  }

  report(at: At, message: string): void {
    const offset = at.node?.range?.[0];
    const line = offset === undefined ? '' : `:${this.lines.linePos(offset).line}`;
    this.problems.push(`${this.file}${line}: ${at.path === '' ? '' : `${at.path}: `}${message}`);
  }

  /** The entries of a mapping, reporting keys not in `known` (a typo must not be silently ignored). */
  map(at: At, known: readonly string[], what: string): Map<string, At> | undefined {
    const node = this.deref(at.node);
    if (!isMap(node)) {
      this.report(at, `must be a mapping (${what}), not ${this.describe(node)}`);
      return undefined;
    }
    const out = new Map<string, At>();
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const key = isScalar(keyNode) ? String(keyNode.value) : undefined;
      const path = at.path === '' ? (key ?? '?') : `${at.path}.${key ?? '?'}`;
      if (key === undefined) {
        this.report({ node: keyNode, path: at.path }, 'keys must be plain names');
        continue;
      }
      if (known.length > 0 && !known.includes(key)) {
        this.report({ node: keyNode, path }, `unknown key (expected one of: ${known.join(', ')})`);
        continue;
      }
      out.set(key, { node: (pair.value as Node | null) ?? keyNode, path });
    }
    return out;
  }

  /** The items of a sequence, each with its path `path[i]`. */
  seq(at: At, what: string): At[] | undefined {
    const node = this.deref(at.node);
    if (!isSeq(node)) {
      this.report(at, `must be a list (${what}), not ${this.describe(node)}`);
      return undefined;
    }
    return node.items.map((item, i) => ({ node: item as Node, path: `${at.path}[${i}]` }));
  }

  string(at: At, what: string): string | undefined {
    const value = this.scalar(at);
    if (typeof value !== 'string') {
      this.report(at, `must be ${what}, not ${this.describe(this.deref(at.node))}${typeof value === 'number' || typeof value === 'boolean' ? ' (quote it)' : ''}`);
      return undefined;
    }
    return value;
  }

  integer(at: At, what: string): number | undefined {
    const value = this.scalar(at);
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
      this.report(at, `must be ${what}, not ${this.describe(this.deref(at.node))}`);
      return undefined;
    }
    return value;
  }

  isScalarString(at: At): boolean {
    return typeof this.scalar(at) === 'string';
  }

  private scalar(at: At): unknown {
    const node = this.deref(at.node);
    return isScalar(node) ? node.value : undefined;
  }

  private deref(node: Node | null | undefined): Node | null | undefined {
    return isAlias(node) ? (node.resolve(this.doc) as Node | undefined) : node;
  }

  private describe(node: Node | null | undefined): string {
    if (node === null || node === undefined) return 'nothing';
    if (isMap(node)) return 'a mapping';
    if (isSeq(node)) return 'a list';
    if (isScalar(node)) {
      const v = node.value;
      if (v === null) return 'nothing';
      if (typeof v === 'string') return `the text ${JSON.stringify(v)}`;
      return `${typeof v === 'number' ? 'the number' : 'the value'} ${String(v)}`;
    }
    return 'that';
  }
}
