import type { Migration } from '../sql/schema.js';

/** Where the evidence store counts its migrations: its own table, so it can share a database with the identity server's. */
export const STORE_VERSION_TABLE = 'store_schema_version';

/**
 * The evidence store's tables, for both dialects (sql/ddl.ts). Append only: a released migration is
 * never edited, a change is a new one.
 *
 * - `evidence`: the exact bytes received, by their sha256 (`sha256:HEX`), with what a search answers.
 * - `evidence_artifacts`: every artifact digest (`alg:hex`) the evidence names, and in which role.
 * - `evidence_signers`: every signer's keyid and SPIFFE ID (one row each; a SPIFFE ID starts `spiffe://`,
 *   a keyid is hex, so the two never collide in one column).
 * - `evidence_names` (2): every artifact's file name (`name`, as the evidence writes it) and its last
 *   part (`base`), so the pages find `app.tar.gz` or `src/main.c` by name.
 */
export const STORE_MIGRATIONS: readonly Migration[] = [
  [
    {
      createTable: {
        name: 'evidence',
        primaryKey: 'digest',
        columns: {
          digest: 'text',
          gitoid: 'text',
          kind: 'text',
          body: 'bytes',
          size: 'int64',
          step: 'text?',
          predicate_type: 'text?',
          signers: 'text',
          timestamps: 'int32',
          uploader: 'text',
          stored_at: 'int64',
        },
      },
    },
    { createIndex: { name: 'evidence_gitoid', table: 'evidence', columns: ['gitoid'], unique: true } },
    { createIndex: { name: 'evidence_newest', table: 'evidence', columns: ['stored_at', 'digest'] } },
    { createIndex: { name: 'evidence_step', table: 'evidence', columns: ['step', 'stored_at'] } },
    {
      createTable: {
        name: 'evidence_artifacts',
        unique: [['artifact', 'role', 'evidence']],
        columns: { artifact: 'text', role: 'text', evidence: 'text' },
      },
    },
    {
      createTable: {
        name: 'evidence_signers',
        unique: [['signer', 'evidence']],
        columns: { signer: 'text', evidence: 'text' },
      },
    },
  ],
  [
    {
      createTable: {
        name: 'evidence_names',
        unique: [['name', 'artifact', 'role', 'evidence']],
        columns: { name: 'text', base: 'text', artifact: 'text', role: 'text', evidence: 'text' },
      },
    },
    { createIndex: { name: 'evidence_names_base', table: 'evidence_names', columns: ['base'] } },
  ],
];
