import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import type { ProtoStruct } from './struct.js';

const PROTO_RELATIVE = join('proto', 'spiffe', 'workload.proto');

/**
 * The package root holds proto/; this module runs from src/spiffe/workloadapi (tsx) or
 * dist/spiffe/workloadapi (compiled), so walk up until the file is found rather than hard-code a depth.
 */
export function workloadProtoPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, PROTO_RELATIVE);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find ${PROTO_RELATIVE} above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** Field names as written in the standard (keepCase), bytes as Buffers, defaults filled in. */
export const LOADER_OPTIONS: Options = {
  keepCase: true,
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  arrays: true,
  objects: true,
};

let cached: GrpcObject | undefined;

function grpcObject(): GrpcObject {
  cached ??= loadPackageDefinition(loadSync(workloadProtoPath(), LOADER_OPTIONS));
  return cached;
}

/** The `SpiffeWorkloadAPI` client constructor (no proto package, as the standard defines it). */
export function workloadApiClientConstructor(): ServiceClientConstructor {
  return grpcObject()['SpiffeWorkloadAPI'] as ServiceClientConstructor;
}

/** The service definition, for servers (the agent, test doubles) to `addService` with. */
export function workloadApiServiceDefinition(): ServiceDefinition {
  return workloadApiClientConstructor().service;
}

/** The metadata header every Workload API request must carry (SPIFFE Workload API §5.4). */
export const SECURITY_HEADER = 'workload.spiffe.io';

// Messages of proto/spiffe/workload.proto as proto-loader hands them over with LOADER_OPTIONS.
export interface X509SVIDMessage {
  spiffe_id: string;
  x509_svid: Buffer;
  x509_svid_key: Buffer;
  bundle: Buffer;
  hint: string;
}
export interface X509SVIDResponseMessage {
  svids: X509SVIDMessage[];
  crl: Buffer[];
  federated_bundles: Record<string, Buffer>;
}
export interface X509BundlesResponseMessage {
  crl: Buffer[];
  bundles: Record<string, Buffer>;
}
export interface JWTSVIDRequestMessage {
  audience: string[];
  spiffe_id: string;
}
export interface JWTSVIDMessage {
  spiffe_id: string;
  svid: string;
  hint: string;
}
export interface JWTSVIDResponseMessage {
  svids: JWTSVIDMessage[];
}
export interface JWTBundlesResponseMessage {
  bundles: Record<string, Buffer>;
}
export interface ValidateJWTSVIDRequestMessage {
  audience: string;
  svid: string;
}
export interface ValidateJWTSVIDResponseMessage {
  spiffe_id: string;
  claims: ProtoStruct | null;
}
