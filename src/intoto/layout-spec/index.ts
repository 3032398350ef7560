export { compileLayoutSpec } from './compile.js';
export type { CompileOptions } from './compile.js';
export { compileExpires, defaultExpires } from './expires.js';
export { rootEntries } from './roots.js';
