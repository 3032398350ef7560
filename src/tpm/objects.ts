/**
 * Keys in the TPM (TPM 2.0 Part 3 §12, §24): TPM2_CreatePrimary (a primary key of a hierarchy, derived from
 * its seed and the template, so the same template gives the same key again), TPM2_Create and TPM2_Load (a
 * child key: created as a blob, then loaded under its parent), and TPM2_ReadPublic. Every public area read
 * back is kept as the TPM's bytes (`publicArea`), and the name the TPM states is checked against the name
 * computed from them, so what the caller hashes or sends is exactly what the TPM has.
 */
import { EvidentError } from '../errors.js';
import { commandName, TPM_CC } from './constants.js';
import { passwordSession, type AuthSession } from './command.js';
import type { TpmReader } from './marshal.js';
import { publicName } from './public-key.js';
import { parsePublic, readTicket, writePcrSelection, writePublic, writeSensitiveCreate, type TpmPublic } from './structures.js';
import type { Tpm } from './tpm.js';

export interface TpmObject {
  readonly public: TpmPublic;
  /** The marshalled TPMT_PUBLIC, as the TPM returned it. */
  readonly publicArea: Buffer;
  /** nameAlg || H(publicArea). */
  readonly name: Buffer;
}

export interface LoadedObject extends TpmObject {
  readonly handle: number;
}

/** A created, not yet loaded, key: its public area and its private blob (wrapped by the parent). */
export interface CreatedObject extends TpmObject {
  /** The contents of TPM2B_PRIVATE. */
  readonly private: Buffer;
}

function readPublicArea(r: TpmReader, code: number): { public: TpmPublic; publicArea: Buffer; name: Buffer } {
  const publicArea = r.tpm2b('outPublic');
  return { public: parsePublic(publicArea, `${commandName(code)} outPublic`), publicArea, name: publicName(publicArea) };
}

function checkName(code: number, computed: Buffer, stated: Buffer): void {
  if (!computed.equals(stated))
    throw new EvidentError(
      'BAD_INPUT',
      `${commandName(code)}: the TPM names the object ${stated.toString('hex')}, its public area hashes to ${computed.toString('hex')}`,
    );
}

/** Reads past creationData, creationHash and creationTicket, which attestation here does not use. */
function skipCreation(r: TpmReader): void {
  r.tpm2b('creationData');
  r.tpm2b('creationHash');
  readTicket(r, 'creationTicket');
}

/** TPM2_CreatePrimary in `hierarchy` (TPM_RH_ENDORSEMENT for the EK), authorized by `auth` (empty password by default). */
export async function createPrimary(
  tpm: Tpm,
  hierarchy: number,
  template: TpmPublic,
  auth: AuthSession = passwordSession(),
): Promise<LoadedObject> {
  const { handles, params } = await tpm.execute(
    {
      code: TPM_CC.CreatePrimary,
      handles: [hierarchy],
      sessions: [auth],
      params: (w) => {
        writeSensitiveCreate(w);
        w.sized((p) => writePublic(p, template), 'TPM2B_PUBLIC');
        w.tpm2b(Buffer.alloc(0), 'outsideInfo');
        writePcrSelection(w, []);
      },
    },
    1,
  );
  const object = readPublicArea(params, TPM_CC.CreatePrimary);
  skipCreation(params);
  const name = params.tpm2b('name');
  params.end();
  checkName(TPM_CC.CreatePrimary, object.name, name);
  return { handle: handles[0]!, ...object };
}

/** TPM2_Create: a child of `parent` from `template`, with an empty password. `parentAuth` authorizes the parent. */
export async function create(tpm: Tpm, parent: number, parentAuth: AuthSession, template: TpmPublic): Promise<CreatedObject> {
  const { params } = await tpm.execute({
    code: TPM_CC.Create,
    handles: [parent],
    sessions: [parentAuth],
    params: (w) => {
      writeSensitiveCreate(w);
      w.sized((p) => writePublic(p, template), 'TPM2B_PUBLIC');
      w.tpm2b(Buffer.alloc(0), 'outsideInfo');
      writePcrSelection(w, []);
    },
  });
  const priv = params.tpm2b('outPrivate');
  const object = readPublicArea(params, TPM_CC.Create);
  skipCreation(params);
  params.end();
  return { private: priv, ...object };
}

/** TPM2_Load of a created key under `parent`. */
export async function load(tpm: Tpm, parent: number, parentAuth: AuthSession, key: CreatedObject): Promise<LoadedObject> {
  const { handles, params } = await tpm.execute(
    {
      code: TPM_CC.Load,
      handles: [parent],
      sessions: [parentAuth],
      params: (w) => w.tpm2b(key.private, 'inPrivate').tpm2b(key.publicArea, 'inPublic'),
    },
    1,
  );
  const name = params.tpm2b('name');
  params.end();
  checkName(TPM_CC.Load, key.name, name);
  return { handle: handles[0]!, public: key.public, publicArea: key.publicArea, name: key.name };
}

/** TPM2_ReadPublic of a loaded or persistent object. */
export async function readPublic(tpm: Tpm, handle: number): Promise<LoadedObject & { qualifiedName: Buffer }> {
  const { params } = await tpm.execute({ code: TPM_CC.ReadPublic, handles: [handle] });
  const object = readPublicArea(params, TPM_CC.ReadPublic);
  const name = params.tpm2b('name');
  const qualifiedName = params.tpm2b('qualifiedName');
  params.end();
  checkName(TPM_CC.ReadPublic, object.name, name);
  return { handle, ...object, qualifiedName };
}
