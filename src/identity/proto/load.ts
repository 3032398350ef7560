import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';

/** How the proto maps to JS: field names as written, bytes as Buffer, 64-bit ints as numbers. */
export const PROTO_OPTIONS: Options = { keepCase: true, longs: Number, enums: String, bytes: Buffer, defaults: true, arrays: true, oneofs: true };

/**
 * agent.proto sits beside this file in src/; compiled code in dist/ finds it back in src/ (tsc does not
 * copy .proto files). The lead may prefer a build step that copies it; both places are looked at.
 */
export function agentProtoPath(): string {
  const candidates = [new URL('./agent.proto', import.meta.url), new URL('../../../src/identity/proto/agent.proto', import.meta.url)];
  for (const c of candidates) {
    const p = fileURLToPath(c);
    if (existsSync(p)) return p;
  }
  throw new Error(`agent.proto not found (looked at ${candidates.map((c) => fileURLToPath(c)).join(', ')})`);
}

let cached: grpc.ServiceDefinition | undefined;

/** The AgentService definition, for servers (addService) and clients (makeGenericClientConstructor). */
export function agentServiceDefinition(): grpc.ServiceDefinition {
  if (!cached) {
    const pkg = grpc.loadPackageDefinition(loadSync(agentProtoPath(), PROTO_OPTIONS)) as unknown as {
      evident: { identity: { v1: { AgentService: grpc.ServiceClientConstructor } } };
    };
    cached = pkg.evident.identity.v1.AgentService.service;
  }
  return cached;
}
