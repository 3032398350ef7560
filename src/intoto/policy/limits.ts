/**
 * The bounds that keep a layout's CEL rules (docs/policy.md) from hanging or exhausting verification.
 * @bufbuild/cel tracks no cost, so the bound is computed: the expression's shape is limited when it is
 * read (length, nodes, nesting), and before each evaluation an upper bound of its work is computed from the
 * sizes of the values it is given (policy/cost.ts). Kept apart from the evaluator so the layout model can
 * check lengths without loading CEL.
 */

/** The longest rule text: a rule is a line of policy, not a program. */
export const MAX_RULE_LENGTH = 4096;
/** The most nodes of a parsed rule, macros expanded (`xs.all(x, p)` is about eight, plus `p`). */
export const MAX_RULE_NODES = 1000;
/** How deep the parsed expression may nest: the parser, the checker and the evaluator recurse over it. */
export const MAX_RULE_DEPTH = 64;
/** How deep comprehensions (all, exists, exists_one, map, filter) may nest inside one another. */
export const MAX_COMPREHENSION_NESTING = 2;
/**
 * The most work one evaluation may be bounded by, in node evaluations (policy/cost.ts): about a second at
 * the slowest macros. A rule whose bound for the values at hand is larger is refused, not started.
 */
export const EVALUATION_BUDGET = 10_000_000;
