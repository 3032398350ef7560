import { parse, plan, type CelResult } from '@bufbuild/cel';
import { bracketDepth } from './bracket-depth.js';
import { MAX_COMPREHENSION_NESTING, MAX_RULE_DEPTH, MAX_RULE_LENGTH, MAX_RULE_NODES } from './limits.js';
import { RuleChecker, RuleTypeError } from './rule-check.js';
import { ruleEnv, RULE_VARIABLES, type RuleBindings } from './rule-env.js';
import { ruleShape, type ParsedRule, type RuleShape } from './rule-shape.js';

/** A rule ready to evaluate: parsed, within the limits, type-checked and planned. */
export interface CompiledRule {
  readonly text: string;
  readonly parsed: ParsedRule;
  readonly shape: RuleShape;
  readonly run: (bindings: RuleBindings) => CelResult;
}

/** Why a rule cannot be used: one line that follows "the rule", with the column (from 1) of the rule's text it is at, when known. */
export interface RuleProblem {
  readonly problem: string;
  readonly column?: number;
}

let checker: RuleChecker | undefined;

/**
 * Parses, bounds, type-checks and plans one rule; the same at `layout create` (which reports the problem
 * with the spec's line) and at verification (which fails the rule with it). The bounds (limits.ts) come
 * first and the parser's stack overflow is caught, so a hostile rule costs at most its length in work.
 *
 * @example const r = compileRule("predicate.scanner.uri == 'pkg:github/aquasecurity/trivy'"); if ('problem' in r) …
 */
export function compileRule(text: string): CompiledRule | RuleProblem {
  if (text.length > MAX_RULE_LENGTH)
    return { problem: `is ${text.length} characters long, more than the ${MAX_RULE_LENGTH} a rule may have` };
  // before parsing: the parser's time is cubic in nested parentheses, which the parsed expression does not show
  const brackets = bracketDepth(text, MAX_RULE_DEPTH);
  if (brackets.beyond !== undefined)
    return { problem: `nests ${brackets.depth} levels deep, more than the ${MAX_RULE_DEPTH} a rule may`, column: brackets.beyond + 1 };
  let parsed: ParsedRule;
  try {
    parsed = parse(text);
  } catch (e) {
    if (e instanceof RangeError) return { problem: `nests too deeply to be read (at most ${MAX_RULE_DEPTH} levels)` };
    return syntaxProblem((e as Error).message);
  }
  const shape = ruleShape(parsed.expr);
  if (shape.depth > MAX_RULE_DEPTH) return { problem: `nests ${shape.depth} levels deep, more than the ${MAX_RULE_DEPTH} a rule may` };
  if (shape.nodes > MAX_RULE_NODES)
    return { problem: `has ${shape.nodes} nodes (macros expanded), more than the ${MAX_RULE_NODES} a rule may have` };
  if (shape.nesting > MAX_COMPREHENSION_NESTING) {
    return {
      problem: `nests all/exists/exists_one/map/filter ${shape.nesting} deep, more than the ${MAX_COMPREHENSION_NESTING} a rule may (each level multiplies the work by the size of a list)`,
    };
  }
  const env = ruleEnv();
  checker ??= new RuleChecker(RULE_VARIABLES, env.funcs);
  try {
    checker.check(parsed);
  } catch (e) {
    if (!(e instanceof RuleTypeError)) throw e;
    return { problem: `does not type-check: ${e.message}`, ...(e.offset !== undefined ? { column: e.offset + 1 } : {}) };
  }
  const run = plan(env, parsed);
  return { text, parsed, shape, run };
}

/** The parser's `<input>:1:7: found + but expecting …` as a problem at column 7, its list of expectations cut short. */
function syntaxProblem(message: string): RuleProblem {
  const m = /^<input>:(\d+):(\d+): ([\s\S]*)$/.exec(message);
  if (m === null) return { problem: `is not CEL: ${message.split('\n')[0]}` };
  const [, line, column, what] = m as unknown as [string, string, string, string];
  const text = what.split('\n')[0]!.replace(/ but expecting (.{60}).*$/, ' but expecting $1…');
  return { problem: `is not CEL: ${text}${line !== '1' ? ` (line ${line})` : ''}`, column: Number(column) };
}
