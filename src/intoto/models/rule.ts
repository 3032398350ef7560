import type { ArtifactRule, RuleTokens } from './types.js';
import { Problems, show } from './problems.js';
import { shellJoin, shellSplit } from './shell-split.js';
import { EvidentError } from '../../errors.js';

const GENERIC = ['CREATE', 'DELETE', 'MODIFY', 'ALLOW', 'DISALLOW', 'REQUIRE'] as const;
const KEYWORDS = ['MATCH', ...GENERIC];
const MATCH_FORM = 'MATCH <pattern> [IN <prefix>] WITH MATERIALS|PRODUCTS [IN <prefix>] FROM <step>';

/**
 * Parses one artifact rule, accepting exactly what the reference's `rulelib.unpack_rule` accepts:
 * keywords in any case, `<KEYWORD> <pattern>` for CREATE/DELETE/MODIFY/ALLOW/DISALLOW/REQUIRE, and
 * `MATCH <pattern> [IN <prefix>] WITH MATERIALS|PRODUCTS [IN <prefix>] FROM <step>`. The tokens are kept
 * as written, because the layout is signed over them.
 *
 * @example parseRule(['MATCH', 'src/*', 'WITH', 'PRODUCTS', 'FROM', 'code'], 'steps[1].expected_materials[0]')
 * @throws EvidentError BAD_INPUT `<where>: MATCH needs WITH MATERIALS|PRODUCTS …`
 */
export function parseRule(tokens: unknown, where: string): ArtifactRule {
  const problems = new Problems();
  const rule = checkRule(tokens, where, problems);
  problems.throwIfAny();
  return rule as ArtifactRule;
}

/** Like parseRule, but adds the problem to `problems` (and returns undefined) instead of throwing. */
export function checkRule(tokens: unknown, where: string, problems: Problems): ArtifactRule | undefined {
  if (!Array.isArray(tokens) || tokens.some((t) => typeof t !== 'string')) {
    problems.add(where, `a rule is a list of strings like ["CREATE", "foo"], not ${show(tokens)}`);
    return undefined;
  }
  const result = unpack(tokens as string[]);
  if (typeof result === 'string') {
    problems.add(where, `${result}; rule: ${shellJoin(tokens as string[])}`);
    return undefined;
  }
  return result;
}

/**
 * Parses a rule written as one string (the layout YAML's form), split like the reference's
 * `add_material_rule_from_string` (Python `shlex.split`): a pattern with spaces is quoted, 'my file'.
 *
 * @example parseRuleString('MATCH src/* WITH PRODUCTS FROM code')
 */
export function parseRuleString(text: string, where = 'rule'): ArtifactRule {
  let tokens: string[];
  try {
    tokens = shellSplit(text);
  } catch (e) {
    throw new EvidentError('BAD_INPUT', `${where}: ${(e as Error).message}`);
  }
  return parseRule(tokens, where);
}

/** The tokens a rule is written as, in the reference's `pack_rule` form (keywords upper case). */
export function ruleToTokens(rule: ArtifactRule): RuleTokens {
  if (rule.type !== 'MATCH') return [rule.type, rule.pattern];
  const tokens = ['MATCH', rule.pattern];
  if (rule.sourcePrefix) tokens.push('IN', rule.sourcePrefix);
  tokens.push('WITH', rule.destinationType.toUpperCase());
  if (rule.destinationPrefix) tokens.push('IN', rule.destinationPrefix);
  tokens.push('FROM', rule.destinationStep);
  return tokens;
}

/** The rule, or what is wrong with it. */
function unpack(tokens: string[]): ArtifactRule | string {
  const keyword = tokens[0]?.toUpperCase();
  if (keyword === undefined || !KEYWORDS.includes(keyword)) {
    return `${tokens.length === 0 ? 'an empty rule' : `unknown rule '${tokens[0]}'`}: a rule starts with one of ${KEYWORDS.join(', ')}, then a pattern`;
  }
  if (tokens.length < 2) return `${keyword} needs a pattern: ${keyword === 'MATCH' ? MATCH_FORM : `${keyword} <pattern>`}`;
  const pattern = tokens[1]!;
  if (keyword !== 'MATCH') {
    if (tokens.length !== 2) return `${keyword} takes exactly one pattern (${keyword} <pattern>); quote a pattern that holds spaces`;
    return { type: keyword as (typeof GENERIC)[number], pattern, tokens: [...tokens] };
  }
  return unpackMatch(tokens, pattern);
}

function unpackMatch(tokens: string[], pattern: string): ArtifactRule | string {
  const at = (i: number) => tokens[i]?.toLowerCase();
  const fail = (what: string) => `MATCH ${what}: ${MATCH_FORM}`;
  let i = 2;
  let sourcePrefix: string | undefined;
  if (at(i) === 'in') {
    if (tokens[i + 1] === undefined) return fail('needs a prefix after IN');
    sourcePrefix = tokens[i + 1];
    i += 2;
  }
  if (at(i) !== 'with') {
    return fail(`needs WITH MATERIALS|PRODUCTS after the ${sourcePrefix === undefined ? 'pattern' : 'IN prefix'}${found(tokens[i])}`);
  }
  const destination = at(i + 1);
  if (destination !== 'materials' && destination !== 'products') return fail(`needs WITH MATERIALS|PRODUCTS${found(tokens[i + 1])}`);
  i += 2;
  let destinationPrefix: string | undefined;
  if (at(i) === 'in') {
    if (tokens[i + 1] === undefined) return fail('needs a prefix after IN');
    destinationPrefix = tokens[i + 1];
    i += 2;
  }
  if (at(i) !== 'from')
    return fail(`needs FROM <step> after WITH ${tokens[i - (destinationPrefix === undefined ? 1 : 3)]}${found(tokens[i])}`);
  const step = tokens[i + 1];
  if (step === undefined) return fail('needs a step name after FROM');
  if (tokens.length > i + 2) return fail(`has '${tokens[i + 2]}' after FROM ${step}, where the rule must end`);
  return {
    type: 'MATCH',
    pattern,
    sourcePrefix,
    destinationType: destination,
    destinationPrefix,
    destinationStep: step,
    tokens: [...tokens],
  };
}

function found(token: string | undefined): string {
  return token === undefined ? ' (the rule ends there)' : ` (found '${token}')`;
}
