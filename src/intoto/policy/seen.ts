import { CelScalar, celEnv, isCelError, isCelList, isCelMap, plan, unparse, type CelEnv, type CelInput } from '@bufbuild/cel';
import { appendConcat } from './append-list.js';
import type { CompiledRule } from './compile-rule.js';
import { RULE_VARIABLES, ruleEnv, type RuleBindings } from './rule-env.js';
import type { Expr } from './rule-shape.js';
import { showValue } from './show-value.js';

/** Lines of what a failed rule saw, at most. */
const MAX_SEEN = 6;
/** Elements named per comprehension (the first that fail an `all`, the first that match an `exists`). */
const MAX_WITNESSES = 3;

/**
 * What a rule that did not hold saw, for its message: the value of each field it reads from its
 * variables (`predicate.scanner.uri = "…"`, a list shortened), and for each `all` (exists, exists_one,
 * filter) not inside another, the first elements that fail (match) it, by index
 * (`fails at predicate.findings[17] = {"id": "CVE-…", "severity": "CRITICAL", …}`), which is what a person
 * needs to act. Only called after a failure, and only for a rule whose cost bound was admitted: each
 * part re-evaluates a sub-expression of it, costing no more than the rule.
 */
export function valuesSeen(rule: CompiledRule, bindings: RuleBindings): string[] {
  const lines: string[] = [];
  const shown = new Set<string>();
  const env = ruleEnv();
  const comprehensions = topComprehensions(rule.parsed.expr);
  // a list a comprehension goes through is told by its size: the elements that matter are named below
  const ranges = new Set(comprehensions.map((c) => unparse(c.iterRange!)));
  for (const ref of references(rule.parsed.expr)) {
    const text = unparse(ref);
    if (shown.has(text)) continue;
    shown.add(text);
    const value = evaluate(env, ref, bindings);
    const size = isCelList(value) || isCelMap(value) ? value.size : undefined;
    lines.push(
      ranges.has(text) && size !== undefined ? `${text} has ${size} ${size === 1 ? 'entry' : 'entries'}` : `${text} = ${describe(value)}`,
    );
  }
  for (const c of comprehensions) lines.push(...witnesses(c, bindings));
  return lines.length > MAX_SEEN ? [...lines.slice(0, MAX_SEEN), `… ${lines.length - MAX_SEEN} more`] : lines;
}

function evaluate(env: CelEnv, expr: Expr, bindings: RuleBindings): unknown {
  try {
    return plan(env, expr)(bindings);
  } catch (e) {
    if (e instanceof RangeError) return e;
    throw e;
  }
}

function describe(value: unknown): string {
  if (isCelError(value) || value instanceof Error) return `(${(value as Error).message})`;
  return showValue(value);
}

/**
 * The fields a rule reads from its variables: the longest chains `v.a.b`, `v.a["k"]`, `v[0]` from a
 * variable (not a comprehension's own), outermost first. `has(v.a)` reads `v`.
 */
function references(root: Expr): Expr[] {
  const out: Expr[] = [];
  const walk = (e: Expr, bound: ReadonlySet<string>): void => {
    if (isReference(e, bound)) {
      out.push(e);
      return;
    }
    const kind = e.exprKind;
    switch (kind.case) {
      case 'selectExpr':
        walk(kind.value.operand!, bound);
        break;
      case 'callExpr':
        if (kind.value.target !== undefined) walk(kind.value.target, bound);
        for (const a of kind.value.args) walk(a, bound);
        break;
      case 'listExpr':
        for (const x of kind.value.elements) walk(x, bound);
        break;
      case 'structExpr':
        for (const entry of kind.value.entries) {
          if (entry.keyKind.case === 'mapKey') walk(entry.keyKind.value, bound);
          walk(entry.value!, bound);
        }
        break;
      case 'comprehensionExpr': {
        const c = kind.value;
        const inner = new Set([...bound, c.accuVar, c.iterVar, c.iterVar2]);
        walk(c.iterRange!, bound);
        walk(c.loopStep!, inner);
        break;
      }
      default:
        break;
    }
  };
  walk(root, new Set());
  return out;
}

/** A chain of field reads and constant indexes from a rule variable: its value is the same wherever it is read. */
function isReference(e: Expr, bound: ReadonlySet<string>): boolean {
  const kind = e.exprKind;
  switch (kind.case) {
    case 'identExpr':
      return !bound.has(kind.value.name) && RULE_VARIABLES.has(kind.value.name);
    case 'selectExpr':
      return !kind.value.testOnly && isReference(kind.value.operand!, bound);
    case 'callExpr':
      return kind.value.function === '_[_]' && kind.value.args[1]!.exprKind.case === 'constExpr' && isReference(kind.value.args[0]!, bound);
    default:
      return false;
  }
}

type Comprehension = Extract<Expr['exprKind'], { case: 'comprehensionExpr' }>['value'];

/** The comprehensions not inside another one's loop: their ranges can be evaluated alone. */
function topComprehensions(root: Expr): Comprehension[] {
  const out: Comprehension[] = [];
  const stack: Expr[] = [root];
  while (stack.length > 0) {
    const e = stack.pop()!;
    const kind = e.exprKind;
    switch (kind.case) {
      case 'comprehensionExpr':
        out.push(kind.value);
        stack.push(kind.value.iterRange!);
        break;
      case 'selectExpr':
        stack.push(kind.value.operand!);
        break;
      case 'callExpr':
        if (kind.value.target !== undefined) stack.push(kind.value.target);
        stack.push(...kind.value.args);
        break;
      case 'listExpr':
        stack.push(...kind.value.elements);
        break;
      default:
        break;
    }
  }
  return out.reverse();
}

/**
 * The body of an expanded `all` (`acc && body`), `exists` (`acc || body`), or `exists_one`/`filter`
 * (`body ? … : acc`), and which answer of it makes an element worth naming; undefined for map.
 */
function bodyOf(c: Comprehension): { body: Expr; naming: 'false' | 'true' } | undefined {
  const step = c.loopStep?.exprKind;
  if (step?.case !== 'callExpr') return undefined;
  const { function: fn, args } = step.value;
  if (fn === '_&&_' && args.length === 2) return { body: args[1]!, naming: 'false' };
  if (fn === '_||_' && args.length === 2) return { body: args[1]!, naming: 'true' };
  if (fn === '_?_:_' && args.length === 3) return { body: args[0]!, naming: 'true' };
  return undefined;
}

function witnesses(c: Comprehension, bindings: RuleBindings): string[] {
  const part = bodyOf(c);
  if (part === undefined || c.iterVar2 !== '') return [];
  const range = evaluate(ruleEnv(), c.iterRange!, bindings);
  const rangeText = unparse(c.iterRange!);
  const isList = isCelList(range);
  if (!isList && !isCelMap(range)) return [];
  const env = envWith(c.iterVar);
  const body = plan(env, part.body);
  const out: string[] = [];
  let i = 0;
  for (const item of isList ? range : range.keys()) {
    let result: unknown;
    try {
      result = body({ ...bindings, [c.iterVar]: item as CelInput });
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      result = e;
    }
    const named = part.naming === 'false' ? result !== true : result === true;
    if (named) {
      const at = isList ? `${rangeText}[${i}] = ${showValue(item)}` : `${rangeText}[${showValue(item)}]`;
      const why = isCelError(result) || result instanceof Error ? ` (${(result as Error).message})` : '';
      out.push(`${part.naming === 'false' ? 'fails at' : 'matches at'} ${at}${why}`);
      if (out.length === MAX_WITNESSES) break;
    }
    i++;
  }
  return out;
}

/** The rules' environment with one more variable, a comprehension's element. */
function envWith(name: string): CelEnv {
  return celEnv({
    variables: Object.fromEntries([...RULE_VARIABLES.keys(), name].map((v) => [v, CelScalar.DYN])),
    funcs: [appendConcat],
  });
}
