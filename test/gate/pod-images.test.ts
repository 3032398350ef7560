import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EvidentError } from '../../src/errors.js';
import { MAX_CONTAINERS_PER_OBJECT, podImagesOf } from '../../src/gate/pod-images.js';

const podSpec = {
  initContainers: [{ name: 'migrate', image: 'migrate:1' }],
  containers: [
    { name: 'app', image: 'app:1' },
    { name: 'proxy', image: 'proxy:1' },
  ],
};

describe('podImagesOf', () => {
  it('reads a Pod: containers, init containers and ephemeral containers, each with where it is', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', spec: { ...podSpec, ephemeralContainers: [{ name: 'debugger', image: 'busybox:1' }] } };
    assert.deepEqual(podImagesOf(pod, 'Pod'), [
      { image: 'migrate:1', where: 'spec.initContainers[0] (migrate)' },
      { image: 'app:1', where: 'spec.containers[0] (app)' },
      { image: 'proxy:1', where: 'spec.containers[1] (proxy)' },
      { image: 'busybox:1', where: 'spec.ephemeralContainers[0] (debugger)' },
    ]);
  });

  for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']) {
    it(`reads a ${kind}'s pod template`, () => {
      const found = podImagesOf({ kind, spec: { template: { spec: podSpec } } }, kind);
      assert.deepEqual(
        found.map((f) => f.where),
        [
          'spec.template.spec.initContainers[0] (migrate)',
          'spec.template.spec.containers[0] (app)',
          'spec.template.spec.containers[1] (proxy)',
        ],
      );
    });
  }

  it("reads a CronJob's job template", () => {
    const found = podImagesOf(
      { kind: 'CronJob', spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: podSpec } } } } },
      'CronJob',
    );
    assert.equal(found[0]!.where, 'spec.jobTemplate.spec.template.spec.initContainers[0] (migrate)');
    assert.equal(found.length, 3);
  });

  it('a kind with no pod template has no images', () => {
    assert.deepEqual(podImagesOf({ kind: 'ConfigMap', metadata: { name: 'x' }, data: { containers: 'not a list' } }, 'ConfigMap'), []);
  });

  it('an unknown kind that embeds a pod template has its containers found wherever they are', () => {
    const rollout = { kind: 'Rollout', spec: { strategy: {}, template: { spec: podSpec } } };
    assert.deepEqual(
      podImagesOf(rollout, 'Rollout').map((f) => f.where),
      [
        'spec.template.spec.initContainers[0] (migrate)',
        'spec.template.spec.containers[0] (app)',
        'spec.template.spec.containers[1] (proxy)',
      ],
    );
  });

  it('reads the EphemeralContainers kind older API servers send for pods/ephemeralcontainers', () => {
    const object = {
      kind: 'EphemeralContainers',
      metadata: { name: 'api-1' },
      ephemeralContainers: [{ name: 'debugger', image: 'busybox:1' }],
    };
    assert.deepEqual(podImagesOf(object, 'EphemeralContainers'), [{ image: 'busybox:1', where: 'ephemeralContainers[0] (debugger)' }]);
  });

  it('refuses a container with no image, or a container list that is not a list', () => {
    assert.throws(
      () => podImagesOf({ spec: { containers: [{ name: 'app' }] } }, 'Pod'),
      (e: unknown) => e instanceof EvidentError && e.code === 'BAD_INPUT' && e.message === 'spec.containers[0] (app) has no image',
    );
    assert.throws(() => podImagesOf({ spec: { containers: { name: 'app' } } }, 'Pod'), /spec.containers is not a list of containers/);
    assert.throws(
      () => podImagesOf({ spec: { template: { spec: 'x' } } }, 'Deployment'),
      /Deployment spec.template.spec is not an object$/,
    );
  });

  it(`refuses more than ${MAX_CONTAINERS_PER_OBJECT} containers`, () => {
    const containers = Array.from({ length: MAX_CONTAINERS_PER_OBJECT + 1 }, (_, i) => ({ name: `c${i}`, image: `app:${i}` }));
    assert.throws(
      () => podImagesOf({ spec: { containers } }, 'Pod'),
      (e: unknown) => e instanceof EvidentError && e.code === 'TOO_LARGE',
    );
    assert.equal(podImagesOf({ spec: { containers: containers.slice(1) } }, 'Pod').length, MAX_CONTAINERS_PER_OBJECT);
  });

  it('refuses an unknown kind nested absurdly deep', () => {
    let deep: unknown = { containers: [{ name: 'x', image: 'x:1' }] };
    for (let i = 0; i < 100; i++) deep = { nested: deep };
    assert.throws(
      () => podImagesOf(deep, 'Strange'),
      (e: unknown) => e instanceof EvidentError && e.code === 'TOO_LARGE',
    );
  });
});
