import { MAX_PROBLEMS, Problems } from '../models/problems.js';
import { Composer, CST, isAlias, isMap, isScalar, isSeq, Lexer, LineCounter, Parser, type Alias, type Document, type Node } from 'yaml';

/** A YAML node with the spec path users know it by (`steps[1].materials[0]`). */
export interface At {
  readonly node: Node | null | undefined;
  readonly path: string;
}

/** How deep collections may nest: a spec needs six levels; yaml composes (and we check) recursively. */
export const MAX_DEPTH = 64;
/** yaml's maxAliasCount: enough to share a list of rules among steps, not to multiply the work of a walk. */
export const MAX_ALIAS_COUNT = 100;

/**
 * Reads a layout spec's YAML with line numbers kept, so every problem can be reported as
 * `<file>:<line>: <path>: <what>`. Problems are collected; the compiler throws once at the end.
 *
 * Hostile YAML costs time linear in its size: nesting deeper than MAX_DEPTH is refused before the
 * (recursive) composition, duplicate keys are found with one set per mapping (yaml's own check compares
 * every pair), aliases are resolved once and may not expand past MAX_ALIAS_COUNT, and only the first
 * MAX_PROBLEMS problems are kept (yaml's prettyErrors, which copies the context of each error, is off).
 */
export class SpecReader {
  readonly root: At;
  /** The first MAX_PROBLEMS problems, `<file>:<line>: <what>`, and a count of the rest. */
  private readonly problems = new Problems();
  private readonly lines = new LineCounter();
  /** Each alias node → the node it names (the last anchor of that name before it, as YAML says). */
  private readonly aliases = new Map<Alias, Node | undefined>();

  constructor(
    readonly file: string,
    text: string,
  ) {
    const tokens = this.parse(text);
    this.root = { node: tokens === undefined ? undefined : this.compose(tokens, text.length), path: '' };
  }

  /** How many problems were found (more than are kept). */
  get problemCount(): number {
    return this.problems.size;
  }

  /** The problems in the order of their lines (stable), as a reader of the spec goes through it; then how many more. */
  sortedProblems(): string[] {
    const lineOf = (p: string) => Number(/^.*?:(\d+): /.exec(p.slice(this.file.length))?.[1] ?? 0);
    const sorted = this.problems
      .kept()
      .map((p, i) => ({ p, i, line: p.startsWith(`${this.file}:`) ? lineOf(p) : 0 }))
      .sort((a, b) => a.line - b.line || a.i - b.i)
      .map(({ p }) => p);
    const more = this.problems.unlisted();
    if (more !== undefined) sorted.push(`${this.file}: ${more}`);
    return sorted;
  }

  report(at: At, message: string): void {
    this.add(at.node?.range?.[0], `${at.path === '' ? '' : `${at.path}: `}${message}`);
  }

  /**
   * yaml's concrete syntax tree, built one lexical token at a time so that nesting past MAX_DEPTH is
   * refused as soon as it is reached: each level costs the parser memory, and composing recurses.
   * Undefined when refused; the problems say why.
   */
  private parse(text: string): CST.Token[] | undefined {
    const parser = new Parser(this.lines.addNewLine);
    this.lines.addNewLine(0);
    const tokens: CST.Token[] = [];
    const errors: CST.ErrorToken[] = [];
    let errorCount = 0;
    const take = (token: CST.Token) => {
      if (token.type === 'error' && ++errorCount <= MAX_PROBLEMS) errors.push(token);
      // past the limit nothing is composed: the rest need only be counted
      if (errorCount <= MAX_PROBLEMS) tokens.push(token);
    };
    for (const lexeme of new Lexer().lex(text)) {
      for (const token of parser.next(lexeme)) take(token);
      // the parser's stack holds the document, the open collections and perhaps a scalar
      if (parser.stack.length > MAX_DEPTH + 1 && parser.stack.filter((t) => CST.isCollection(t)).length > MAX_DEPTH) {
        this.add(parser.offset, `collections are nested more than ${MAX_DEPTH} levels deep`);
        return undefined;
      }
    }
    for (const token of parser.end()) take(token);
    if (errorCount > MAX_PROBLEMS) {
      // composing would make an error object of each: report the parser's own, as the composer words them
      for (const e of errors) this.add(e.offset, `${e.message}: ${JSON.stringify(e.source)}`);
      this.problems.addUnlisted(errorCount - errors.length);
      return undefined;
    }
    return tokens;
  }

  /** The document's root node, or undefined when the YAML has problems (reported). */
  private compose(tokens: CST.Token[], length: number): Node | null | undefined {
    // uniqueKeys off: duplicates are found in index(), in linear time
    const docs = Array.from(new Composer({ uniqueKeys: false }).compose(tokens, true, length));
    const doc = docs[0] as Document.Parsed;
    if (docs.length > 1) this.add(docs[1]!.range[0], 'a layout spec is one YAML document; this starts a second');
    for (const e of [...doc.errors, ...doc.warnings]) this.add(e.pos[0], e.message.split('\n')[0]!);
    if (this.problemCount > 0) return undefined;
    this.index(doc.contents);
    if (this.problemCount > 0) return undefined;
    try {
      // mapAsMap: a key that is a list must not make yaml print a warning about stringifying it
      doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT, mapAsMap: true });
    } catch (e) {
      const excessive = /Excessive alias count/.test((e as Error).message);
      this.add(
        undefined,
        excessive
          ? `aliases expand too much (an anchor's content may be used at most ${MAX_ALIAS_COUNT} times, counting nested aliases)`
          : (e as Error).message,
      );
      return undefined;
    }
    return doc.contents as Node | null;
  }

  /**
   * One walk in document order: resolves every alias to its anchor (yaml's Alias.resolve walks the whole
   * document on each call) and reports duplicate keys (of which one would silently win).
   */
  private index(contents: unknown): void {
    const anchors = new Map<string, Node>();
    const stack: unknown[] = [contents];
    while (stack.length > 0) {
      const node = stack.pop();
      if (isAlias(node)) {
        this.aliases.set(node, anchors.get(node.source));
        continue;
      }
      if (isScalar(node) || isMap(node) || isSeq(node)) {
        if (node.anchor) anchors.set(node.anchor, node);
      }
      if (isMap(node)) {
        const keys = new Set<unknown>();
        for (const pair of node.items) {
          const key = pair.key as Node | null;
          if (!isScalar(key)) continue;
          if (keys.has(key.value)) this.add(key.range?.[0], 'Map keys must be unique');
          keys.add(key.value);
        }
        for (let i = node.items.length - 1; i >= 0; i--) stack.push(node.items[i]!.value, node.items[i]!.key);
      } else if (isSeq(node)) {
        for (let i = node.items.length - 1; i >= 0; i--) stack.push(node.items[i]);
      }
    }
  }

  private add(offset: number | undefined, message: string): void {
    const line = offset === undefined ? '' : `:${this.lines.linePos(offset).line}`;
    this.problems.add(`${this.file}${line}`, message);
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
      this.report(
        at,
        `must be ${what}, not ${this.describe(this.deref(at.node))}${typeof value === 'number' || typeof value === 'boolean' ? ' (quote it)' : ''}`,
      );
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

  boolean(at: At, what: string): boolean | undefined {
    const value = this.scalar(at);
    if (typeof value !== 'boolean') {
      this.report(at, `must be ${what}, not ${this.describe(this.deref(at.node))}`);
      return undefined;
    }
    return value;
  }

  isMapping(at: At): boolean {
    return isMap(this.deref(at.node));
  }

  isScalarString(at: At): boolean {
    return typeof this.scalar(at) === 'string';
  }

  private scalar(at: At): unknown {
    const node = this.deref(at.node);
    return isScalar(node) ? node.value : undefined;
  }

  private deref(node: Node | null | undefined): Node | null | undefined {
    return isAlias(node) ? this.aliases.get(node) : node;
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
