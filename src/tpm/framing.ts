/**
 * The framing both transports rely on: every TPM command and response starts with a 10-byte header (tag,
 * size, code) whose size is the whole buffer's (TPM 2.0 Part 1 §18.2). Responses are bounded here.
 */
import { EvidentError } from '../errors.js';

/**
 * The largest response accepted. TPMs answer with at most TPM_PT_MAX_RESPONSE_SIZE bytes, 4096 on every
 * TPM seen and the Linux driver's buffer size; a larger size field is a broken or hostile peer.
 */
export const MAX_RESPONSE_BYTES = 16 * 1024;
/** The header of every command and response: tag (2), size (4), command or response code (4). */
export const HEADER_BYTES = 10;
/**
 * Long enough for the slowest command a hardware TPM runs here: generating an RSA-2048 primary key takes
 * seconds on most TPMs and tens of seconds on some.
 */
export const DEFAULT_TIMEOUT_MS = 120_000;

/** The size a command or response says it has, checked against the bytes: for the framing in both directions. */
export function framedSize(buf: Buffer, what: string): number {
  if (buf.length < HEADER_BYTES) throw new EvidentError('BAD_INPUT', `${what}: ${buf.length} bytes is shorter than a TPM header`);
  return buf.readUInt32BE(2);
}

/** A command must say its own length; the device and swtpm both rely on it. */
export function checkCommand(command: Buffer, description: string): void {
  const size = framedSize(command, `${description}: command`);
  if (size !== command.length)
    throw new EvidentError('BAD_INPUT', `${description}: command header says ${size} bytes, it has ${command.length}`);
}

/** A response's header size, refused when it cannot be a TPM response. */
export function responseSize(header: Buffer, description: string): number {
  const size = framedSize(header, `${description}: response`);
  if (size < HEADER_BYTES || size > MAX_RESPONSE_BYTES)
    throw new EvidentError(
      'BAD_INPUT',
      `${description}: response header says ${size} bytes (a TPM response has ${HEADER_BYTES} to ${MAX_RESPONSE_BYTES})`,
    );
  return size;
}
