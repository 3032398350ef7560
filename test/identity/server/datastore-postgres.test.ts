import { openPostgresDatastore } from '../../../src/identity/server/datastore/index.js';
import { runDatastoreContract } from './datastore-contract.js';
import { dropSchema, PG_URL, pgSchemaOrSkip } from './pg-fixture.js';

runDatastoreContract('postgres', async () => {
  const schema = await pgSchemaOrSkip();
  if (schema === undefined) return undefined;
  return {
    open: () => openPostgresDatastore(PG_URL, { schema, max: 4 }),
    cleanup: () => dropSchema(schema),
  };
});
