import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EvidentError } from '../errors.js';
import { rejectionResponse } from './response.js';
import type { TimestampResponder } from './worker-pool.js';
import { formatHostPort, parseHostPort } from '../util/host-port.js';

export { parseHostPort };

/** RFC 3161 §3.4: the media types of a time-stamp query and of its reply. */
export const TIMESTAMP_QUERY = 'application/timestamp-query';
export const TIMESTAMP_REPLY = 'application/timestamp-reply';

/** The path the TSA answers on. */
export const TSA_PATH = '/tsa';

/** A TimeStampReq is a hash and a few small fields (openssl's are under 100 bytes); anything far larger is not one. */
export const DEFAULT_MAX_REQUEST_BYTES = 16 * 1024;

export interface TsaHandlerOptions {
  /** Requests larger than this are refused (HTTP 413, with a badDataFormat reply) without being read whole. */
  maxRequestBytes?: number;
}

/**
 * The HTTP side of a TSA (RFC 3161 §3.4), for any node:http server: `POST /tsa` with a body of type
 * application/timestamp-query is answered 200 with an application/timestamp-reply, a token or a
 * rejection (the authority never fails to answer). Other paths are 404, other methods 405, other
 * media types 415. The authority is a TimestampAuthority or a TsaWorkerPool of them. The identity server
 * mounts this on its own listener; `startTsaServer` runs it alone.
 *
 * @example createServer(tsaRequestHandler(authority)).listen(3161, '127.0.0.1');
 */
export function tsaRequestHandler(
  authority: TimestampResponder,
  options: TsaHandlerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const maxBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  return (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== TSA_PATH) return plain(req, res, 404, 'not found: the TSA answers on POST /tsa');
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return plain(req, res, 405, 'the TSA answers POST only');
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== TIMESTAMP_QUERY) return plain(req, res, 415, `the body must be ${TIMESTAMP_QUERY}`);
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBytes) return tooLarge(req, res, maxBytes);
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > maxBytes) {
        refused = true;
        chunks.length = 0;
        tooLarge(req, res, maxBytes);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (refused) return;
      void answer(authority, Buffer.concat(chunks, size)).then((body) => reply(res, 200, TIMESTAMP_REPLY, body));
    });
    // a client that goes away mid-request: nothing to answer
    req.on('error', () => undefined);
  };
}

/** The authority's answer; should it ever fail (it is not meant to), a systemFailure rejection rather than no answer. */
async function answer(authority: TimestampResponder, request: Buffer): Promise<Buffer> {
  try {
    return await authority.respond(request);
  } catch {
    return rejectionResponse('systemFailure', 'the TSA could not make a token');
  }
}

function reply(res: ServerResponse, status: number, type: string, body: Buffer | string): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** An answer before the body is read: the rest of the body is drained, and the connection closed after it. */
function plain(req: IncomingMessage, res: ServerResponse, status: number, text: string): void {
  req.resume();
  res.setHeader('connection', 'close');
  reply(res, status, 'text/plain; charset=utf-8', `${text}\n`);
}

function tooLarge(req: IncomingMessage, res: ServerResponse, maxBytes: number): void {
  req.resume();
  res.setHeader('connection', 'close');
  reply(res, 413, TIMESTAMP_REPLY, rejectionResponse('badDataFormat', `the request is larger than ${maxBytes} bytes`));
}

export interface TsaServerOptions extends TsaHandlerOptions {
  authority: TimestampResponder;
  /** The address to listen on; default 127.0.0.1. */
  host?: string;
  /** The port; 0 (the default) picks a free one. */
  port?: number;
}

/** A TSA listening over HTTP. */
export interface TsaServer {
  /** Where clients send requests: `http://HOST:PORT/tsa`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves `authority` over HTTP until closed. A slow or stalled client cannot hold a connection for long:
 * headers must arrive within 10 s and the whole request within 30 s.
 *
 * @throws EvidentError ENVIRONMENT when the address cannot be listened on (in use, not this machine's)
 */
export async function startTsaServer(options: TsaServerOptions): Promise<TsaServer> {
  const server: Server = createServer(tsaRequestHandler(options.authority, options));
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new EvidentError('ENVIRONMENT', `cannot listen on ${formatHostPort(host, options.port ?? 0)}: ${e.code ?? e.message}`, {
          cause: e,
        }),
      ),
    );
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${formatHostPort(host, port)}${TSA_PATH}`,
    host,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
