export { EntryValidationError, entryToJson, parseSelector, validateEntry, type EntryInput, type FieldProblem } from './validate.js';
export { agentNodeSelectors, entriesForAgent, selectorsSubset } from './authorize.js';
export { selectorKindsFor, type SelectorKinds } from './selector-kinds.js';
