/**
 * A TPM 2.0 command and its response (TPM 2.0 Part 1 §18, Part 3 §5): the header (tag, size, command
 * code), the handle area, the authorization area when the command has sessions, the parameters; a
 * response has the same header with a response code, then its handles, then (with sessions) the size of
 * its parameters, the parameters, and one authorization per session.
 *
 * Two kinds of session are used: the password "session" TPM_RS_PW, and policy sessions whose policy
 * needs no authValue (the EK's PolicySecret). Neither carries an HMAC, so no session key, nonce or
 * cpHash is computed, and the response's authorizations are read past, not checked.
 */
import { commandName, TPM_RH, TPM_ST } from './constants.js';
import { TpmError } from './errors.js';
import { TpmReader, TpmWriter } from './marshal.js';

/** One entry of the authorization area (TPMS_AUTH_COMMAND). */
export interface AuthSession {
  readonly handle: number;
  readonly nonce: Buffer;
  readonly attributes: number;
  /** The HMAC, or for TPM_RS_PW the password itself. */
  readonly hmac: Buffer;
}

const EMPTY = Buffer.alloc(0);

/** TPM_RS_PW with a password (empty: the hierarchies' and our keys' default). */
export function passwordSession(password: Buffer = EMPTY): AuthSession {
  return { handle: TPM_RH.RS_PW, nonce: EMPTY, attributes: 0, hmac: password };
}

/**
 * A policy session whose policy is already satisfied and needs no authValue. Without continueSession the
 * TPM flushes it after the command succeeds.
 */
export function policySessionAuth(handle: number): AuthSession {
  return { handle, nonce: EMPTY, attributes: 0, hmac: EMPTY };
}

export interface Command {
  readonly code: number;
  readonly handles?: readonly number[];
  /** One per handle that needs authorization, in the handles' order. */
  readonly sessions?: readonly AuthSession[];
  readonly params?: (w: TpmWriter) => void;
}

export function marshalCommand(c: Command): Buffer {
  const sessions = c.sessions ?? [];
  const body = new TpmWriter();
  for (const h of c.handles ?? []) body.u32(h);
  if (sessions.length > 0) {
    const auth = new TpmWriter();
    for (const s of sessions) auth.u32(s.handle).tpm2b(s.nonce, 'nonceCaller').u8(s.attributes).tpm2b(s.hmac, 'hmac');
    body.u32(auth.size).bytes(auth.toBuffer());
  }
  c.params?.(body);
  const out = new TpmWriter().u16(sessions.length > 0 ? TPM_ST.SESSIONS : TPM_ST.NO_SESSIONS);
  return out
    .u32(10 + body.size)
    .u32(c.code)
    .bytes(body.toBuffer())
    .toBuffer();
}

export interface Response {
  readonly handles: number[];
  /** The response parameters; the caller reads them and calls `end()`. */
  readonly params: TpmReader;
}

/**
 * Reads a response to `c`, which returns `handleCount` handles.
 *
 * @throws TpmError when the TPM answered with an error; EvidentError BAD_INPUT when the bytes are not a
 *   response to such a command
 */
export function unmarshalResponse(c: Command, response: Buffer, handleCount = 0): Response {
  const r = new TpmReader(response, `${commandName(c.code)} response`);
  const tag = r.u16('tag');
  const size = r.u32('responseSize');
  const rc = r.u32('responseCode');
  if (size !== response.length) throw r.error(`header says ${size} bytes, it has ${response.length}`);
  if (rc !== 0) throw new TpmError(c.code, rc);
  const withSessions = (c.sessions ?? []).length > 0;
  if (tag !== (withSessions ? TPM_ST.SESSIONS : TPM_ST.NO_SESSIONS)) throw r.error(`unexpected tag 0x${tag.toString(16)}`);
  const handles: number[] = [];
  for (let i = 0; i < handleCount; i++) handles.push(r.u32('handle'));
  if (!withSessions) return { handles, params: new TpmReader(r.bytes(r.remaining), r.what) };
  const params = new TpmReader(r.bytes(r.u32('parameterSize'), 'parameters'), r.what);
  for (let i = 0; i < c.sessions!.length; i++) {
    r.tpm2b('nonceTPM');
    r.u8('sessionAttributes');
    r.tpm2b('hmac');
  }
  r.end();
  return { handles, params };
}
