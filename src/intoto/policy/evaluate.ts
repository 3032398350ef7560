import { isCelError } from '@bufbuild/cel';
import type { CompiledRule } from './compile-rule.js';
import { costBound } from './cost.js';
import { EVALUATION_BUDGET } from './limits.js';
import type { RuleBindings } from './rule-env.js';
import { showValue } from './show-value.js';

/** What evaluating one rule over one attestation gave. */
export type RuleOutcome =
  | { readonly kind: 'true' }
  | { readonly kind: 'false' }
  /** It could not be evaluated; `missing` when because a field or key it reads is absent (allow_if_no_claim). */
  | { readonly kind: 'error'; readonly message: string; readonly missing: boolean }
  /** Not started: the bound of its work for these inputs is over EVALUATION_BUDGET. */
  | { readonly kind: 'cost'; readonly bound: number; readonly largest: number };

/**
 * Evaluates a compiled rule over `bindings` (variable → value; JSON values, Maps, a Timestamp), whose
 * largest list or map has `largest` entries (cost.ts). The cost bound is checked first; an error (a
 * missing key, no matching overload, a string or list too large for the engine) is an outcome, never a
 * throw, and so is a result other than a bool.
 */
export function evaluateRule(rule: CompiledRule, bindings: RuleBindings, largest: number): RuleOutcome {
  const bound = costBound(rule.shape, largest);
  if (bound > EVALUATION_BUDGET) return { kind: 'cost', bound, largest };
  let result: unknown;
  try {
    result = rule.run(bindings);
  } catch (e) {
    // the engine turns most failures into values; a RangeError (a string or array over the engine's size) may escape
    if (e instanceof RangeError) return { kind: 'error', message: `too large to evaluate (${e.message})`, missing: false };
    throw e;
  }
  if (result === true) return { kind: 'true' };
  if (result === false) return { kind: 'false' };
  if (isCelError(result)) {
    const message = result.message;
    return { kind: 'error', message, missing: /^(field not found|no such key|no such attribute)\b/.test(message) };
  }
  return { kind: 'error', message: `evaluated to ${showValue(result)}, not true or false`, missing: false };
}
