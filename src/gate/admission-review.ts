import { EvidentError, isEvidentError } from '../errors.js';
import { parseImageReference, type ImageReference } from './image-reference.js';
import { podImagesOf, type FoundImage } from './pod-images.js';
import { isObject } from '../util/json-object.js';

/** The gate's answer for one image. `reasons` say why it was refused (or, when allowed, what to warn about). */
export interface ImageVerdict {
  readonly allowed: boolean;
  readonly reasons: readonly string[];
}

export type DecideImage = (image: ImageReference, context: { readonly namespace: string }) => Promise<ImageVerdict>;

export interface ReviewOptions {
  /** `--warn`: admit what would be refused, and say so in the response's warnings. */
  readonly warnOnly: boolean;
  /** Namespaces admitted without a look (the gate's own, kube-system). */
  readonly exemptNamespaces: readonly string[];
}

const API_VERSION = 'admission.k8s.io/v1';
const KIND = 'AdmissionReview';
/** Kubernetes asks webhooks to keep each warning within 120 characters and truncates longer ones. */
export const MAX_WARNING_LENGTH = 120;
const MAX_WARNINGS = 20;
/** status.message is shown by kubectl whole; past this it names the remaining refusals by count. */
const MAX_MESSAGE_LENGTH = 8192;

interface AdmissionRequest {
  readonly uid: string;
  readonly kind: string;
  readonly operation: string;
  readonly namespace: string;
  readonly name: string;
  readonly object: unknown;
}

interface Refusal {
  readonly image: string;
  readonly where: readonly string[];
  readonly reasons: readonly string[];
}

/**
 * Answers a Kubernetes `AdmissionReview` (admission.k8s.io/v1) from a ValidatingAdmissionWebhook.
 *
 * - CREATE and UPDATE check the object being written (`request.object`; on UPDATE the new one). DELETE and
 *   CONNECT are admitted: they start no image.
 * - A namespace in `exemptNamespaces` is admitted without a look.
 * - Every container, init container and ephemeral container image must be pinned by a sha256 digest and be
 *   allowed by `decide`; each distinct image is decided once per request. A tag-only image is refused.
 * - A kind with no pod template and no container list has no images and is admitted; an unknown kind that
 *   carries container lists has them checked (pod-images.ts).
 * - `dryRun` requests are decided the same way: deciding has no side effects.
 * - More than MAX_CONTAINERS_PER_OBJECT containers, or a malformed container list, is refused (also in warn mode).
 * - Refusal: `allowed: false`, `status: {code: 403, message}` naming each refused image, where it is, and why.
 *   In warn mode: `allowed: true` with one short warning per refused image.
 *
 * @throws EvidentError BAD_INPUT when `body` is not an AdmissionReview v1 request
 */
export async function reviewAdmission(body: unknown, decide: DecideImage, options: ReviewOptions): Promise<unknown> {
  const request = admissionRequestOf(body);
  const respond = (response: Record<string, unknown>) => ({
    apiVersion: API_VERSION,
    kind: KIND,
    response: { uid: request.uid, ...response },
  });
  const subject = `${request.kind} ${request.namespace === '' ? '' : `${request.namespace}/`}${request.name}`;

  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return respond({ allowed: true });
  if (options.exemptNamespaces.includes(request.namespace)) return respond({ allowed: true });

  let found: FoundImage[];
  try {
    found = podImagesOf(request.object, request.kind);
  } catch (e) {
    if (!isEvidentError(e)) throw e;
    return respond({
      allowed: false,
      status: { code: e.code === 'TOO_LARGE' ? 413 : 400, message: `evident gate refused ${subject}: ${e.message}` },
    });
  }

  const byImage = new Map<string, string[]>();
  for (const { image, where } of found) byImage.set(image, [...(byImage.get(image) ?? []), where]);

  const verdicts = await Promise.all(
    [...byImage].map(async ([image, where]) => ({ image, where, verdict: await decideOne(image, request.namespace, decide) })),
  );
  const refused: Refusal[] = verdicts
    .filter((v) => !v.verdict.allowed)
    .map((v) => ({ image: v.image, where: v.where, reasons: v.verdict.reasons }));
  // reasons that come with an admission (a verdict used while the store is unreachable) reach the deployer
  const notes = verdicts
    .filter((v) => v.verdict.allowed && v.verdict.reasons.length > 0)
    .map((v) => shorten(`${v.image}: ${v.verdict.reasons.join('; ')}`));

  if (refused.length === 0) return respond({ allowed: true, ...warningsField(notes) });
  if (options.warnOnly) {
    const warnings = refused.map((r) => shorten(`evident gate would refuse ${r.image}: ${r.reasons.join('; ')}`));
    return respond({ allowed: true, ...warningsField([...warnings, ...notes]) });
  }
  return respond({ allowed: false, status: { code: 403, message: refusalMessage(subject, refused) }, ...warningsField(notes) });
}

/** One image's verdict: refused without asking when it does not parse or is not pinned by digest. */
async function decideOne(text: string, namespace: string, decide: DecideImage): Promise<{ allowed: boolean; reasons: readonly string[] }> {
  let image: ImageReference;
  try {
    image = parseImageReference(text);
  } catch (e) {
    if (isEvidentError(e)) return { allowed: false, reasons: [e.message] };
    throw e;
  }
  if (image.digest === undefined) {
    return { allowed: false, reasons: [`not pinned by digest: name it as ${image.name}@sha256:<digest> (the digest its evidence names)`] };
  }
  try {
    return await decide(image, { namespace });
  } catch (e) {
    // fail closed: an image the gate could not decide is not admitted
    return { allowed: false, reasons: [`the gate could not decide: ${(e as Error).message}`] };
  }
}

function refusalMessage(subject: string, refused: readonly Refusal[]): string {
  const header = `evident gate refused ${subject}: ${refused.length} image${refused.length === 1 ? '' : 's'} not admitted`;
  const lines: string[] = [];
  let length = header.length;
  for (const [i, r] of refused.entries()) {
    const line = `- ${r.image} at ${r.where.join(', ')}: ${r.reasons.join('; ')}`;
    if (length + line.length + 1 > MAX_MESSAGE_LENGTH) {
      lines.push(`- and ${refused.length - i} more`);
      break;
    }
    lines.push(line);
    length += line.length + 1;
  }
  return [header, ...lines].join('\n');
}

function warningsField(warnings: readonly string[]): { warnings?: string[] } {
  if (warnings.length === 0) return {};
  if (warnings.length <= MAX_WARNINGS) return { warnings: [...warnings] };
  return { warnings: [...warnings.slice(0, MAX_WARNINGS - 1), `evident gate: and ${warnings.length - MAX_WARNINGS + 1} more`] };
}

function shorten(text: string): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length <= MAX_WARNING_LENGTH ? line : `${line.slice(0, MAX_WARNING_LENGTH - 1)}…`;
}

/** The request of an AdmissionReview v1, else BAD_INPUT naming what is missing. */
function admissionRequestOf(body: unknown): AdmissionRequest {
  const bad = (problem: string) => new EvidentError('BAD_INPUT', `/validate: ${problem}`);
  if (!isObject(body)) throw bad('the body must be a JSON object: an AdmissionReview');
  if (body.apiVersion !== API_VERSION || body.kind !== KIND) {
    throw bad(
      `expected apiVersion ${API_VERSION} kind ${KIND}, got ${JSON.stringify(body.apiVersion ?? null)} ${JSON.stringify(body.kind ?? null)}`.slice(
        0,
        200,
      ),
    );
  }
  const request = body.request;
  if (!isObject(request)) throw bad('the AdmissionReview has no request');
  if (typeof request.uid !== 'string' || request.uid === '') throw bad('request.uid is missing');
  if (typeof request.operation !== 'string' || request.operation === '') throw bad('request.operation is missing');
  const kind = isObject(request.kind) && typeof request.kind.kind === 'string' ? request.kind.kind : undefined;
  if (kind === undefined) throw bad('request.kind.kind is missing');
  const namespace = request.namespace ?? '';
  if (typeof namespace !== 'string') throw bad('request.namespace must be a string');
  const writes = request.operation === 'CREATE' || request.operation === 'UPDATE';
  if (writes && !isObject(request.object)) throw bad(`request.object is missing on ${request.operation}`);
  return { uid: request.uid, kind, operation: request.operation, namespace, name: nameOf(request), object: request.object };
}

/** The object's name for a message; a pod made by a controller has only its generateName yet. */
function nameOf(request: Record<string, unknown>): string {
  if (typeof request.name === 'string' && request.name !== '') return request.name;
  const metadata = isObject(request.object) && isObject(request.object.metadata) ? request.object.metadata : {};
  if (typeof metadata.name === 'string' && metadata.name !== '') return metadata.name;
  if (typeof metadata.generateName === 'string') return `${metadata.generateName}*`;
  return '(unnamed)';
}
