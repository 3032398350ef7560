/**
 * deploy/kubernetes/: every manifest parses, is valid against the Kubernetes object schemas (the
 * kubernetes-models package: the API's OpenAPI schemas, compiled), and fits the gate it deploys: the webhook
 * calls the Service on /validate, the container's args are flags `evident gate serve` has, and the policy
 * ConfigMap is a policy file the gate loads.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ValidatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, Namespace, Service, ServiceAccount } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { main } from '../../src/cli/main.js';
import { parseImageReference } from '../../src/gate/image-reference.js';
import { loadPolicyFile } from '../../src/gate/policy-file.js';
import { serializeMetablock, signMetablock } from '../../src/intoto/models/metablock.js';
import type { Layout } from '../../src/intoto/models/types.js';
import { edKey } from '../store/server-fixtures.js';

const DIR = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url));
const SERVER_SOURCE = fileURLToPath(new URL('../../src/gate/server.ts', import.meta.url));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Manifest = Record<string, any>;

/** The model (schema) for each kind the manifests use; a kind not listed here fails the test. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration': ValidatingWebhookConfiguration,
};

function loadManifests(): { file: string; doc: Manifest }[] {
  const out: { file: string; doc: Manifest }[] = [];
  for (const file of readdirSync(DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    for (const document of parseAllDocuments(readFileSync(join(DIR, file), 'utf8'), { uniqueKeys: true })) {
      assert.deepEqual(document.errors, [], `${file} parses as YAML`);
      const doc = document.toJS() as Manifest | null;
      if (doc !== null) out.push({ file, doc });
    }
  }
  return out;
}

const manifests = loadManifests();
const only = (kind: string): Manifest => {
  const found = manifests.filter((m) => m.doc.kind === kind);
  assert.equal(found.length, 1, `exactly one ${kind}`);
  return found[0]!.doc;
};

describe('deploy/kubernetes manifests', () => {
  it('are all there', () => {
    assert.deepEqual(manifests.map((m) => m.doc.kind).sort(), [
      'ConfigMap',
      'Deployment',
      'Namespace',
      'Service',
      'ServiceAccount',
      'ValidatingWebhookConfiguration',
    ]);
  });

  for (const { file, doc } of manifests) {
    it(`${file}: ${doc.kind} is valid against the Kubernetes schema`, () => {
      const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
      assert.ok(Model !== undefined, `${file}: no schema for ${doc.apiVersion} ${doc.kind}`);
      assert.equal(typeof doc.metadata?.name, 'string', `${file}: metadata.name`);
      new Model(doc as never).validate();
    });
  }

  it('the schema check can fail: a webhook without sideEffects, or with a wrong type, is refused', () => {
    const webhook = structuredClone(only('ValidatingWebhookConfiguration'));
    delete webhook.webhooks[0].sideEffects;
    assert.throws(() => new ValidatingWebhookConfiguration(webhook as never).validate(), /sideEffects/);
    const deployment = structuredClone(only('Deployment'));
    deployment.spec.template.spec.containers[0].ports[0].containerPort = 'https';
    assert.throws(() => new Deployment(deployment as never).validate(), /containerPort/);
  });

  it('the webhook speaks AdmissionReview v1, has no side effects, fails closed, and calls the gate on /validate', () => {
    const [webhook, ...more] = only('ValidatingWebhookConfiguration').webhooks;
    assert.equal(more.length, 0);
    assert.deepEqual(webhook.admissionReviewVersions, ['v1']);
    assert.equal(webhook.sideEffects, 'None');
    assert.equal(webhook.failurePolicy, 'Fail');
    assert.ok(webhook.timeoutSeconds >= 1 && webhook.timeoutSeconds <= 30, 'timeoutSeconds within 1..30');
    const service = only('Service');
    assert.equal(webhook.clientConfig.service.name, service.metadata.name);
    assert.equal(webhook.clientConfig.service.namespace, service.metadata.namespace);
    assert.ok(
      service.spec.ports.some((p: Manifest) => p.port === (webhook.clientConfig.service.port ?? 443)),
      'the webhook port is a port of the Service',
    );
    assert.equal(webhook.clientConfig.service.path, '/validate');
    assert.match(readFileSync(SERVER_SOURCE, 'utf8'), /app\.post\('\/validate'/, 'the gate serves POST /validate');
  });

  it('the webhook never asks about the gate’s own namespace or kube-system', () => {
    const { namespaceSelector } = only('ValidatingWebhookConfiguration').webhooks[0];
    const gateNamespace = only('Namespace').metadata.name;
    assert.deepEqual(namespaceSelector.matchExpressions, [
      { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [gateNamespace, 'kube-system'] },
    ]);
  });

  it('the webhook covers pods (with ephemeral containers) and every workload kind with a pod template, on CREATE and UPDATE', () => {
    const covered = new Set<string>();
    for (const rule of only('ValidatingWebhookConfiguration').webhooks[0].rules) {
      assert.deepEqual([...rule.operations].sort(), ['CREATE', 'UPDATE']);
      for (const group of rule.apiGroups) for (const resource of rule.resources) covered.add(`${group}/${resource}`);
    }
    for (const needed of [
      '/pods',
      '/pods/ephemeralcontainers',
      'apps/deployments',
      'apps/statefulsets',
      'apps/daemonsets',
      'apps/replicasets',
      'batch/jobs',
      'batch/cronjobs',
    ]) {
      assert.ok(covered.has(needed), `the webhook covers ${needed}`);
    }
  });

  it('the Service reaches the gate’s pods on the container’s port', () => {
    const service = only('Service');
    const deployment = only('Deployment');
    const template = deployment.spec.template;
    for (const [k, v] of Object.entries(service.spec.selector)) assert.equal(template.metadata.labels[k], v, `selector ${k}`);
    assert.deepEqual(deployment.spec.selector.matchLabels, service.spec.selector);
    const ports = template.spec.containers[0].ports.map((p: Manifest) => p.name);
    for (const p of service.spec.ports) assert.ok(ports.includes(p.targetPort), `targetPort ${p.targetPort} is a container port`);
    for (const m of manifests)
      if (m.doc.kind !== 'Namespace' && m.doc.kind !== 'ValidatingWebhookConfiguration')
        assert.equal(m.doc.metadata.namespace, 'evident-gate', m.file);
  });

  it('the gate runs pinned by digest, unprivileged, read-only, bounded, and probed on /healthz and /readyz', () => {
    const deployment = only('Deployment');
    const pod = deployment.spec.template.spec;
    assert.equal(pod.serviceAccountName, only('ServiceAccount').metadata.name);
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.ok(deployment.spec.replicas >= 2, 'more than one replica: the webhook fails closed');
    const [gate] = pod.containers;
    assert.match(parseImageReference(gate.image).digest ?? '', /^sha256:/, 'the image is pinned by digest');
    assert.equal(gate.securityContext.readOnlyRootFilesystem, true);
    assert.equal(gate.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(gate.securityContext.capabilities.drop, ['ALL']);
    for (const kind of ['requests', 'limits'])
      for (const r of ['cpu', 'memory']) assert.ok(gate.resources[kind][r], `resources.${kind}.${r}`);
    assert.equal(gate.livenessProbe.httpGet.path, '/healthz');
    assert.equal(gate.readinessProbe.httpGet.path, '/readyz');
    assert.match(readFileSync(SERVER_SOURCE, 'utf8'), /app\.get\('\/healthz'[\s\S]*app\.get\('\/readyz'/, 'the gate serves both');
    // every mounted volume exists, and every file the args name is under a mount
    const volumes = new Set(pod.volumes.map((v: Manifest) => v.name));
    for (const mount of gate.volumeMounts) assert.ok(volumes.has(mount.name), `volume ${mount.name}`);
    for (const file of gate.args.filter((a: string) => a.startsWith('/'))) {
      assert.ok(
        gate.volumeMounts.some((m: Manifest) => file.startsWith(`${m.mountPath}/`)),
        `${file} is under a mounted volume`,
      );
    }
  });

  it('the container’s args are `evident gate serve` and flags it has', async () => {
    const { args } = only('Deployment').spec.template.spec.containers[0];
    assert.deepEqual(args.slice(0, 2), ['gate', 'serve']);
    let help = '';
    const sink = new Writable({
      write(chunk, _encoding, done) {
        help += String(chunk);
        done();
      },
    });
    const code = await main(['gate', 'serve', '--help'], { stdout: sink, stderr: sink, env: {}, cwd: DIR });
    assert.equal(code, 0, help);
    const known = new Set([...help.matchAll(/(?:^|\s)(--[a-z][a-z-]*)/g)].map((m) => m[1]!));
    assert.ok(known.has('--bind') && known.has('--policy'), `help lists flags:\n${help}`);
    for (const flag of args.filter((a: string) => a.startsWith('--'))) assert.ok(known.has(flag), `evident gate serve has ${flag}`);
    // with a value where the flag takes one (a flag is never followed by another flag)
    for (const [i, a] of args.entries())
      if (['--bind', '--policy', '--store', '--tls-cert', '--tls-key'].includes(a)) assert.ok(!args[i + 1]?.startsWith('--'), a);
    // the gate exempts the namespaces the webhook leaves out, in case the selector is changed
    const exempt = args.slice(args.indexOf('--exempt-namespace') + 1);
    assert.deepEqual(
      [...exempt].sort(),
      [...only('ValidatingWebhookConfiguration').webhooks[0].namespaceSelector.matchExpressions[0].values].sort(),
    );
    const policyPath = args[args.indexOf('--policy') + 1];
    const mount = only('Deployment').spec.template.spec.containers[0].volumeMounts.find((m: Manifest) =>
      policyPath.startsWith(`${m.mountPath}/`),
    );
    const volume = only('Deployment').spec.template.spec.volumes.find((v: Manifest) => v.name === mount.name);
    assert.equal(volume.configMap.name, only('ConfigMap').metadata.name, '--policy is the policy ConfigMap');
    assert.ok(policyPath.slice(mount.mountPath.length + 1) in only('ConfigMap').data, '--policy names a key of the ConfigMap');
  });

  it('the policy ConfigMap is a policy file the gate loads, once its placeholders are the real layout and key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evident-gate-manifest-'));
    const { data } = only('ConfigMap');
    for (const [name, text] of Object.entries(data)) writeFileSync(join(dir, name), text as string);
    // the files as `kubectl create configmap --from-file` would hold them: a signed layout and its owner's key
    const owner = edKey();
    const layout: Layout = { _type: 'layout', expires: '2100-01-01T00:00:00Z', readme: 'manifest test', keys: {}, steps: [], inspect: [] };
    writeFileSync(join(dir, 'root.layout'), serializeMetablock(signMetablock(layout, [owner])));
    writeFileSync(join(dir, 'owner.pub'), owner.publicKey.keyObject.export({ type: 'spki', format: 'pem' }) as string);
    const policies = await loadPolicyFile(join(dir, 'policy.yaml'));
    assert.deepEqual(
      policies.map((p) => p.name),
      ['default'],
    );
  });
});
