// Which hosts a load test may target: the allowlist, loopback in every spelling, and the metadata service never.

import type { LoadTestLimits } from './limits.ts';

export type SpecialAddress = 'loopback' | 'link-local';

/** The eight 16-bit groups of an IPv6 address as `new URL` writes it (compressed, no dotted quad), or null. */
function ipv6Groups(address: string): number[] | null {
  const [head = '', tail] = address.split('::');
  const part = (text: string) =>
    text === '' ? [] : text.split(':').map((group) => Number.parseInt(group, 16));
  const left = part(head);
  const right = tail === undefined ? [] : part(tail);
  const groups =
    tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
  return groups.length === 8 && groups.every((group) => Number.isInteger(group)) ? groups : null;
}

function ipv4Kind(octets: number[]): SpecialAddress | undefined {
  const [first, second] = octets;
  // 0.0.0.0/8 reaches this machine too on Linux, like 127.0.0.0/8.
  if (first === 127 || first === 0) return 'loopback';
  if (first === 169 && second === 254) return 'link-local';
  return undefined;
}

/**
 * Whether a hostname, as `new URL` normalises it (so decimal, hex and octal IPv4 spellings arrive dotted and
 * IPv6 compressed), names this machine or the link-local range where the instance metadata lives.
 */
export function specialAddress(hostname: string): SpecialAddress | undefined {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return 'loopback';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return ipv4Kind(name.split('.').map(Number));
  if (!name.startsWith('[')) return undefined;
  const groups = ipv6Groups(name.slice(1, -1));
  if (groups === null) return undefined;
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local';
  // The EC2 instance metadata service's IPv6 address.
  if (g0 === 0xfd00 && g1 === 0x0ec2 && g2 + g3 + g4 + g5 + g6 === 0 && g7 === 0x254) return 'link-local';
  if (g0 + g1 + g2 + g3 + g4 === 0 && (g5 === 0 || g5 === 0xffff)) {
    // ::, ::1, and IPv4-mapped (::ffff:a.b.c.d) or IPv4-compatible (::a.b.c.d) forms of a special IPv4.
    if (g5 === 0 && g6 === 0 && g7 <= 1) return 'loopback';
    return ipv4Kind([g6 >> 8, g6 & 0xff, g7 >> 8, g7 & 0xff]);
  }
  return undefined;
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
