import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EvidentError } from '../../src/errors.js';
import { MAX_WARNING_LENGTH, reviewAdmission, type DecideImage, type ReviewOptions } from '../../src/gate/admission-review.js';
import type { ImageReference } from '../../src/gate/image-reference.js';
import { MAX_CONTAINERS_PER_OBJECT } from '../../src/gate/pod-images.js';

// AdmissionReview v1 request bodies written as the API server sends them (admission.k8s.io/v1, see the
// Kubernetes "Dynamic Admission Control" reference): uid, kind/resource and their request* twins, userInfo,
// the object (and oldObject on UPDATE), options, dryRun.

const VERIFIED = `sha256:${'1'.repeat(64)}`;
const MIGRATE = `sha256:${'2'.repeat(64)}`;
const UNVERIFIED = `sha256:${'3'.repeat(64)}`;
const APP = `registry.example:5000/payments/api@${VERIFIED}`;
const MIGRATIONS = `registry.example:5000/payments/migrate:2.1@${MIGRATE}`;
const EVIL = `registry.example:5000/payments/api@${UNVERIFIED}`;

const USER = {
  username: 'jane@example.com',
  uid: '2b8a3ce0-96b6-4a8f-9d8c-0f2e8a0c4f11',
  groups: ['system:authenticated', 'payments-deployers'],
  extra: { 'authentication.kubernetes.io/credential-id': ['X509SHA256=4f7e…'] },
};

function review(request: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request };
}

function deployment(images: { init: string; app: string }) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api', namespace: 'payments', labels: { app: 'api' }, generation: 1 },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'api' } },
      template: {
        metadata: { labels: { app: 'api' } },
        spec: {
          initContainers: [
            { name: 'migrate', image: images.init, args: ['migrate', 'up'], resources: {}, imagePullPolicy: 'IfNotPresent' },
          ],
          containers: [
            { name: 'api', image: images.app, ports: [{ containerPort: 8080, protocol: 'TCP' }], resources: {} },
            { name: 'metrics-sidecar', image: images.app, args: ['--metrics'], resources: {} },
          ],
          restartPolicy: 'Always',
          dnsPolicy: 'ClusterFirst',
        },
      },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
    },
    status: {},
  };
}

function deploymentReview(operation: 'CREATE' | 'UPDATE', images: { init: string; app: string }, extra: Record<string, unknown> = {}) {
  const gvk = { group: 'apps', version: 'v1', kind: 'Deployment' };
  const gvr = { group: 'apps', version: 'v1', resource: 'deployments' };
  return review({
    uid: 'b3f3e1a9-6c1e-4f9b-9a55-7f0c9d4d2e01',
    kind: gvk,
    resource: gvr,
    requestKind: gvk,
    requestResource: gvr,
    name: 'api',
    namespace: 'payments',
    operation,
    userInfo: USER,
    object: deployment(images),
    oldObject: operation === 'UPDATE' ? deployment({ init: MIGRATIONS, app: APP }) : null,
    dryRun: false,
    options: {
      apiVersion: 'meta.k8s.io/v1',
      kind: operation === 'CREATE' ? 'CreateOptions' : 'UpdateOptions',
      fieldManager: 'kubectl-client-side-apply',
    },
    ...extra,
  });
}

/** The gate's decision interface, answering from a fixed list of verified digests, and counting its calls. */
function decider(verified: readonly string[] = [VERIFIED, MIGRATE]) {
  const calls: { image: ImageReference; namespace: string }[] = [];
  const decide: DecideImage = async (image, context) => {
    calls.push({ image, namespace: context.namespace });
    return verified.includes(image.digest!)
      ? { allowed: true, reasons: [] }
      : { allowed: false, reasons: [`no evidence in the store names ${image.digest}`, 'layout root.layout: step build has no link'] };
  };
  return { decide, calls };
}

const ENFORCE: ReviewOptions = { warnOnly: false, exemptNamespaces: ['kube-system', 'evident-gate'] };
const WARN: ReviewOptions = { ...ENFORCE, warnOnly: true };

interface Answer {
  apiVersion: string;
  kind: string;
  response: { uid: string; allowed: boolean; status?: { code: number; message: string }; warnings?: string[] };
}
const answer = async (body: unknown, decide: DecideImage, options = ENFORCE) => (await reviewAdmission(body, decide, options)) as Answer;

describe('reviewAdmission', () => {
  it('admits a Deployment whose init and app images are pinned and verified, deciding each distinct image once', async () => {
    const { decide, calls } = decider();
    const a = await answer(deploymentReview('CREATE', { init: MIGRATIONS, app: APP }), decide);
    assert.deepEqual(a, {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'b3f3e1a9-6c1e-4f9b-9a55-7f0c9d4d2e01', allowed: true },
    });
    // api and metrics-sidecar share an image: asked once
    assert.deepEqual(
      calls.map((c) => [c.image.text, c.namespace]).sort(),
      [
        [APP, 'payments'],
        [MIGRATIONS, 'payments'],
      ].sort(),
    );
    assert.equal(calls.find((c) => c.image.text === MIGRATIONS)!.image.tag, '2.1');
  });

  it('refuses a Deployment with an unverified image, naming the image, every place it is, and the reasons', async () => {
    const a = await answer(deploymentReview('CREATE', { init: MIGRATIONS, app: EVIL }), decider().decide);
    assert.equal(a.response.allowed, false);
    assert.equal(a.response.status!.code, 403);
    assert.equal(
      a.response.status!.message,
      [
        'evident gate refused Deployment payments/api: 1 image not admitted',
        `- ${EVIL} at spec.template.spec.containers[0] (api), spec.template.spec.containers[1] (metrics-sidecar): ` +
          `no evidence in the store names ${UNVERIFIED}; layout root.layout: step build has no link`,
      ].join('\n'),
    );
  });

  it('refuses a tag-only image without asking, saying it must be pinned by digest', async () => {
    const { decide, calls } = decider();
    const a = await answer(deploymentReview('CREATE', { init: 'registry.example:5000/payments/migrate:2.1', app: APP }), decide);
    assert.equal(a.response.allowed, false);
    assert.match(
      a.response.status!.message,
      /- registry\.example:5000\/payments\/migrate:2\.1 at spec\.template\.spec\.initContainers\[0\] \(migrate\): not pinned by digest: name it as registry\.example:5000\/payments\/migrate@sha256:<digest>/,
    );
    assert.deepEqual(
      calls.map((c) => c.image.text),
      [APP],
    );
  });

  it('refuses an image reference the grammar refuses, and an sha512 digest, with the parser’s one line', async () => {
    const a = await answer(
      deploymentReview('CREATE', { init: `migrate@sha512:${'a'.repeat(128)}`, app: 'Payments/API' }),
      decider().decide,
    );
    assert.equal(a.response.allowed, false);
    assert.match(a.response.status!.message, /2 images not admitted/);
    assert.match(a.response.status!.message, /digest algorithm 'sha512' does not pin an image for evident/);
    assert.match(
      a.response.status!.message,
      /- Payments\/API at spec\.template\.spec\.containers\[0\] \(api\), .*path component 'API' must be lowercase/,
    );
  });

  it('checks the new object of an UPDATE, not the old one', async () => {
    const { decide, calls } = decider();
    const a = await answer(deploymentReview('UPDATE', { init: MIGRATIONS, app: EVIL }), decide);
    assert.equal(a.response.allowed, false);
    assert.ok(
      calls.every((c) => c.image.text !== APP),
      'the old object is not decided',
    );
    const back = await answer(deploymentReview('UPDATE', { init: MIGRATIONS, app: APP }), decide);
    assert.equal(back.response.allowed, true);
  });

  it('decides a dryRun request the same way', async () => {
    const refused = await answer(deploymentReview('CREATE', { init: MIGRATIONS, app: EVIL }, { dryRun: true }), decider().decide);
    assert.equal(refused.response.allowed, false);
    const admitted = await answer(deploymentReview('CREATE', { init: MIGRATIONS, app: APP }, { dryRun: true }), decider().decide);
    assert.equal(admitted.response.allowed, true);
  });

  it('admits an exempt namespace without a look', async () => {
    const { decide, calls } = decider();
    const body = review({
      uid: '0d6c3d2e-1111-4a5b-8c9d-2e3f4a5b6c7d',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'kube-system',
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:daemon-set-controller', groups: ['system:serviceaccounts'] },
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { generateName: 'kube-proxy-', namespace: 'kube-system' },
        spec: { containers: [{ name: 'kube-proxy', image: 'kube-proxy:v1.31.0' }] },
      },
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    });
    const a = await answer(body, decide);
    assert.deepEqual(a.response, { uid: '0d6c3d2e-1111-4a5b-8c9d-2e3f4a5b6c7d', allowed: true });
    assert.equal(calls.length, 0);
    // the same pod outside the exempt namespaces is refused: its image is tag-only
    const elsewhere = await answer({ ...body, request: { ...(body.request as object), namespace: 'payments' } }, decide);
    assert.equal(elsewhere.response.allowed, false);
    assert.match(elsewhere.response.status!.message, /^evident gate refused Pod payments\/kube-proxy-\*: /);
  });

  it('checks an ephemeral container added to a running Pod (the pods/ephemeralcontainers subresource)', async () => {
    const pod = (ephemeral: object[]) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'api-7d9f8c6b5-x2x9q', namespace: 'payments' },
      spec: { containers: [{ name: 'api', image: APP }], ephemeralContainers: ephemeral },
    });
    const body = review({
      uid: 'e2a9c6f1-3b4d-4e5f-8a9b-0c1d2e3f4a5b',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      subResource: 'ephemeralcontainers',
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      requestResource: { group: '', version: 'v1', resource: 'pods' },
      requestSubResource: 'ephemeralcontainers',
      name: 'api-7d9f8c6b5-x2x9q',
      namespace: 'payments',
      operation: 'UPDATE',
      userInfo: USER,
      object: pod([{ name: 'debugger-abcde', image: 'busybox:1.36', targetContainerName: 'api', stdin: true, tty: true }]),
      oldObject: pod([]),
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'UpdateOptions' },
    });
    const a = await answer(body, decider().decide);
    assert.equal(a.response.allowed, false);
    assert.match(a.response.status!.message, /- busybox:1\.36 at spec\.ephemeralContainers\[0\] \(debugger-abcde\): not pinned by digest/);
  });

  it('checks a CronJob through its job template', async () => {
    const body = review({
      uid: '5c4b3a29-1807-46f5-a4b3-c2d1e0f9a8b7',
      kind: { group: 'batch', version: 'v1', kind: 'CronJob' },
      resource: { group: 'batch', version: 'v1', resource: 'cronjobs' },
      name: 'nightly-report',
      namespace: 'payments',
      operation: 'CREATE',
      userInfo: USER,
      object: {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: 'nightly-report', namespace: 'payments' },
        spec: {
          schedule: '0 2 * * *',
          concurrencyPolicy: 'Forbid',
          jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'report', image: EVIL }] } } } },
        },
      },
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    });
    const a = await answer(body, decider().decide);
    assert.equal(a.response.allowed, false);
    assert.match(a.response.status!.message, /at spec\.jobTemplate\.spec\.template\.spec\.containers\[0\] \(report\)/);
  });

  it('warn mode admits what it would refuse, with one short warning per image', async () => {
    const a = await answer(
      deploymentReview('CREATE', { init: 'registry.example:5000/payments/migrate:2.1', app: EVIL }),
      decider().decide,
      WARN,
    );
    assert.equal(a.response.allowed, true);
    assert.equal(a.response.status, undefined);
    assert.equal(a.response.warnings!.length, 2);
    for (const w of a.response.warnings!) {
      assert.ok(w.length <= MAX_WARNING_LENGTH, w);
      assert.match(w, /^evident gate would refuse registry\.example:5000\/payments\//);
    }
  });

  it('passes on the reasons that come with an admission as warnings', async () => {
    const decide: DecideImage = async () => ({
      allowed: true,
      reasons: ['the store could not be reached: admitted by a verdict cached 3m ago'],
    });
    const a = await answer(deploymentReview('CREATE', { init: MIGRATIONS, app: APP }), decide);
    assert.equal(a.response.allowed, true);
    assert.equal(a.response.warnings!.length, 2);
  });

  it('fails closed when deciding throws', async () => {
    const decide: DecideImage = async () => {
      throw new Error('store: connection refused');
    };
    const a = await answer(deploymentReview('CREATE', { init: MIGRATIONS, app: APP }), decide);
    assert.equal(a.response.allowed, false);
    assert.match(a.response.status!.message, /the gate could not decide: store: connection refused/);
  });

  it('admits DELETE and CONNECT without a look', async () => {
    const { decide, calls } = decider([]);
    const del = deploymentReview(
      'CREATE',
      { init: MIGRATIONS, app: EVIL },
      {
        operation: 'DELETE',
        object: null,
        oldObject: deployment({ init: MIGRATIONS, app: EVIL }),
        options: { apiVersion: 'meta.k8s.io/v1', kind: 'DeleteOptions', propagationPolicy: 'Background' },
      },
    );
    assert.equal((await answer(del, decide)).response.allowed, true);
    const connect = review({
      uid: 'c0ffee00-0000-4000-8000-000000000001',
      kind: { group: '', version: 'v1', kind: 'PodExecOptions' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      subResource: 'exec',
      name: 'api-7d9f8c6b5-x2x9q',
      namespace: 'payments',
      operation: 'CONNECT',
      userInfo: USER,
      object: { kind: 'PodExecOptions', apiVersion: 'v1', stdin: true, command: ['sh'] },
      oldObject: null,
      dryRun: false,
      options: null,
    });
    assert.equal((await answer(connect, decide)).response.allowed, true);
    assert.equal(calls.length, 0);
  });

  it('admits a kind with no pod template: it has no images', async () => {
    const body = review({
      uid: 'a1b2c3d4-0000-4000-8000-000000000002',
      kind: { group: '', version: 'v1', kind: 'ConfigMap' },
      resource: { group: '', version: 'v1', resource: 'configmaps' },
      name: 'settings',
      namespace: 'payments',
      operation: 'CREATE',
      userInfo: USER,
      object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { image: 'app:1' } },
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    });
    assert.equal((await answer(body, decider([]).decide)).response.allowed, true);
  });

  it('refuses an object with absurdly many containers, even in warn mode', async () => {
    const containers = Array.from({ length: MAX_CONTAINERS_PER_OBJECT + 1 }, (_, i) => ({ name: `c${i}`, image: APP }));
    const { decide, calls } = decider();
    const body = review({
      uid: 'f00dfeed-0000-4000-8000-000000000003',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      name: 'wide',
      namespace: 'payments',
      operation: 'CREATE',
      userInfo: USER,
      object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'wide' }, spec: { containers } },
      dryRun: false,
    });
    const a = await answer(body, decide, WARN);
    assert.equal(a.response.allowed, false);
    assert.equal(a.response.status!.code, 413);
    assert.match(a.response.status!.message, /more than 256 containers/);
    assert.equal(calls.length, 0);
  });

  const badBodies: [string, unknown, RegExp][] = [
    ['a JSON array', [], /the body must be a JSON object/],
    ['a string', 'AdmissionReview', /the body must be a JSON object/],
    ['null', null, /the body must be a JSON object/],
    [
      'admission.k8s.io/v1beta1',
      { ...deploymentReview('CREATE', { init: MIGRATIONS, app: APP }), apiVersion: 'admission.k8s.io/v1beta1' },
      /expected apiVersion admission\.k8s\.io\/v1 kind AdmissionReview, got "admission\.k8s\.io\/v1beta1"/,
    ],
    [
      'another kind',
      { ...deploymentReview('CREATE', { init: MIGRATIONS, app: APP }), kind: 'TokenReview' },
      /got "admission.k8s.io\/v1" "TokenReview"/,
    ],
    ['no request', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, /has no request/],
    ['no uid', deploymentReview('CREATE', { init: MIGRATIONS, app: APP }, { uid: undefined }), /request\.uid is missing/],
    ['no kind', deploymentReview('CREATE', { init: MIGRATIONS, app: APP }, { kind: 'Deployment' }), /request\.kind\.kind is missing/],
    [
      'no object on CREATE',
      deploymentReview('CREATE', { init: MIGRATIONS, app: APP }, { object: null }),
      /request\.object is missing on CREATE/,
    ],
  ];
  for (const [what, body, problem] of badBodies) {
    it(`throws BAD_INPUT for a body that is not an AdmissionReview v1 request: ${what}`, async () => {
      await assert.rejects(
        reviewAdmission(body, decider().decide, ENFORCE),
        (e: unknown) =>
          e instanceof EvidentError && e.code === 'BAD_INPUT' && problem.test(e.message) && e.message.startsWith('/validate: '),
      );
    });
  }
});
