/**
 * SSRF rules for the `http.request` task. A URL's host is resolved once; if ANY of its addresses
 * is not a public unicast address the request is refused, unless the host is on the allow list.
 * The caller then connects to the returned address itself, so a second DNS answer (rebinding)
 * cannot redirect the connection.
 *
 * Allow list entries (HTTP_ALLOW_HOSTS, comma-separated): `hostname` (any port) or
 * `hostname:port`; IPv6 in brackets (`[::1]`, `[::1]:8080`). They match the URL's host as written,
 * after URL normalisation (lower case, IDNA, `0x7f.1` → `127.0.0.1`), not the addresses it
 * resolves to: allowing `127.0.0.1` does not allow `localhost`.
 */
import { lookup } from 'node:dns/promises';
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { TaskFailure } from '../tasks/task-definition.js';

export type BlockedClass =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'cgnat'
  | 'multicast'
  | 'reserved'
  | 'not an IP address';

export interface ResolvedAddress {
  address: string;
  family: number;
}

export type LookupAll = (hostname: string) => Promise<ResolvedAddress[]>;

export interface VettedTarget {
  /** The URL's hostname without IPv6 brackets. */
  hostname: string;
  port: number;
  /** Where to connect: one of the vetted addresses (IPv4 preferred). */
  address: string;
  family: 4 | 6;
  /** True when the host is on the allow list (its addresses were not checked). */
  allowListed: boolean;
}

const IPV4_BLOCKED: readonly [base: string, bits: number, cls: BlockedClass][] = [
  ['0.0.0.0', 8, 'unspecified'], // "this network", incl. 0.0.0.0
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'cgnat'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'], // incl. the cloud metadata address 169.254.169.254
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'], // IETF protocol assignments
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'], // benchmarking
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'], // incl. broadcast 255.255.255.255
];

/** `embedded` ranges carry an IPv4 address, which is judged by the IPv4 rules instead. */
type V6Rule = BlockedClass | 'embedded-low32' | 'embedded-6to4';
const IPV6_RULES: readonly [base: string, bits: number, rule: V6Rule][] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['::ffff:0:0', 96, 'embedded-low32'], // IPv4-mapped, ::ffff:127.0.0.1
  ['::ffff:0:0:0', 96, 'embedded-low32'], // IPv4-translated (SIIT)
  ['::', 96, 'embedded-low32'], // IPv4-compatible (deprecated), ::127.0.0.1
  ['64:ff9b::', 96, 'embedded-low32'], // NAT64
  ['64:ff9b:1::', 48, 'private'], // local-use NAT64
  ['2002::', 16, 'embedded-6to4'],
  ['100::', 64, 'reserved'], // discard-only
  ['fc00::', 7, 'private'], // unique local
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'private'], // site-local (deprecated)
  ['ff00::', 8, 'multicast'],
];

function parseIPv4(text: string): number | undefined {
  if (!isIPv4(text)) return undefined;
  return text.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function parseIPv6(text: string): bigint | undefined {
  let s = text.replace(/%.*$/, ''); // zone id, as in fe80::1%eth0
  if (!isIPv6(s)) return undefined;
  if (s.includes('.')) {
    const at = s.lastIndexOf(':') + 1;
    const v4 = parseIPv4(s.slice(at));
    if (v4 === undefined) return undefined;
    s = `${s.slice(0, at)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [left, right] = s.split('::') as [string, string | undefined];
  const head = left === '' ? [] : left.split(':');
  const tail = right === undefined || right === '' ? [] : right.split(':');
  const groups =
    right === undefined
      ? head
      : [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  if (groups.length !== 8) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

const V4_TABLE = IPV4_BLOCKED.map(([base, bits, cls]) => ({ base: parseIPv4(base)!, bits, cls }));
const V6_TABLE = IPV6_RULES.map(([base, bits, rule]) => ({
  base: parseIPv6(base)!,
  shift: BigInt(128 - bits),
  rule,
}));

function classifyIPv4(ip: number): BlockedClass | undefined {
  for (const { base, bits, cls } of V4_TABLE) {
    if (Math.floor(ip / 2 ** (32 - bits)) === Math.floor(base / 2 ** (32 - bits))) return cls;
  }
  return undefined;
}

/** Why an address may not be contacted, or undefined for a public unicast address. */
export function blockedClass(address: string): BlockedClass | undefined {
  const v4 = parseIPv4(address);
  if (v4 !== undefined) return classifyIPv4(v4);
  const v6 = parseIPv6(address);
  if (v6 === undefined) return 'not an IP address';
  for (const { base, shift, rule } of V6_TABLE) {
    if (v6 >> shift !== base >> shift) continue;
    if (rule === 'embedded-low32') return classifyIPv4(Number(v6 & 0xffffffffn));
    if (rule === 'embedded-6to4') return classifyIPv4(Number((v6 >> 80n) & 0xffffffffn));
    return rule;
  }
  return undefined;
}

function stripDot(hostname: string): string {
  return hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
}

export function defaultPort(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

/** Parses an allow list entry; undefined when it is not `host` or `host:port`. */
export function parseAllowEntry(entry: string): { hostname: string; port?: number } | undefined {
  const text = entry.trim();
  let host: string;
  let port: number | undefined;
  if (isIPv6(text)) {
    host = `[${text}]`;
  } else {
    const m = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(text);
    if (!m) return undefined;
    host = m[1]!;
    if (m[2] !== undefined) {
      port = Number(m[2]);
      if (port < 1 || port > 65_535) return undefined;
    }
  }
  try {
    const hostname = stripDot(new URL(`http://${host}/`).hostname);
    return port === undefined ? { hostname } : { hostname, port };
  } catch {
    return undefined;
  }
}

export function isAllowListed(url: URL, allowHosts: readonly string[]): boolean {
  const hostname = stripDot(url.hostname);
  const port = defaultPort(url);
  return allowHosts.some((entry) => {
    const e = parseAllowEntry(entry);
    return e !== undefined && e.hostname === hostname && (e.port === undefined || e.port === port);
  });
}

const systemLookup: LookupAll = (hostname) => lookup(hostname, { all: true });

/**
 * Resolves `url`'s host once and checks every address. Throws TaskFailure `SSRF_BLOCKED` (not
 * retryable) before any connection is made; DNS failures are thrown as they come (retryable).
 */
export async function vetTarget(
  url: URL,
  allowHosts: readonly string[],
  lookupAll: LookupAll = systemLookup,
): Promise<VettedTarget> {
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const family = isIP(hostname);
  const addresses = family !== 0 ? [{ address: hostname, family }] : await lookupAll(hostname);
  if (addresses.length === 0) {
    throw Object.assign(new Error(`${hostname} has no addresses`), { code: 'ENOTFOUND' });
  }
  const allowListed = isAllowListed(url, allowHosts);
  if (!allowListed) {
    for (const { address } of addresses) {
      const cls = blockedClass(address);
      if (cls !== undefined) {
        throw new TaskFailure(
          'SSRF_BLOCKED',
          `${url.host} resolves to ${address} (${cls}); only public addresses are allowed unless the host is in HTTP_ALLOW_HOSTS`,
        );
      }
    }
  }
  const chosen = addresses.find((a) => a.family === 4) ?? addresses[0]!;
  return {
    hostname,
    port: defaultPort(url),
    address: chosen.address,
    family: chosen.family === 6 ? 6 : 4,
    allowListed,
  };
}
