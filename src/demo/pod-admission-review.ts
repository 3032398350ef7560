import { randomUUID } from 'node:crypto';
import { EvidentError } from '../errors.js';

/** What a deployment asks the cluster for: a Pod running one container of `image`. */
export interface PodRequest {
  name: string;
  namespace: string;
  /** `NAME@sha256:HEX`, as a pod spec pins an image. */
  image: string;
}

/**
 * The AdmissionReview (admission.k8s.io/v1) the Kubernetes API server sends a validating webhook when a
 * Pod is created, with the fields it fills in: the request's identity (uid), what is being written
 * (kind, resource), by whom, and the object itself.
 */
export function podAdmissionReview(pod: PodRequest): object {
  const kind = { group: '', version: 'v1', kind: 'Pod' };
  const resource = { group: '', version: 'v1', resource: 'pods' };
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: randomUUID(),
      kind,
      resource,
      requestKind: kind,
      requestResource: resource,
      name: pod.name,
      namespace: pod.namespace,
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:deploy:deployer', groups: ['system:serviceaccounts', 'system:authenticated'] },
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: pod.name, namespace: pod.namespace, labels: { app: pod.name } },
        spec: { containers: [{ name: pod.name, image: pod.image }], restartPolicy: 'Never' },
      },
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  };
}

/** The part of the webhook's answer the API server acts on. */
export interface AdmissionAnswer {
  allowed: boolean;
  /** HTTP-like code and the message `kubectl` prints on a refusal. */
  status?: { code?: number; message?: string };
  warnings?: string[];
}

/** The response of an AdmissionReview answer, checked to be for the request sent. */
export function admissionAnswerOf(review: object, answer: unknown): AdmissionAnswer {
  const uid = (review as { request: { uid: string } }).request.uid;
  const response = (answer as { response?: { uid?: unknown; allowed?: unknown } } | null)?.response;
  if (typeof response !== 'object' || response === null || response.uid !== uid || typeof response.allowed !== 'boolean') {
    throw new EvidentError(
      'ENVIRONMENT',
      `demo: the gate's answer is not an AdmissionReview response to request ${uid}: ${JSON.stringify(answer).slice(0, 200)}`,
    );
  }
  return response as AdmissionAnswer;
}
