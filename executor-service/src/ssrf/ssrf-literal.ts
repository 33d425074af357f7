/**
 * The part of the SSRF rules the store can apply at submit time: a JSON Schema for `url` that
 * refuses hosts which are internal as written, so that the client gets a 422 instead of a task
 * that can only fail. Refused (unless the host is in HTTP_ALLOW_HOSTS, as written there):
 *
 * - dotted-decimal IPv4 in a range ssrf.ts blocks (loopback, private, link-local, CGNAT, ...);
 * - every other IPv4 spelling (`127.1`, `2130706433`, `0x7f.1`, `0177.0.0.1`): URL parsers turn
 *   them into addresses, and only filter evasion needs them;
 * - IPv6 literals outside global unicast 2000::/3, 6to4 (2002::/16) and any with an embedded
 *   IPv4 (`[::1]`, `[::ffff:127.0.0.1]`, `[fd00::1]`, `[fe80::1]`);
 * - `localhost` and `*.localhost` (RFC 6761: always loopback), percent-encoded hosts and hosts
 *   with a tab or line break (which parsers drop).
 *
 * Names that resolve to internal addresses, and redirects, can only be judged at run time:
 * ssrf.ts stays the authority and checks every URL again after resolution.
 */
import { parseAllowEntry } from './ssrf.js';

/** Where a host ends: an optional port, then path, query, fragment or the end (not userinfo's `:`). */
const END = '(?=(?::[0-9]*)?(?:[/\\\\?#]|$))';
const LABEL_CHARS = '[^/\\\\?#:@\\[\\]]';
const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const DOTTED = `${OCTET}(?:\\.${OCTET}){3}\\.?${END}`;
/** The first octets of the IPv4 ranges ssrf.ts blocks, in dotted decimal. */
const BLOCKED_V4_PREFIXES = [
  '(?:0|10|127)\\.',
  '169\\.254\\.',
  '172\\.(?:1[6-9]|2[0-9]|3[01])\\.',
  '192\\.168\\.',
  '192\\.0\\.0\\.',
  '100\\.(?:6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\\.',
  '198\\.1[89]\\.',
  '(?:22[4-9]|2[3-5][0-9])\\.',
];

function caseless(text: string): string {
  return text.replace(/[a-z]/gi, (ch) => `[${ch.toLowerCase()}${ch.toUpperCase()}]`);
}

function escape(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

const HOSTS = [
  // IPv4 in dotted decimal, in a blocked range
  `(?=${DOTTED})(?:${BLOCKED_V4_PREFIXES.join('|')})`,
  // any other host whose last label is a number is an IPv4 address in another spelling
  `(?!${DOTTED})(?:${LABEL_CHARS}*\\.)?(?:0[xX][0-9a-fA-F]*|[0-9]+)\\.?${END}`,
  // IPv6 outside 2000::/3, 6to4, or with an embedded IPv4
  '\\[(?![23][0-9a-fA-F]{3}:[^\\].]*\\])',
  '\\[2002:',
  `(?:${LABEL_CHARS}*\\.)?${caseless('localhost')}\\.?${END}`,
  `${LABEL_CHARS}*%${LABEL_CHARS}*${END}`,
  // URL parsers drop tabs and line breaks anywhere (127.0.0.\t1 is 127.0.0.1)
  `${LABEL_CHARS}*[\\t\\n\\r]`,
];

/** A negative lookahead for each allow-list entry, so an allowed host passes as written there. */
function allowed(allowHosts: readonly string[]): string {
  return allowHosts
    .map((entry) => parseAllowEntry(entry))
    .filter((e) => e !== undefined)
    .map((e) => {
      const host = caseless(escape(e.hostname));
      const port = e.port === undefined ? '(?::[0-9]*)?' : `:${e.port}`;
      return `(?!${host}\\.?${port}(?=[/\\\\?#]|$))`;
    })
    .join('');
}

/**
 * A schema that matches the http(s) URLs whose host is internal as written (see above); the
 * payload schema puts it under `not`. Its description becomes the 422's field message.
 */
export function internalHostSchema(allowHosts: readonly string[]): { pattern: string; description: string } {
  return {
    pattern: `^[hH][tT][tT][pP][sS]?:[/\\\\]+(?:[^/\\\\?#]*@)?${allowed(allowHosts)}(?:${HOSTS.join('|')})`,
    description:
      'an internal address: loopback, private, link-local or reserved IP literals, IPv4 in any spelling ' +
      'but dotted decimal, localhost and percent-encoded hosts are refused (HTTP_ALLOW_HOSTS lists exceptions)',
  };
}
