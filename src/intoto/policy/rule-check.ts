import type { CelFunc } from '@bufbuild/cel';
import type { Expr, ParsedRule } from './rule-shape.js';
import { assignable, BOOL, DYN, fromCelType, join, listOf, mapOf, scalar, same, STRING, typeName, type RuleType } from './rule-types.js';

/** A problem the checker found, at an offset into the rule's text. */
export class RuleTypeError extends Error {
  constructor(
    message: string,
    readonly offset: number | undefined,
  ) {
    super(message);
  }
}

interface Overload {
  readonly target: RuleType | undefined;
  readonly args: readonly RuleType[];
  readonly result: RuleType;
}

/** Type names that are values (`type(x) == string`). */
const TYPE_IDENTS = new Set(['bool', 'int', 'uint', 'double', 'string', 'bytes', 'list', 'map', 'null_type', 'type']);

/**
 * A type checker for rules. @bufbuild/cel 0.6 parses and evaluates but does not check (its `check` is not
 * exported, and handles constants and identifiers only), so this is evident's: it resolves identifiers
 * against the declared variables and comprehension scopes, fields of records, indexing, and every call
 * against the overloads of the evaluator's own function table, and requires the rule to be a bool. Values
 * of type `dyn` (the predicate, parsed JSON) are checked when evaluated, as CEL's checker leaves them.
 */
export class RuleChecker {
  private readonly overloads = new Map<string, Overload[]>();

  constructor(
    private readonly variables: ReadonlyMap<string, RuleType>,
    funcs: Iterable<CelFunc>,
  ) {
    for (const f of funcs) {
      const list = this.overloads.get(f.name) ?? [];
      list.push({ target: f.target && fromCelType(f.target), args: f.arguments.map(fromCelType), result: fromCelType(f.result) });
      this.overloads.set(f.name, list);
    }
  }

  /**
   * The rule's type, which must be bool (or dyn, decided when evaluated).
   *
   * @throws RuleTypeError naming the first problem and where it is
   */
  check(parsed: ParsedRule): RuleType {
    const positions = parsed.sourceInfo?.positions ?? {};
    const t = this.expr(parsed.expr, new Map(), positions);
    if (t.kind !== 'bool' && t.kind !== 'dyn') {
      throw new RuleTypeError(
        `a rule must be true or false (a bool), and this one is of type ${typeName(t)}`,
        positions[String(parsed.expr.id)],
      );
    }
    return t;
  }

  private expr(e: Expr, scope: ReadonlyMap<string, RuleType>, positions: Record<string, number>): RuleType {
    const fail = (message: string): never => {
      throw new RuleTypeError(message, positions[String(e.id)]);
    };
    const kind = e.exprKind;
    switch (kind.case) {
      case 'constExpr':
        return constantType(kind.value.constantKind.case);
      case 'identExpr': {
        const name = kind.value.name;
        const t = scope.get(name) ?? this.variables.get(name);
        if (t !== undefined) return t;
        if (TYPE_IDENTS.has(name)) return scalar('type');
        return fail(`undeclared reference to '${name}' (the variables are ${[...this.variables.keys()].join(', ')})`);
      }
      case 'selectExpr': {
        const { operand, field, testOnly } = kind.value;
        const t = this.expr(operand!, scope, positions);
        const fieldType = this.field(t, field, fail);
        return testOnly ? BOOL : fieldType;
      }
      case 'callExpr':
        return this.call(kind.value, scope, positions, fail);
      case 'listExpr':
        return listOf(join(kind.value.elements.map((x) => this.expr(x, scope, positions))));
      case 'structExpr': {
        if (kind.value.messageName !== '') return fail(`creating messages (${kind.value.messageName}{…}) is not supported in rules`);
        const keys: RuleType[] = [];
        const values: RuleType[] = [];
        for (const entry of kind.value.entries) {
          if (entry.keyKind.case === 'mapKey') {
            const k = this.expr(entry.keyKind.value, scope, positions);
            if (!['int', 'uint', 'bool', 'string', 'dyn'].includes(k.kind))
              fail(`a map key must be an int, uint, bool or string, not ${typeName(k)}`);
            keys.push(k);
          }
          values.push(this.expr(entry.value!, scope, positions));
        }
        return mapOf(join(keys), join(values));
      }
      case 'comprehensionExpr': {
        const c = kind.value;
        const range = this.expr(c.iterRange!, scope, positions);
        let iter: RuleType;
        let iter2: RuleType = DYN;
        switch (range.kind) {
          case 'list':
            [iter, iter2] = c.iterVar2 !== '' ? [scalar('int'), range.element] : [range.element, DYN];
            break;
          case 'map':
            [iter, iter2] = [range.key, range.value];
            break;
          case 'record':
            iter = STRING;
            break;
          case 'dyn':
            iter = DYN;
            break;
          default:
            return fail(`${typeName(range)} cannot be iterated (all, exists, map and filter take a list or a map)`);
        }
        const accu = this.expr(c.accuInit!, scope, positions);
        const withAccu = new Map(scope).set(c.accuVar, accu);
        const inLoop = new Map(withAccu).set(c.iterVar, iter);
        if (c.iterVar2 !== '') inLoop.set(c.iterVar2, iter2);
        this.expr(c.loopCondition!, inLoop, positions);
        const step = this.expr(c.loopStep!, inLoop, positions);
        // map() starts from [] (list(dyn)) and adds lists of its elements: the accumulator keeps the wider type
        const after = same(step, accu) ? accu : DYN;
        return this.expr(c.result!, new Map(scope).set(c.accuVar, after), positions);
      }
      default:
        return fail('this expression cannot be evaluated');
    }
  }

  /** The type of `field` of a value of type `t` (`x.field`, and `has(x.field)`). */
  private field(t: RuleType, field: string, fail: (message: string) => never): RuleType {
    switch (t.kind) {
      case 'record': {
        const f = t.fields[field];
        if (f === undefined || !Object.hasOwn(t.fields, field)) {
          return fail(`${t.name} has no field '${field}' (its fields are ${Object.keys(t.fields).join(', ')})`);
        }
        return f;
      }
      case 'map':
        if (!assignable(t.key, STRING)) fail(`${typeName(t)} has no fields: its keys are not strings`);
        return t.value;
      case 'dyn':
        return DYN;
      default:
        return fail(`${typeName(t)} has no fields (field '${field}')`);
    }
  }

  private call(
    call: Extract<Expr['exprKind'], { case: 'callExpr' }>['value'],
    scope: ReadonlyMap<string, RuleType>,
    positions: Record<string, number>,
    fail: (message: string) => never,
  ): RuleType {
    const target = call.target === undefined ? undefined : this.expr(call.target, scope, positions);
    const args = call.args.map((a) => this.expr(a, scope, positions));
    const name = call.function;
    const shown = () => `${target !== undefined ? `${typeName(target)}.` : ''}(${args.map(typeName).join(', ')})`;
    switch (name) {
      case '_&&_':
      case '_||_':
      case '@not_strictly_false':
        for (const a of args) if (!assignable(BOOL, a)) fail(`found no matching overload for '${name}' applied to '${shown()}'`);
        return BOOL;
      case '_?_:_':
        if (!assignable(BOOL, args[0]!)) fail(`the condition of ?: must be a bool, not ${typeName(args[0]!)}`);
        return join([args[1]!, args[2]!]);
      case '_[_]':
        return index(args[0]!, args[1]!, call.args[1]!, fail);
    }
    const candidates = (this.overloads.get(name) ?? []).filter(
      (o) =>
        (o.target === undefined) === (target === undefined) &&
        (o.target === undefined || assignable(o.target, target!)) &&
        o.args.length === args.length &&
        o.args.every((p, i) => assignable(p, args[i]!)),
    );
    if (candidates.length === 0) {
      if (!this.overloads.has(name)) return fail(`undeclared reference to function '${name}'`);
      return fail(`found no matching overload for '${name}' applied to '${shown()}'`);
    }
    return join(candidates.map((c) => c.result));
  }
}

/** `x[i]`: a list by an int, a map by its key type, a record by a field name. */
function index(container: RuleType, key: RuleType, keyExpr: Expr, fail: (message: string) => never): RuleType {
  switch (container.kind) {
    case 'list':
      if (!['int', 'uint', 'dyn'].includes(key.kind)) fail(`a list is indexed by an int, not ${typeName(key)}`);
      return container.element;
    case 'map':
      if (!assignable(container.key, key)) fail(`${typeName(container)} is indexed by ${typeName(container.key)}, not ${typeName(key)}`);
      return container.value;
    case 'record': {
      if (!assignable(STRING, key)) fail(`${container.name} is indexed by a field name, not ${typeName(key)}`);
      const constant = keyExpr.exprKind.case === 'constExpr' ? keyExpr.exprKind.value.constantKind : undefined;
      if (constant?.case !== 'stringValue') return DYN;
      const f = Object.hasOwn(container.fields, constant.value) ? container.fields[constant.value] : undefined;
      return f ?? fail(`${container.name} has no field '${constant.value}' (its fields are ${Object.keys(container.fields).join(', ')})`);
    }
    case 'dyn':
      return DYN;
    default:
      return fail(`${typeName(container)} cannot be indexed`);
  }
}

function constantType(kind: string | undefined): RuleType {
  switch (kind) {
    case 'boolValue':
      return BOOL;
    case 'int64Value':
      return scalar('int');
    case 'uint64Value':
      return scalar('uint');
    case 'doubleValue':
      return scalar('double');
    case 'stringValue':
      return STRING;
    case 'bytesValue':
      return scalar('bytes');
    case 'nullValue':
      return scalar('null');
    case 'durationValue':
      return scalar('duration');
    case 'timestampValue':
      return scalar('timestamp');
    default:
      return DYN;
  }
}
