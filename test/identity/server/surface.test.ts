import assert from 'node:assert/strict';
import { it } from 'node:test';
import * as server from '../../../src/identity/server/index.js';
import * as proto from '../../../src/identity/proto/index.js';

// Pins the public surface: a change here is a decision, not an accident.
it('the identity server and proto modules export exactly these values', () => {
  assert.deepEqual(Object.keys(server).sort(), [
    'AdminApiError', 'AttestationError', 'CaManager', 'DEFAULTS', 'EntryValidationError', 'IdentityServer', 'JoinTokenAttestor', 'MAX_BATCH',
    'ManualClock', 'NodeAttestorRegistry', 'SETTINGS', 'X509popAttestor', 'adminRequest', 'answerX509popChallenge', 'bundleToPem',
    'bundleToProto', 'bundleToSpiffeJson', 'createServerLogger', 'entriesForAgent', 'isAgentId', 'loadUpstreamCa', 'openDatastore',
    'openPostgresDatastore', 'openSqliteDatastore', 'parseDurationSeconds', 'parseSelector', 'parseSpiffeId', 'resolveServerConfig',
    'rotationStep', 'serverSpiffeId', 'settingsFromEnv', 'settingsFromFile', 'silentLogger', 'systemClock', 'validateEntry', 'x509popPayload',
  ].sort());
  assert.deepEqual(Object.keys(proto).sort(), ['AgentApiClient', 'PROTO_OPTIONS', 'agentProtoPath', 'agentServiceDefinition', 'serverIdFor']);
});
