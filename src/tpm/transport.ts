/**
 * How command bytes reach a TPM and its response comes back. A transport moves whole buffers and knows
 * nothing of their contents beyond the 10-byte header (tag, size, code) that frames every command and
 * response; it bounds the response (MAX_RESPONSE_BYTES), gives up after a timeout, and reports every
 * failure as one line naming the TPM (`swtpm at 127.0.0.1:2321: connection refused …`). One command is
 * in flight at a time: the caller (Tpm, tpm.ts) queues them.
 */
import { DEFAULT_TIMEOUT_MS } from './framing.js';
import { DeviceTransport } from './device-transport.js';
import { SwtpmTransport } from './swtpm-transport.js';
import { parseTcti, type Tcti } from './tcti.js';

export interface TpmTransport {
  /** Where the TPM is, for messages: `swtpm at 127.0.0.1:2321`, `TPM device /dev/tpmrm0`. */
  readonly description: string;
  /** Sends one command and resolves to its whole response. */
  send(command: Buffer): Promise<Buffer>;
  close(): Promise<void>;
}

export interface TransportOptions {
  /** Per command, in milliseconds. */
  readonly timeoutMs?: number;
}

export async function openTransport(tcti: Tcti | string | undefined, options: TransportOptions = {}): Promise<TpmTransport> {
  const t = typeof tcti === 'object' ? tcti : parseTcti(tcti);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (t.kind === 'device') return DeviceTransport.open(t.path, timeoutMs);
  return new SwtpmTransport(t.host, t.port, timeoutMs);
}
