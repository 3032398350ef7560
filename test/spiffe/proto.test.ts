import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadSync } from '@grpc/proto-loader';
import { LOADER_OPTIONS, workloadProtoPath } from '../../src/spiffe/workloadapi/index.js';

interface FieldDescriptor {
  name: string;
  number: number;
  label: string;
  type: string;
  typeName: string;
}

// The SPIFFE Workload API standard's workloadapi.proto, field by field: name → [number, label, type].
const STANDARD: Record<string, Record<string, [number, string, string]>> = {
  X509SVIDRequest: {},
  X509SVIDResponse: {
    svids: [1, 'LABEL_REPEATED', 'TYPE_MESSAGE'],
    crl: [2, 'LABEL_REPEATED', 'TYPE_BYTES'],
    federated_bundles: [3, 'LABEL_REPEATED', 'TYPE_MESSAGE'],
  },
  X509SVID: {
    spiffe_id: [1, 'LABEL_OPTIONAL', 'TYPE_STRING'],
    x509_svid: [2, 'LABEL_OPTIONAL', 'TYPE_BYTES'],
    x509_svid_key: [3, 'LABEL_OPTIONAL', 'TYPE_BYTES'],
    bundle: [4, 'LABEL_OPTIONAL', 'TYPE_BYTES'],
    hint: [5, 'LABEL_OPTIONAL', 'TYPE_STRING'],
  },
  X509BundlesRequest: {},
  X509BundlesResponse: { crl: [1, 'LABEL_REPEATED', 'TYPE_BYTES'], bundles: [2, 'LABEL_REPEATED', 'TYPE_MESSAGE'] },
  JWTSVIDRequest: { audience: [1, 'LABEL_REPEATED', 'TYPE_STRING'], spiffe_id: [2, 'LABEL_OPTIONAL', 'TYPE_STRING'] },
  JWTSVIDResponse: { svids: [1, 'LABEL_REPEATED', 'TYPE_MESSAGE'] },
  JWTSVID: {
    spiffe_id: [1, 'LABEL_OPTIONAL', 'TYPE_STRING'],
    svid: [2, 'LABEL_OPTIONAL', 'TYPE_STRING'],
    hint: [3, 'LABEL_OPTIONAL', 'TYPE_STRING'],
  },
  JWTBundlesRequest: {},
  JWTBundlesResponse: { bundles: [1, 'LABEL_REPEATED', 'TYPE_MESSAGE'] },
  ValidateJWTSVIDRequest: { audience: [1, 'LABEL_OPTIONAL', 'TYPE_STRING'], svid: [2, 'LABEL_OPTIONAL', 'TYPE_STRING'] },
  ValidateJWTSVIDResponse: { spiffe_id: [1, 'LABEL_OPTIONAL', 'TYPE_STRING'], claims: [2, 'LABEL_OPTIONAL', 'TYPE_MESSAGE'] },
};

describe('proto/spiffe/workload.proto', () => {
  const def = loadSync(workloadProtoPath(), LOADER_OPTIONS);

  it('has the standard messages with the standard field names, numbers and types, and no package', () => {
    for (const [message, fields] of Object.entries(STANDARD)) {
      const entry = def[message] as { type?: { field: FieldDescriptor[] } } | undefined;
      assert.ok(entry?.type, `message ${message} at the top level (no proto package)`);
      const got = Object.fromEntries(entry.type.field.map((f) => [f.name, [f.number, f.label, f.type]]));
      assert.deepEqual(got, fields, message);
    }
    const claims = (def['ValidateJWTSVIDResponse'] as { type: { field: FieldDescriptor[] } }).type.field.find((f) => f.name === 'claims');
    assert.equal(claims?.typeName, 'google.protobuf.Struct');
  });

  it('has the standard service and RPC shapes', () => {
    const svc = def['SpiffeWorkloadAPI'] as Record<string, { path: string; requestStream: boolean; responseStream: boolean }>;
    const shape = Object.fromEntries(Object.entries(svc).map(([k, v]) => [k, [v.path, v.responseStream]]));
    assert.deepEqual(shape, {
      FetchX509SVID: ['/SpiffeWorkloadAPI/FetchX509SVID', true],
      FetchX509Bundles: ['/SpiffeWorkloadAPI/FetchX509Bundles', true],
      FetchJWTSVID: ['/SpiffeWorkloadAPI/FetchJWTSVID', false],
      FetchJWTBundles: ['/SpiffeWorkloadAPI/FetchJWTBundles', true],
      ValidateJWTSVID: ['/SpiffeWorkloadAPI/ValidateJWTSVID', false],
    });
  });
});
