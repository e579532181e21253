// Which hosts a load test may target: the allowlist, loopback in every spelling, and the metadata service never.

import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { LoadTestLimits } from './limits.ts';

export type SpecialAddress = 'loopback' | 'link-local';

/** 127.0.0.0/8, and 0.0.0.0/8, which reaches this machine too on Linux; ::, ::1 and IPv4-compatible forms of these. */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8);
LOOPBACK.addSubnet('0.0.0.0', 8);
LOOPBACK.addSubnet('::7f00:0', 104, 'ipv6');
LOOPBACK.addSubnet('::', 104, 'ipv6');
/** Link-local, where the instance metadata lives, with the EC2 instance metadata service's IPv6 address. */
const LINK_LOCAL = new BlockList();
LINK_LOCAL.addSubnet('169.254.0.0', 16);
LINK_LOCAL.addSubnet('::a9fe:0', 112, 'ipv6');
LINK_LOCAL.addSubnet('fe80::', 10, 'ipv6');
LINK_LOCAL.addAddress('fd00:ec2::254', 'ipv6');

/**
 * Whether a hostname, as `new URL` normalises it (so decimal, hex and octal IPv4 spellings arrive dotted and
 * IPv6 compressed), names this machine or the link-local range where the instance metadata lives. A BlockList
 * matches the IPv4-mapped IPv6 form (::ffff:a.b.c.d) of an IPv4 range as well.
 */
export function specialAddress(hostname: string): SpecialAddress | undefined {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return 'loopback';
  const address = name.startsWith('[') ? name.slice(1, -1) : name;
  const family = isIPv4(name) ? 'ipv4' : name.startsWith('[') && isIPv6(address) ? 'ipv6' : undefined;
  if (family === undefined) return undefined;
  if (LOOPBACK.check(address, family)) return 'loopback';
  return LINK_LOCAL.check(address, family) ? 'link-local' : undefined;
}

type TargetRules = Pick<LoadTestLimits, 'allowedHosts' | 'allowLoopback' | 'refusedLoopbackPorts'>;

/** Why a target may not be load-tested, or undefined when it may. */
export function targetRefusal(target: string, rules: TargetRules): string | undefined {
  const url = new URL(target);
  const host = url.host.toLowerCase();
  const hostname = url.hostname.toLowerCase();
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const kind = specialAddress(hostname);
  if (kind === 'loopback' && rules.refusedLoopbackPorts.includes(port)) {
    return `port ${port} of ${hostname} is the stack's own PostgreSQL, never a load-test target`;
  }
  const listed = rules.allowedHosts.some((allowed) => {
    const entry = allowed.toLowerCase();
    return entry === host || entry === hostname;
  });
  if (listed || (kind === 'loopback' && rules.allowLoopback)) return undefined;
  if (kind !== undefined) {
    return `host "${url.host}" is a ${kind} address, refused unless listed in LOADTEST_ALLOWED_HOSTS (host or host:port)`;
  }
  const allowlist = [
    ...(rules.allowLoopback ? ['localhost', '127.0.0.1', '[::1]'] : []),
    ...rules.allowedHosts,
  ];
  return `host "${url.host}" is not on the allowlist (${allowlist.join(', ') || 'empty'}); add it to LOADTEST_ALLOWED_HOSTS`;
}

export function isAllowedTarget(target: string, rules: TargetRules): boolean {
  return targetRefusal(target, rules) === undefined;
}

/** The limits with the database's own port refused when that database listens on this machine. */
export function refuseDatabasePort(
  limits: LoadTestLimits,
  database: { host: string; port: number },
): LoadTestLimits {
  const host =
    database.host.includes(':') && !database.host.startsWith('[') ? `[${database.host}]` : database.host;
  if (specialAddress(host) !== 'loopback') return limits;
  return { ...limits, refusedLoopbackPorts: [...new Set([...limits.refusedLoopbackPorts, database.port])] };
}
