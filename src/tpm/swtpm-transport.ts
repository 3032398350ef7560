/**
 * swtpm's TCP server (`swtpm socket --tpm2 --server type=tcp,port=P --ctrl type=tcp,port=P+1`).
 *
 * Commands go framed as the TCG/Microsoft simulator protocol ("mssim", which swtpm recognises on its
 * server port): TPM_SEND_COMMAND (8, u32) · locality (u8) · length (u32) · command; the answer is
 * length (u32) · response · an acknowledgement (u32, 0). The frame carries the locality with every
 * command, so the control channel is not needed for it (tpm2-tss's swtpm TCTI sends the bare command and
 * sets the locality over the control channel instead; swtpm takes both). One connection per command, as
 * tpm2-tss does: swtpm serves one client at a time, so other tools can use the same simulator between
 * commands, and nothing of the TPM's state belongs to a connection.
 *
 * `powerOn()` is swtpm's control command CMD_INIT (2) on the control port, for a swtpm started without
 * `--flags not-need-init`: the TPM then needs TPM2_Startup (Tpm.startup).
 */
import { connect, type Socket } from 'node:net';
import { EvidentError } from '../errors.js';
import { checkCommand, HEADER_BYTES, MAX_RESPONSE_BYTES, responseSize } from './framing.js';
import type { TpmTransport } from './transport.js';

const TPM_SEND_COMMAND = 8;
const CMD_INIT = 0x02;

export class SwtpmTransport implements TpmTransport {
  readonly description: string;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly timeoutMs: number,
    private readonly locality = 0,
  ) {
    this.description = `swtpm at ${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  async send(command: Buffer): Promise<Buffer> {
    checkCommand(command, this.description);
    const head = Buffer.alloc(9);
    head.writeUInt32BE(TPM_SEND_COMMAND, 0);
    head.writeUInt8(this.locality, 4);
    head.writeUInt32BE(command.length, 5);
    const answer = await exchange(this.host, this.port, Buffer.concat([head, command]), this.timeoutMs, this.description, (got) => {
      if (got.length < 4) return undefined;
      const size = got.readUInt32BE(0);
      if (size < HEADER_BYTES || size > MAX_RESPONSE_BYTES)
        throw new EvidentError(
          'BAD_INPUT',
          `${this.description}: answer frame says ${size} bytes (a TPM response has ${HEADER_BYTES} to ${MAX_RESPONSE_BYTES})`,
        );
      return 4 + size + 4;
    });
    const size = answer.readUInt32BE(0);
    const response = answer.subarray(4, 4 + size);
    const ack = answer.readUInt32BE(4 + size);
    if (responseSize(response, this.description) !== size)
      throw new EvidentError(
        'BAD_INPUT',
        `${this.description}: frame of ${size} bytes holds a response that says ${response.readUInt32BE(2)}`,
      );
    if (ack !== 0) throw new EvidentError('ENVIRONMENT', `${this.description}: command acknowledged with error ${ack}`);
    return Buffer.from(response);
  }

  /** CMD_INIT on the control port (this port + 1): swtpm's power-on, the TPM's _TPM_Init. */
  async powerOn(): Promise<void> {
    const ctrl = `${this.description} (control port ${this.port + 1})`;
    const request = Buffer.alloc(8);
    request.writeUInt32BE(CMD_INIT, 0);
    const answer = await exchange(this.host, this.port + 1, request, this.timeoutMs, ctrl, (got) => (got.length >= 4 ? 4 : undefined));
    const result = answer.readUInt32BE(0);
    if (result !== 0) throw new EvidentError('ENVIRONMENT', `${ctrl}: CMD_INIT failed with TPM result 0x${result.toString(16)}`);
  }

  async close(): Promise<void> {}
}

/**
 * Connects, writes `request`, and collects the answer until `complete` says how long it is (undefined:
 * not known yet; it throws to refuse the answer). Every failure is one line naming `what`.
 */
function exchange(
  host: string,
  port: number,
  request: Buffer,
  timeoutMs: number,
  what: string,
  complete: (got: Buffer) => number | undefined,
): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    let got = Buffer.alloc(0);
    let settled = false;
    const socket: Socket = connect({ host, port });
    const finish = (error: Error | undefined, value?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error !== undefined) reject(error);
      else resolve(value!);
    };
    const fail = (message: string): void => finish(new EvidentError('ENVIRONMENT', `${what}: ${message}`));
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs / 1000} s`), timeoutMs);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      let need: number | undefined;
      try {
        need = complete(got);
      } catch (e) {
        finish(e as Error);
        return;
      }
      if (need !== undefined && got.length >= need) finish(undefined, got.subarray(0, need));
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED') fail(`connection refused (is swtpm listening there?)`);
      else fail(e.code ?? e.message);
    });
    socket.on('close', () =>
      fail(got.length === 0 ? 'connection closed without an answer' : `connection closed after ${got.length} bytes of the answer`),
    );
  });
}
