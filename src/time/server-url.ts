import { EvidentError } from '../errors.js';

/**
 * A time-stamping authority's address as given (`--timestamp-server`, `requestTimestamp`): an http or
 * https URL. Checked on its own, without the ASN.1 libraries the client loads, so a command can refuse a
 * bad one before it does any work.
 *
 * @throws EvidentError BAD_USAGE for a string that is not a URL or a URL of another scheme
 */
export function timestampServerUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new EvidentError('BAD_USAGE', `timestamp server '${oneLine(url)}' is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new EvidentError('BAD_USAGE', `timestamp server ${shownUrl(parsed)}: only http and https URLs are supported`);
  }
  return parsed;
}

/** The URL as messages show it: without a password it may carry. */
export function shownUrl(url: URL): string {
  if (url.password === '') return url.href;
  const copy = new URL(url.href);
  copy.password = '***';
  return copy.href;
}

/** Words from outside (a server's statusString, a URL as given) as part of one line: line breaks become spaces, other control characters `?`. */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what must not reach the terminal
  return text.replace(/[\r\n\t]+/g, ' ').replace(/[\x00-\x1f\x7f]/g, '?');
}
