/**
 * Join-token node attestation as both sides speak it: the agent sends the token an operator generated,
 * as its UTF-8 bytes; the server looks it up (and uses it up).
 */

/** The attestor type, as the agent sends it and the server registers it. */
export const JOIN_TOKEN_TYPE = 'join_token';

/** The characters and length a token can have; anything else is refused before the datastore is asked. */
const TOKEN = /^[A-Za-z0-9._-]{1,128}$/;

/** The agent side: the AttestParams payload for a token. */
export function joinTokenPayload(token: string): Buffer {
  return Buffer.from(token, 'utf8');
}

/** The server side: the token a payload carries, or undefined when it cannot be a token. */
export function parseJoinTokenPayload(payload: Uint8Array): string | undefined {
  const token = Buffer.from(payload).toString('utf8');
  return TOKEN.test(token) ? token : undefined;
}
