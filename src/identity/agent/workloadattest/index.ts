export { WorkloadAttestationError, type WorkloadAttestationErrorReason } from './errors.js';
export { ExeHasher } from './exe-hash.js';
export { IdNames, parseIdFile } from './names.js';
export { HeldProcess, parseStartTime, type ConnectedProcess } from './process.js';
export { WorkloadAttestorRegistry } from './registry.js';
export { parseStatusIds, UnixAttestor, unixPlugin, type ProcStatusIds, type UnixAttestorOptions } from './unix.js';
export type { ExecutableId, Selector, WorkloadAttestor, WorkloadAttestorPlugin, WorkloadProcess } from './types.js';
