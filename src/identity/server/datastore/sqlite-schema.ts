/**
 * SQLite schema migrations, applied in order; `schema_version` holds how many ran. Append only: a
 * released migration is never edited, a change is a new one.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE entries (
     id TEXT PRIMARY KEY,
     spiffe_id TEXT NOT NULL,
     parent_id TEXT NOT NULL,
     selectors TEXT NOT NULL,
     x509_svid_ttl INTEGER NOT NULL,
     jwt_svid_ttl INTEGER NOT NULL,
     dns_names TEXT NOT NULL,
     hint TEXT NOT NULL,
     admin INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     revision INTEGER NOT NULL,
     UNIQUE (spiffe_id, parent_id, selectors));
   CREATE INDEX entries_parent ON entries(parent_id);
   CREATE TABLE agents (
     spiffe_id TEXT PRIMARY KEY,
     attestation_type TEXT NOT NULL,
     selectors TEXT NOT NULL,
     cert_serial TEXT NOT NULL,
     cert_not_after INTEGER NOT NULL,
     can_reattest INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL);
   CREATE TABLE join_tokens (
     token TEXT PRIMARY KEY,
     expires_at INTEGER NOT NULL,
     used_at INTEGER);
   CREATE TABLE ca_keys (
     id TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     status TEXT NOT NULL,
     not_before INTEGER NOT NULL,
     not_after INTEGER NOT NULL,
     cert_pem TEXT NOT NULL,
     private_key_pem TEXT NOT NULL,
     public_jwk TEXT NOT NULL,
     created_at INTEGER NOT NULL);
   CREATE UNIQUE INDEX ca_keys_one_per_status ON ca_keys(kind, status) WHERE status IN ('prepared', 'active');
   CREATE TABLE bundles (
     trust_domain TEXT PRIMARY KEY,
     data TEXT NOT NULL,
     sequence INTEGER NOT NULL,
     updated_at INTEGER NOT NULL);`,
  `ALTER TABLE agents ADD COLUMN new_cert_serial TEXT NOT NULL DEFAULT '';
   ALTER TABLE agents ADD COLUMN new_cert_not_after INTEGER NOT NULL DEFAULT 0;`,
];
