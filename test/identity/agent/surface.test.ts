import { it } from 'node:test';
import assert from 'node:assert/strict';
import * as agent from '../../../src/identity/agent/index.js';

it('pins the public surface of evident\'s identity agent (a change here is an API change)', () => {
  assert.deepEqual(Object.keys(agent).sort(), [
    'AGENT_SETTINGS',
    'Agent',
    'AgentDataDir',
    'DEFAULT_SOCKET_PATH',
    'JoinTokenAttestorClient',
    'ServerLink',
    'SvidCache',
    'SvidSync',
    'UnixAttestor',
    'WorkloadApiServer',
    'WorkloadAttestationError',
    'WorkloadAttestorRegistry',
    'X509popAttestorClient',
    'agentSettingsFromEnv',
    'agentSettingsFromFile',
    'checkAgentHealth',
    'createAgentLogger',
    'fetchBundleInsecure',
    'getPeerCred',
    'isOn',
    'loadPeercred',
    'mergeAgentSettings',
    'readTrustBundleFile',
    'trustBundlesFromProto',
    'trustDomainOfCa',
  ]);
  assert.equal(agent.DEFAULT_SOCKET_PATH, '/tmp/evident-agent/public/api.sock');
});
