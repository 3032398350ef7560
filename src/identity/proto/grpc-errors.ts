import { status, type ServiceError } from '@grpc/grpc-js';
import { EvidentError, type EvidentErrorCode } from '../../errors.js';

/**
 * grpc-js reports a failed connection in its own words (`No connection established. Last error: Error:
 * connect ECONNREFUSED 127.0.0.1:8081. Resolution note: `, `Name resolution failed for target dns:…`,
 * OpenSSL's `0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/…`). A person
 * needs one line: which address, what went wrong, what to check. These are those lines.
 */

/** What went wrong connecting to `address`, from the transport error grpc-js quotes; undefined when it is not a transport problem. */
export function connectionProblem(details: string, address: string): string | undefined {
  const host = hostOf(address);
  const last = lastError(details);
  const said = (re: RegExp): boolean => re.test(details);
  if (said(/Name resolution failed|ENOTFOUND|EAI_AGAIN|getaddrinfo/)) return `no such host '${host}' (check the address)`;
  if (said(/ECONNREFUSED/)) return 'connection refused (is the server running, and listening on that address?)';
  if (said(/EHOSTUNREACH|ENETUNREACH/)) return 'no route to that host (check the address and the network)';
  if (said(/ETIMEDOUT/)) return 'the connection timed out (check the address, and that no firewall drops the packets)';
  if (said(/wrong version number|packet length too long|http request/i))
    return "it does not speak TLS (is that the server's agent API address, not another service?)";
  if (said(/server identity is /)) return `it is not this trust domain's server: ${last}`;
  if (said(/certificate|self.signed|unable to get|CERT_|issuer/i))
    return `its TLS certificate is not trusted (${last}): check the trust bundle the agent was given, and that the address is the right server`;
  if (said(/ECONNRESET|socket disconnected|socket hang up|Connection dropped|closed/i))
    return "the connection was closed during the TLS handshake (is that the server's agent API address? does the server still know this agent?)";
  if (said(/No connection established|Last error/)) return last;
  return undefined;
}

/** What went wrong connecting to a Unix socket (the Workload API's), from the transport error grpc-js quotes. */
export function socketProblem(details: string): string {
  if (/ENOENT/.test(details)) return 'no such socket (is the agent running, and serving on this socket?)';
  if (/ECONNREFUSED/.test(details)) return 'nothing serves on this socket (left by an agent that stopped?)';
  if (/EACCES|EPERM/.test(details)) return 'permission denied on the socket';
  return lastError(details);
}

/**
 * A failed call of `rpc` to the agent API at `address`, as an EvidentError whose message is one line and
 * whose `cause` is the gRPC error (`cause.code` is the gRPC status, which the agent's retry logic reads).
 */
export function agentApiError(rpc: string, address: string, err: ServiceError): EvidentError {
  const code: EvidentErrorCode =
    err.code === status.UNAVAILABLE || err.code === status.DEADLINE_EXCEEDED
      ? 'ENVIRONMENT'
      : err.code === status.PERMISSION_DENIED || err.code === status.UNAUTHENTICATED
        ? 'BAD_SIGNATURE'
        : err.code === status.INVALID_ARGUMENT || err.code === status.NOT_FOUND
          ? 'BAD_INPUT'
          : 'INTERNAL';
  return new EvidentError(code, agentApiMessage(rpc, address, err), { cause: err });
}

function agentApiMessage(rpc: string, address: string, err: ServiceError): string {
  const details = oneLine(err.details || err.message);
  if (err.code === status.DEADLINE_EXCEEDED)
    return `no answer from the server at ${address} in time (is that the server's agent API address? is it overloaded?)`;
  if (err.code === status.UNAVAILABLE) {
    const problem = connectionProblem(err.details || err.message, address);
    return `cannot connect to the server at ${address}: ${problem ?? (details || 'unavailable')}`;
  }
  // the server's own refusal (a used join token, an unknown agent): its words are for the operator
  return `agent API: ${rpc}: ${details || status[err.code] || String(err.code)}`;
}

/**
 * grpc-js's message when the server cannot listen (`No address added out of total 1 resolved errors:
 * [listen EADDRINUSE: address already in use 127.0.0.1:8081]`) as the one thing to fix.
 */
export function listenProblem(message: string, address: string): string {
  const host = hostOf(address);
  if (/EADDRINUSE/.test(message)) return `cannot listen on ${address}: the address is in use (is another server running? choose another --bind)`;
  if (/EADDRNOTAVAIL/.test(message)) return `cannot listen on ${address}: ${host} is not an address of this machine (check --bind)`;
  if (/EACCES|EPERM/.test(message)) return `cannot listen on ${address}: permission denied (ports below 1024 need privileges)`;
  if (/Name resolution failed|ENOTFOUND|EAI_AGAIN/.test(message)) return `cannot listen on ${address}: no such host '${host}' (check --bind)`;
  const inner = /errors: \[(.*)\]$/s.exec(message)?.[1];
  return `cannot listen on ${address}: ${oneLine(inner ?? message)}`;
}

function hostOf(address: string): string {
  const colon = address.lastIndexOf(':');
  return (colon > 0 ? address.slice(0, colon) : address).replace(/^\[(.*)\]$/, '$1');
}

/** The `Last error:` grpc-js quotes, without its `Error: ` prefix, OpenSSL's source location or the resolution note. */
function lastError(details: string): string {
  const m = /Last error: (?:Error: )?(.*?)(?:\.?\s*Resolution note:.*)?$/s.exec(details);
  const text = m ? m[1]! : details.replace(/\s*Resolution note:\s*$/, '');
  return oneLine(text.replace(/:\.\.\/deps\/openssl\/\S*/g, ''));
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
