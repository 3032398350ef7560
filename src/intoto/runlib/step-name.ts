import { EvidentError } from '../../errors.js';
import { nameProblem } from '../models/problems.js';

/** A step name becomes part of a file name, so one that would leave the link folder is refused up front. */
export function checkStepName(name: string): void {
  const problem = nameProblem(name);
  if (problem !== undefined) throw new EvidentError('BAD_USAGE', `step name: ${problem}`);
}
