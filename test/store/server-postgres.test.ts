import { dropSchema, PG_URL, pgSchemaOrSkip } from '../identity/server/pg-fixture.js';
import { runStoreContract } from './server-contract.js';

runStoreContract('postgres', async () => {
  const schema = await pgSchemaOrSkip();
  if (schema === undefined) return undefined;
  return { options: { datastore: PG_URL, postgres: { schema, max: 4 } }, cleanup: () => dropSchema(schema) };
});
