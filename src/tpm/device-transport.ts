/**
 * A TPM character device: `/dev/tpmrm0` (the kernel's resource manager) or `/dev/tpm0`. A command is one
 * write(2) of the whole buffer and its response one read(2) (the driver hands the response to the first
 * read that asks for enough bytes); the read loop also accepts a response in pieces, as a pseudo-terminal
 * or a driver with partial reads gives it.
 *
 * The file stays open for the transport's life: the resource manager flushes the objects and sessions a
 * file descriptor loaded when it is closed, so the EK and AK live as long as this transport. A read that
 * times out cannot be taken back from the driver, so the transport is unusable afterwards.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { EvidentError } from '../errors.js';
import { checkCommand, HEADER_BYTES, MAX_RESPONSE_BYTES, responseSize } from './framing.js';
import type { TpmTransport } from './transport.js';

export class DeviceTransport implements TpmTransport {
  readonly description: string;
  private broken: string | undefined;

  private constructor(
    private readonly file: FileHandle,
    path: string,
    private readonly timeoutMs: number,
  ) {
    this.description = `TPM device ${path}`;
  }

  static async open(path: string, timeoutMs: number): Promise<DeviceTransport> {
    try {
      return new DeviceTransport(await open(path, 'r+'), path, timeoutMs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? 'does not exist (no TPM, or its driver is not loaded; a simulator is swtpm:host=…,port=…)'
          : code === 'EACCES' || code === 'EPERM'
            ? 'permission denied (the user needs to be in the group owning it, usually tss)'
            : code === 'EBUSY'
              ? 'is busy (another process has it open; use /dev/tpmrm0, which can be shared)'
              : (code ?? String(e));
      throw new EvidentError('ENVIRONMENT', `TPM device ${path}: ${why}`);
    }
  }

  async send(command: Buffer): Promise<Buffer> {
    if (this.broken !== undefined) throw new EvidentError('ENVIRONMENT', `${this.description}: ${this.broken}`);
    checkCommand(command, this.description);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.broken = `no answer within ${this.timeoutMs / 1000} s`;
        reject(new EvidentError('ENVIRONMENT', `${this.description}: ${this.broken}`));
      }, this.timeoutMs);
    });
    try {
      return await Promise.race([this.exchange(command), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async exchange(command: Buffer): Promise<Buffer> {
    try {
      const { bytesWritten } = await this.file.write(command, 0, command.length, null);
      if (bytesWritten !== command.length)
        throw new EvidentError('ENVIRONMENT', `${this.description}: wrote ${bytesWritten} of ${command.length} bytes`);
      const buf = Buffer.alloc(MAX_RESPONSE_BYTES);
      let got = 0;
      let size = Infinity;
      while (got < size) {
        const { bytesRead } = await this.file.read(buf, got, buf.length - got, null);
        if (bytesRead === 0) throw new EvidentError('ENVIRONMENT', `${this.description}: end of file after ${got} bytes of the response`);
        got += bytesRead;
        if (got >= HEADER_BYTES && size === Infinity) size = responseSize(buf.subarray(0, got), this.description);
      }
      if (got > size) throw new EvidentError('BAD_INPUT', `${this.description}: ${got} bytes read for a response of ${size}`);
      return Buffer.from(buf.subarray(0, size));
    } catch (e) {
      if (e instanceof EvidentError) throw e;
      throw new EvidentError('ENVIRONMENT', `${this.description}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}
