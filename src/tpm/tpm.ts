/**
 * A connection to one TPM: commands are marshalled (command.ts), sent one at a time over the transport
 * (a TPM runs one command at a time, so concurrent callers are queued here), and their responses read.
 * The commands themselves are functions over a Tpm, one file per concept: objects.ts, sessions.ts,
 * nv.ts, activate-credential.ts; the few that concern the TPM as a whole are here.
 */
import { TPM_CAP_TPM_PROPERTIES, TPM_CC, TPM_SU } from './constants.js';
import { isTpmError } from './errors.js';
import { marshalCommand, unmarshalResponse, type Command, type Response } from './command.js';
import { TPM_RC } from './response-codes.js';
import { openTransport, type TpmTransport, type TransportOptions } from './transport.js';
import type { Tcti } from './tcti.js';

const RETRIED: readonly number[] = [TPM_RC.RETRY, TPM_RC.YIELDED, TPM_RC.TESTING];
const MAX_ATTEMPTS = 10;
const RETRY_DELAY_MS = 20;

export class Tpm {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly transport: TpmTransport) {}

  /** Opens the TPM a TCTI string names (`device:/dev/tpmrm0`, the default, or `swtpm:host=…,port=…`). */
  static async open(tcti?: string | Tcti, options: TransportOptions = {}): Promise<Tpm> {
    return new Tpm(await openTransport(tcti, options));
  }

  /**
   * Runs one command once the previous ones have finished; see unmarshalResponse for what it throws. A TPM
   * that answers TPM_RC_RETRY, TPM_RC_YIELDED or TPM_RC_TESTING did not start the command (or asks for it
   * again), so the same bytes are sent again, a few times, as tpm2-tss does.
   */
  execute(command: Command, responseHandles = 0): Promise<Response> {
    const bytes = marshalCommand(command);
    const run = this.queue.then(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return unmarshalResponse(command, await this.transport.send(bytes), responseHandles);
        } catch (e) {
          if (attempt >= MAX_ATTEMPTS || !RETRIED.some((rc) => isTpmError(e, rc))) throw e;
          await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS * attempt));
        }
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * TPM2_Startup(CLEAR). A TPM already started (every TPM after boot, swtpm with `startup-clear`) answers
   * TPM_RC_INITIALIZE, which is not an error here.
   */
  async startup(): Promise<void> {
    try {
      (await this.execute({ code: TPM_CC.Startup, params: (w) => w.u16(TPM_SU.CLEAR) })).params.end();
    } catch (e) {
      if (!isTpmError(e, TPM_RC.INITIALIZE)) throw e;
    }
  }

  /** TPM2_FlushContext: unloads a transient object or a session. */
  async flushContext(handle: number): Promise<void> {
    (await this.execute({ code: TPM_CC.FlushContext, params: (w) => w.u32(handle) })).params.end();
  }

  /** One fixed or variable property (TPM2_GetCapability, TPM_CAP_TPM_PROPERTIES); undefined when the TPM does not report it. */
  async getProperty(property: number): Promise<number | undefined> {
    const { params } = await this.execute({
      code: TPM_CC.GetCapability,
      params: (w) => w.u32(TPM_CAP_TPM_PROPERTIES).u32(property).u32(1),
    });
    params.u8('moreData');
    if (params.u32('capability') !== TPM_CAP_TPM_PROPERTIES) throw params.error('answered another capability');
    const count = params.u32('TPML_TAGGED_TPM_PROPERTY.count');
    let value: number | undefined;
    for (let i = 0; i < count; i++) {
      const p = params.u32('property');
      const v = params.u32('value');
      if (p === property) value = v;
    }
    params.end();
    return value;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.transport.close();
  }
}
