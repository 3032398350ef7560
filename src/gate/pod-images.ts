import { EvidentError } from '../errors.js';
import { isObject } from '../util/json-object.js';

/** One container's image as the object names it, and where in the object it was found. */
export interface FoundImage {
  /** The image reference exactly as written (not yet parsed). */
  readonly image: string;
  /** The container's place in the object, e.g. `spec.template.spec.initContainers[0] (migrate)`. */
  readonly where: string;
}

/**
 * The most containers the gate reads from one object. A pod with hundreds of containers is not a workload
 * anyone runs; without a bound, one request could make the gate decide thousands of images.
 */
export const MAX_CONTAINERS_PER_OBJECT = 256;
/** How deep the walk of an unknown kind goes looking for container lists. */
const MAX_WALK_DEPTH = 24;

const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;

/** Where each kind the gate knows keeps its pod spec. */
const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  PodTemplate: ['template', 'spec'],
};

/** Whether the gate knows where `kind` keeps its pod spec. */
export function isKnownWorkloadKind(kind: string): boolean {
  return Object.hasOwn(POD_SPEC_PATHS, kind);
}

/**
 * Every container image of a Kubernetes object: containers, init containers and ephemeral containers of a
 * Pod, or of the pod template of a workload (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, …).
 *
 * A kind the gate does not know is walked whole: every `containers`, `initContainers` and
 * `ephemeralContainers` list anywhere in it counts (a custom workload such as a rollout embeds a pod template
 * the same way). A kind with no container list has no images.
 *
 * @throws EvidentError BAD_INPUT when a container list or image is malformed; TOO_LARGE past MAX_CONTAINERS_PER_OBJECT
 */
export function podImagesOf(object: unknown, kind: string): FoundImage[] {
  const found: FoundImage[] = [];
  const path = POD_SPEC_PATHS[kind];
  if (path !== undefined) {
    let spec: unknown = object;
    for (const key of path) spec = isObject(spec) ? spec[key] : undefined;
    if (spec === undefined) return found;
    if (!isObject(spec)) throw new EvidentError('BAD_INPUT', `${kind} ${path.join('.')} is not an object`);
    collectPodSpec(spec, path.join('.'), found);
    return found;
  }
  walk(object, '', 0, found);
  return found;
}

function collectPodSpec(spec: Record<string, unknown>, at: string, found: FoundImage[]): void {
  for (const list of CONTAINER_LISTS) collectList(spec[list], `${at}.${list}`, found);
}

function collectList(list: unknown, at: string, found: FoundImage[]): void {
  if (list === undefined || list === null) return;
  if (!Array.isArray(list)) throw new EvidentError('BAD_INPUT', `${at} is not a list of containers`);
  if (found.length + list.length > MAX_CONTAINERS_PER_OBJECT) {
    throw new EvidentError(
      'TOO_LARGE',
      `the object has more than ${MAX_CONTAINERS_PER_OBJECT} containers; the gate checks at most that many`,
    );
  }
  for (const [i, container] of list.entries()) {
    const name = isObject(container) && typeof container.name === 'string' ? ` (${container.name.slice(0, 63)})` : '';
    const where = `${at}[${i}]${name}`;
    if (!isObject(container)) throw new EvidentError('BAD_INPUT', `${where} is not a container object`);
    const image = container.image;
    if (typeof image !== 'string' || image === '') throw new EvidentError('BAD_INPUT', `${where} has no image`);
    found.push({ image, where });
  }
}

function walk(node: unknown, at: string, depth: number, found: FoundImage[]): void {
  if (depth > MAX_WALK_DEPTH) throw new EvidentError('TOO_LARGE', `the object nests deeper than ${MAX_WALK_DEPTH} levels at ${at}`);
  if (Array.isArray(node)) {
    for (const [i, item] of node.entries()) walk(item, `${at}[${i}]`, depth + 1, found);
    return;
  }
  if (!isObject(node)) return;
  for (const [key, value] of Object.entries(node)) {
    const here = at === '' ? key : `${at}.${key}`;
    // a container list is read, not walked into: images inside a container's fields are not pod images
    if ((CONTAINER_LISTS as readonly string[]).includes(key) && Array.isArray(value)) collectList(value, here, found);
    else if (key !== 'metadata' || depth > 0) walk(value, here, depth + 1, found);
  }
}
