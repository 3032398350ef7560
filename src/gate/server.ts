import type { AddressInfo } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { EvidentError, isEvidentError } from '../errors.js';
import { httpsOptionsOf, readTlsFiles, secureContextOf, type StoreTls, type StoreTlsSource } from '../store/tls-source.js';
import { oneLine } from '../time/server-url.js';
import { reviewAdmission } from './admission-review.js';
import { admitRequest } from './admit-request.js';
import type { Gate, GateVerdict } from './gate.js';
import type { GateMetrics } from './metrics.js';

/** The largest `POST /v1/admit` body: one artifact and its context. */
export const MAX_ADMIT_BODY_BYTES = 64 * 1024;
/** The largest `POST /validate` body: an AdmissionReview of a workload (the API server's own request limit is 3 MiB). */
export const MAX_REVIEW_BODY_BYTES = 3 * 1024 * 1024;

export interface GateServerOptions {
  readonly gate: Gate;
  readonly metrics: GateMetrics;
  readonly host?: string;
  readonly port?: number;
  /** HTTPS from files (`--tls-cert/--tls-key`). */
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  /** HTTPS with the workload's X509-SVID, renewed on rotation (store/workload-tls.ts); owned by the server. */
  readonly tlsSource?: StoreTlsSource;
  /** `--warn`: admission reviews admit, and say what would have been refused as warnings. */
  readonly warnOnly?: boolean;
  /** Namespaces whose admission reviews are admitted without a look (default: kube-system). */
  readonly exemptNamespaces?: readonly string[];
  readonly log?: (line: string) => void;
}

export interface RunningGate {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * `evident gate serve` (docs/gate.md): `POST /v1/admit` for one artifact, `POST /validate` for a Kubernetes
 * ValidatingAdmissionWebhook (admission-review.ts), `GET /metrics`, `/healthz`, `/readyz`.
 *
 * @throws EvidentError BAD_USAGE for TLS options that do not go together; ENVIRONMENT when the address cannot be opened
 */
export async function startGateServer(options: GateServerOptions): Promise<RunningGate> {
  const source = options.tlsSource;
  try {
    return await start(options, source);
  } catch (e) {
    source?.close();
    throw e;
  }
}

async function start(options: GateServerOptions, source: StoreTlsSource | undefined): Promise<RunningGate> {
  const files = options.tlsCert !== undefined || options.tlsKey !== undefined;
  if (files && source !== undefined) {
    throw new EvidentError('BAD_USAGE', 'gate: serve HTTPS with --spiffe-socket or with --tls-cert/--tls-key, not both');
  }
  if (files && (options.tlsCert === undefined || options.tlsKey === undefined)) {
    throw new EvidentError('BAD_USAGE', 'gate: --tls-cert and --tls-key go together');
  }
  const tls: StoreTls | undefined = files ? await readTlsFiles(options.tlsCert!, options.tlsKey!, undefined) : await source?.first();
  const app = (
    tls === undefined
      ? Fastify({ bodyLimit: MAX_REVIEW_BODY_BYTES })
      : Fastify({ https: httpsOptionsOf(tls), bodyLimit: MAX_REVIEW_BODY_BYTES })
  ) as FastifyInstance;
  // a rotated SVID serves every new connection; those open finish with the one they began with
  source?.onChange((next) => (app.server as unknown as TlsServer).setSecureContext(secureContextOf(next)));
  routes(app, options);
  const host = options.host ?? '127.0.0.1';
  try {
    await app.listen({ host, port: options.port ?? 0 });
  } catch (e) {
    throw new EvidentError('ENVIRONMENT', `gate: cannot listen on ${host}:${options.port ?? 0}: ${(e as Error).message}`, { cause: e });
  }
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `${tls !== undefined ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`,
    async close() {
      source?.close();
      await app.close();
    },
  };
}

function routes(app: FastifyInstance, options: GateServerOptions): void {
  const { gate, metrics } = options;
  // JSON only: a text/plain body would otherwise reach the routes as a string
  app.removeContentTypeParser('text/plain');
  const review = { warnOnly: options.warnOnly === true, exemptNamespaces: options.exemptNamespaces ?? ['kube-system'] };

  app.addHook('onResponse', async (req, reply) => {
    metrics.requests.inc({ endpoint: req.routeOptions.url ?? 'unknown', status: String(reply.statusCode) });
  });

  app.post('/v1/admit', { bodyLimit: MAX_ADMIT_BODY_BYTES }, async (req) => {
    const { image, namespace } = admitRequest(req.body);
    return admitAnswer(await gate.decide(image, namespace !== undefined ? { namespace } : {}));
  });

  app.post('/validate', async (req) =>
    reviewAdmission(
      req.body,
      async (image, context) => {
        const verdict = await gate.decide(image, context);
        // an admission's warnings (a verdict used while the store is unreachable) reach the person deploying
        return { allowed: verdict.allowed, reasons: verdict.allowed ? verdict.warnings : verdict.reasons };
      },
      review,
    ),
  );

  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  // live while the process answers; ready once listening with its policies loaded. Readiness does not
  // follow the store: a gate out of service during a store outage would defeat its verdict cache.
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async () => ({ ready: true, policies: gate.policies.map((p) => p.name) }));

  app.setErrorHandler((e: FastifyError, req, reply) => {
    const [status, message] = describe(e, req.url);
    if (status >= 500) options.log?.(`error: ${oneLine(e.stack ?? e.message)}`);
    return reply.code(status).send({ error: oneLine(message) });
  });
}

/** `{"allowed", "layout", "reasons", …}`: the verdict as /v1/admit answers it. */
function admitAnswer(v: GateVerdict) {
  return {
    allowed: v.allowed,
    layout: v.layout,
    reasons: v.reasons,
    ...(v.warnings.length > 0 ? { warnings: v.warnings } : {}),
    ...(v.skippedInspections.length > 0 ? { skippedInspections: v.skippedInspections } : {}),
    basis: v.basis,
  };
}

/** The status and one line an error answers with. */
function describe(e: FastifyError, url: string): [number, string] {
  if (isEvidentError(e)) return e.code === 'BAD_INPUT' || e.code === 'BAD_USAGE' ? [400, e.message] : [500, 'internal error'];
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return [413, `${url}: the body is larger than ${url.startsWith('/v1/admit') ? MAX_ADMIT_BODY_BYTES : MAX_REVIEW_BODY_BYTES} bytes`];
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return [415, `${url}: the body must be JSON (Content-Type: application/json)`];
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return [400, `${url}: the body is empty; it must be a JSON object`];
  }
  const status = e.statusCode ?? 500;
  return status < 500 ? [status, `${url}: ${e.message}`] : [500, 'internal error'];
}
