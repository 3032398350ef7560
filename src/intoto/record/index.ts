/** Recording artifacts and byproducts of a step, as the in-toto reference's runlib does. */
export { collectArtifacts } from './collect.js';
export type { CollectTuning } from './collect.js';
export { DEFAULT_EXCLUDE_PATTERNS, compileExcludes } from './excludes.js';
export type { ExcludeMatcher } from './excludes.js';
export { pyNormpath } from './normpath.js';
export { runCommand } from './run-command.js';
export type { RunCommandOptions, TeeTarget } from './run-command.js';
export type { ArtifactMap, Byproducts, CollectOptions, HashDict } from './types.js';
