import type { parse } from '@bufbuild/cel';

export type ParsedRule = ReturnType<typeof parse>;
export type Expr = ParsedRule['expr'];

/** What the cost bound (cost.ts) and the limits need to know of a parsed rule. */
export interface RuleShape {
  /** Nodes, macros expanded. */
  readonly nodes: number;
  /** The deepest node, the root being 1. */
  readonly depth: number;
  /** How many comprehensions (expanded macros) it has. */
  readonly comprehensions: number;
  /** How deep comprehensions nest in one another's loop (0: none; `xs.all(x, ys.exists(y, …))` is 2). */
  readonly nesting: number;
  /** `_+_` calls: each may join two lists (or strings), the only way a rule makes a collection larger than its inputs. */
  readonly additions: number;
  /** The variables it reads (names not bound by one of its comprehensions). */
  readonly variables: ReadonlySet<string>;
}

interface Visit {
  readonly expr: Expr;
  readonly depth: number;
  readonly nesting: number;
  readonly bound: ReadonlySet<string>;
}

/**
 * The shape of a parsed rule, walked without recursion: the limits on depth are checked with it, so it
 * must not itself overflow the stack on the expressions they exist to refuse.
 */
export function ruleShape(root: Expr): RuleShape {
  let nodes = 0;
  let depth = 0;
  let comprehensions = 0;
  let nesting = 0;
  let additions = 0;
  const variables = new Set<string>();
  const stack: Visit[] = [{ expr: root, depth: 1, nesting: 0, bound: new Set() }];
  while (stack.length > 0) {
    const { expr, depth: d, nesting: n, bound } = stack.pop()!;
    nodes++;
    depth = Math.max(depth, d);
    const push = (child: Expr | undefined, inner: { nesting?: number; bound?: ReadonlySet<string> } = {}) => {
      if (child !== undefined) stack.push({ expr: child, depth: d + 1, nesting: inner.nesting ?? n, bound: inner.bound ?? bound });
    };
    const kind = expr.exprKind;
    switch (kind.case) {
      case 'identExpr':
        if (!bound.has(kind.value.name)) variables.add(kind.value.name);
        break;
      case 'selectExpr':
        push(kind.value.operand);
        break;
      case 'callExpr':
        if (kind.value.function === '_+_') additions++;
        push(kind.value.target);
        for (const arg of kind.value.args) push(arg);
        break;
      case 'listExpr':
        for (const element of kind.value.elements) push(element);
        break;
      case 'structExpr':
        for (const entry of kind.value.entries) {
          if (entry.keyKind.case === 'mapKey') push(entry.keyKind.value);
          push(entry.value);
        }
        break;
      case 'comprehensionExpr': {
        const c = kind.value;
        comprehensions++;
        nesting = Math.max(nesting, n + 1);
        const withAccu = new Set([...bound, c.accuVar]);
        const inLoop = new Set([...withAccu, c.iterVar, ...(c.iterVar2 !== '' ? [c.iterVar2] : [])]);
        push(c.iterRange);
        push(c.accuInit);
        push(c.loopCondition, { nesting: n + 1, bound: inLoop });
        push(c.loopStep, { nesting: n + 1, bound: inLoop });
        push(c.result, { bound: withAccu });
        break;
      }
      default:
        break;
    }
  }
  return { nodes, depth, comprehensions, nesting, additions, variables };
}
