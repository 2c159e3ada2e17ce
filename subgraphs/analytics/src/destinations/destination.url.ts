/**
 * SSRF guard of destinations: which URLs may be saved and which addresses may be connected to.
 * Only https to public addresses; http and loopback only when the service allows loopback (tests,
 * local development). Checked when a destination is saved and again on every connection (the
 * resolved address), so a name that later resolves to an internal address is refused too.
 */
import { BlockList, isIP } from 'node:net';
import { InvalidInputError } from '@marketing/platform';
import { DestinationKind } from './destination.entity.js';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Addresses no destination may reach: private, link-local (cloud metadata), reserved. */
const INTERNAL = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  INTERNAL.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const) {
  INTERNAL.addSubnet(net, prefix, 'ipv6');
}

export interface UrlPolicy {
  /** http:// and loopback addresses allowed (DESTINATIONS_ALLOW_LOOPBACK; never in production). */
  allowLoopback: boolean;
}

/** Whether a connection to `address` (an IP literal) is allowed. */
export function addressAllowed(address: string, policy: UrlPolicy): boolean {
  const ip = unmapped(address);
  const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
  if (isIP(ip) === 0) return false;
  if (LOOPBACK.check(ip, family)) return policy.allowLoopback;
  return !INTERNAL.check(ip, family);
}

/** An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, `::ffff:a00:1`) as the IPv4 address it is. */
function unmapped(address: string): string {
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (dotted) return dotted[1];
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex) return address;
  const [high, low] = [parseInt(hex[1], 16), parseInt(hex[2], 16)];
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const ip = unmapped(host);
  return isIP(ip) !== 0 && LOOPBACK.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');
}

/** The URL to save, or an InvalidInputError at `path` saying what is wrong with it. */
export function checkDestinationUrl(
  raw: string,
  kind: DestinationKind,
  policy: UrlPolicy,
  path = 'input.url',
): string {
  const problem = urlProblem(raw, kind, policy);
  if (problem) throw new InvalidInputError(problem, path);
  const url = new URL(raw.trim());
  url.hash = '';
  return url.toString();
}

function urlProblem(raw: string, kind: DestinationKind, policy: UrlPolicy): string | null {
  if (raw.length > 2_000) return 'must be at most 2000 characters';
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return 'must be an absolute URL';
  }
  const loopback = isLoopbackHost(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback && policy.allowLoopback))
    return 'must be an https URL';
  if (url.username || url.password) return 'must not carry credentials (use secret)';
  if (loopback && !policy.allowLoopback) return 'must not point at this host';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0 && !addressAllowed(host, policy))
    return 'must not point at a private or reserved address';
  if (!loopback && isIP(host) === 0 && !host.includes('.')) return 'must name a public host';
  if (kind === DestinationKind.GA4) {
    if (!url.searchParams.get('measurement_id'))
      return 'must carry the measurement_id query parameter (the API secret goes in secret)';
    if (url.searchParams.has('api_secret')) return 'must not carry api_secret (use secret)';
  }
  return null;
}
