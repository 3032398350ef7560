import type { Dialect } from '../../../sql/dialect.js';
import { agentStore } from './tables/agents.js';
import { bundleStore } from './tables/bundles.js';
import { caKeyStore } from './tables/ca-keys.js';
import { entryStore } from './tables/entries.js';
import { joinTokenStore } from './tables/join-tokens.js';
import type { Datastore } from './types.js';

/** The datastore over a migrated database: the same stores whichever dialect it speaks. */
export function datastoreOn(db: Dialect): Datastore {
  return {
    kind: db.kind,
    entries: entryStore(db),
    agents: agentStore(db),
    joinTokens: joinTokenStore(db),
    caKeys: caKeyStore(db),
    bundles: bundleStore(db),
    close: () => db.close(),
  };
}
