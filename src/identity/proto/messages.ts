/**
 * TypeScript shapes of agent.proto's messages as @grpc/proto-loader gives them (keepCase, bytes as
 * Buffer, int64 as number, oneofs named by `step`/`key`). An unset message field reads as null (or is
 * absent); callers test it for truthiness.
 */
import type { Selector } from './selector.js';

export type { Selector };

export interface KeyRequest {
  public_key?: Buffer | null;
  csr?: Buffer | null;
  key?: 'public_key' | 'csr';
}

export interface AttestParams {
  type: string;
  payload: Buffer;
  key?: KeyRequest | null;
}

export interface AttestAgentRequest {
  params?: AttestParams | null;
  challenge_response?: Buffer | null;
  step?: 'params' | 'challenge_response';
}

export interface X509Svid {
  spiffe_id: string;
  cert_chain: Buffer[];
  expires_at: number;
}

export interface JwtKey {
  kid: string;
  public_key: Buffer;
  expires_at: number;
}

export interface Bundle {
  trust_domain: string;
  x509_authorities: Buffer[];
  jwt_authorities: JwtKey[];
  sequence: number;
  refresh_hint: number;
}

export interface AttestResult {
  svid?: X509Svid | null;
  bundle?: Bundle | null;
}

export interface AttestAgentResponse {
  challenge?: Buffer | null;
  result?: AttestResult | null;
  step?: 'challenge' | 'result';
}

export interface Entry {
  id: string;
  spiffe_id: string;
  parent_id: string;
  selectors: Selector[];
  x509_svid_ttl: number;
  jwt_svid_ttl: number;
  dns_names: string[];
  hint: string;
  admin: boolean;
  revision: number;
}

export interface RenewAgentRequest {
  key?: KeyRequest | null;
}

export interface RenewAgentResponse {
  svid?: X509Svid | null;
}

export type FetchEntriesRequest = Record<string, never>;

export interface FetchEntriesResponse {
  entries: Entry[];
}

export interface SvidParams {
  entry_id: string;
  key?: KeyRequest | null;
}

export interface SignX509SvidsRequest {
  params: SvidParams[];
}

export interface SvidResult {
  entry_id: string;
  svid?: X509Svid | null;
  error: string;
}

export interface SignX509SvidsResponse {
  results: SvidResult[];
}

export interface SignJwtSvidRequest {
  entry_id: string;
  audience: string[];
}

export interface SignJwtSvidResponse {
  spiffe_id: string;
  token: string;
  expires_at: number;
}

export type FetchBundleRequest = Record<string, never>;

export interface FetchBundleResponse {
  bundle?: Bundle | null;
}
