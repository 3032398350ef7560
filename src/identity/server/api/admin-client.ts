import { EvidentError } from '../../../errors.js';

/**
 * Where the server serves its admin API unless told otherwise, and where the admin commands look: one
 * place per machine, as SPIRE's /tmp/spire-server/private/api.sock, so `evident server entry create …`
 * needs no flag next to the server. The folder is the server's alone (0700).
 */
export const DEFAULT_ADMIN_SOCKET = '/tmp/evident-server/private/admin.sock';

export interface AdminResponse {
  status: number;
  /** Parsed JSON, or the text for text responses (the PEM bundle). */
  body: unknown;
}

/** An error the admin API answered with. */
export class AdminApiError extends EvidentError {
  constructor(
    readonly status: number,
    message: string,
    readonly problems: unknown,
  ) {
    super(status === 404 ? 'NOT_FOUND' : status >= 500 ? 'INTERNAL' : 'BAD_INPUT', message);
  }
}

/** A call the server has not answered in this long is given up: a stopped or wedged server must not hang the operator's command. */
export const ADMIN_TIMEOUT_MS = 30_000;

/**
 * Calls the admin API on its Unix socket; a socket nobody answers on, or a server that does not answer
 * within `timeoutMs`, is an ENVIRONMENT error (exit 3).
 */
export async function adminRequest(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
  options: { readonly timeoutMs?: number } = {},
): Promise<AdminResponse> {
  // node:http is loaded by the call, not by `evident server --help`, which imports this module too
  const { request } = await import('node:http');
  const timeoutMs = options.timeoutMs ?? ADMIN_TIMEOUT_MS;
  return new Promise((resolveCall, rejectCall) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const timer = setTimeout(() => {
      req.destroy();
      rejectCall(
        new EvidentError('ENVIRONMENT', `the server's admin API did not answer ${method} ${path} within ${timeoutMs / 1000} s`, {
          file: socketPath,
        }),
      );
    }, timeoutMs);
    const resolve = (r: AdminResponse) => {
      clearTimeout(timer);
      resolveCall(r);
    };
    const reject = (e: Error) => {
      clearTimeout(timer);
      rejectCall(e);
    };
    const req = request(
      { socketPath, method, path, headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const isJson = (res.headers['content-type'] ?? '').startsWith('application/json');
          let parsed: unknown = text;
          if (isJson) {
            try {
              parsed = JSON.parse(text);
            } catch {
              return reject(new EvidentError('ENVIRONMENT', 'admin API answered with malformed JSON', { file: socketPath }));
            }
          }
          const status = res.statusCode ?? 0;
          if (status >= 400) {
            const err = (parsed as { error?: { message?: string; problems?: unknown } }).error;
            return reject(new AdminApiError(status, err?.message ?? `admin API error ${status}`, err?.problems));
          }
          resolve({ status, body: parsed });
        });
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => {
      reject(
        new EvidentError(
          'ENVIRONMENT',
          `cannot reach the server's admin socket (${e.code ?? e.message}); is 'evident server run' running?`,
          { file: socketPath, cause: e },
        ),
      );
    });
    req.end(data);
  });
}
