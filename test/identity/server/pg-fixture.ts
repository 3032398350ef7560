import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL server the machine may have (trust auth, database `test`); EVIDENT_TEST_PG overrides. */
export const PG_URL = process.env.EVIDENT_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh schema name for one test run, or undefined (after a loud message) when no server answers. */
export async function pgSchemaOrSkip(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (e) {
    process.stderr.write(`\n!!! SKIPPING PostgreSQL datastore tests: cannot connect to ${PG_URL}: ${(e as Error).message}\n\n`);
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
  return `evident_test_${randomBytes(6).toString('hex')}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}
