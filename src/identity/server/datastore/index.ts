export type {
  AgentStore,
  AttestedAgent,
  BundleStore,
  CaKey,
  CaKeyKind,
  CaKeyStatus,
  CaKeyStore,
  Datastore,
  EntryFilter,
  EntryStore,
  JoinToken,
  JoinTokenStore,
  JoinTokenUse,
  RegistrationEntry,
  Selector,
  StoredBundle,
} from './types.js';
export { openSqliteDatastore } from './sqlite.js';
export { openPostgresDatastore, type PostgresOptions } from './postgres.js';
export { openDatastore, SQLITE_FILE } from './open.js';
export { selectorsKey, sortSelectors } from './selectors.js';
