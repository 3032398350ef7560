/**
 * Reading NV indices (TPM 2.0 Part 3 §31): TPM2_NV_ReadPublic for an index's attributes and size, and
 * TPM2_NV_Read in pieces of at most TPM_PT_NV_BUFFER_MAX bytes, authorized by the index's own (empty)
 * password when it allows AUTHREAD, else by the owner's when it allows OWNERREAD — as the EK certificate
 * indices of the TCG EK Credential Profile do.
 */
import { EvidentError } from '../errors.js';
import { TPM_CC, TPM_PT_NV_BUFFER_MAX, TPM_RH, TPMA_NV } from './constants.js';
import { passwordSession } from './command.js';
import { isTpmError } from './errors.js';
import { TPM_RC } from './response-codes.js';
import { readNvPublic, type NvPublic } from './structures.js';
import type { Tpm } from './tpm.js';

/** The most bytes read when the TPM does not say (every TPM allows at least this; 2048 is common). */
const FALLBACK_NV_BUFFER = 512;

/** TPM2_NV_ReadPublic; undefined when the index is not defined. */
export async function nvReadPublic(tpm: Tpm, index: number): Promise<{ public: NvPublic; name: Buffer } | undefined> {
  try {
    const { params } = await tpm.execute({ code: TPM_CC.NV_ReadPublic, handles: [index] });
    const pub = params.sized('nvPublic', readNvPublic);
    const name = params.tpm2b('nvName');
    params.end();
    if (pub.nvIndex !== index) throw params.error(`asked for index 0x${index.toString(16)}, got 0x${pub.nvIndex.toString(16)}`);
    return { public: pub, name };
  } catch (e) {
    if (isTpmError(e, TPM_RC.HANDLE)) return undefined;
    throw e;
  }
}

/** The whole contents of an NV index; undefined when it is not defined or not written. */
export async function nvReadAll(tpm: Tpm, index: number): Promise<Buffer | undefined> {
  const found = await nvReadPublic(tpm, index);
  if (found === undefined || (found.public.attributes & TPMA_NV.WRITTEN) === 0) return undefined;
  const attrs = found.public.attributes;
  const authHandle = (attrs & TPMA_NV.AUTHREAD) !== 0 ? index : (attrs & TPMA_NV.OWNERREAD) !== 0 ? TPM_RH.OWNER : undefined;
  if (authHandle === undefined)
    throw new EvidentError(
      'UNSUPPORTED',
      `NV index 0x${index.toString(16)} can be read neither with its own nor the owner's authorization`,
    );
  const chunk = (await tpm.getProperty(TPM_PT_NV_BUFFER_MAX)) || FALLBACK_NV_BUFFER;
  const parts: Buffer[] = [];
  for (let offset = 0; offset < found.public.dataSize; offset += chunk) {
    const size = Math.min(chunk, found.public.dataSize - offset);
    const { params } = await tpm.execute({
      code: TPM_CC.NV_Read,
      handles: [authHandle, index],
      sessions: [passwordSession()],
      params: (w) => w.u16(size).u16(offset),
    });
    const data = params.tpm2b('data');
    params.end();
    if (data.length !== size) throw params.error(`asked for ${size} bytes at offset ${offset}, got ${data.length}`);
    parts.push(data);
  }
  return Buffer.concat(parts);
}
