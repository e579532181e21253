// The probes below HTTP: a TLS handshake and its certificate, a TCP connect, a DNS answer.

import { Resolver } from 'node:dns/promises';
import { once } from 'node:events';
import { connect as connectTcp, isIP } from 'node:net';
import { checkServerIdentity, connect as connectTls, type PeerCertificate, type TLSSocket } from 'node:tls';
import type { DnsCheckDefinition, TcpCheckDefinition, TlsCheckDefinition } from './checks.ts';

/** What a probe found, before the monitor adds the check's key, name and time. */
export interface ProbeFinding {
  ok: boolean;
  status: number | null;
  latencyMs: number | null;
  /** Why the sample failed (the failed assertion named); null when it passed. */
  error: string | null;
  /** Why the sample, though it passed, counts towards `degraded` (a certificate close to expiry). */
  warning: string | null;
  /** What the probe read: pool and migrations of a readiness answer, a certificate, DNS addresses, a last beat. */
  details: Record<string, unknown> | null;
}

/** Milliseconds since `started` (a performance.now()), to two decimals. */
export const elapsedSince = (started: number) => Math.round((performance.now() - started) * 100) / 100;

/** The problem of a latency over the check's critical bound; none within it. */
export function overCritical(latencyMs: number, check: { latency: { criticalMs: number } }): string[] {
  const { criticalMs } = check.latency;
  return latencyMs > criticalMs ? [`${latencyMs} ms is over the critical ${criticalMs} ms`] : [];
}

/** A finding that passed when no problem was found, else failed with every problem named. */
export function finding(
  problems: string[],
  found: Pick<ProbeFinding, 'status' | 'latencyMs' | 'details'> & { warning?: string | null },
): ProbeFinding {
  return {
    ok: problems.length === 0,
    error: problems.length > 0 ? problems.join('; ') : null,
    warning: null,
    ...found,
  };
}

/** A certificate's DNS names and IP addresses, from its subjectAltName, else its common name. */
function certificateNames(certificate: PeerCertificate): string[] {
  const names = (certificate.subjectaltname ?? '')
    .split(', ')
    .map((entry) => entry.replace(/^(DNS|IP Address):/, ''))
    .filter((entry) => entry !== '');
  const commonName = certificate.subject?.CN;
  return names.length > 0 ? names : commonName ? [String(commonName)] : [];
}

const oneDecimal = (value: number) => Math.floor(value * 10) / 10;

/** The days a certificate has left at `now`, and what that means against the check's thresholds. */
export function certificateExpiry(
  validTo: Date,
  days: { warn: number; critical: number },
  now: Date,
): { daysLeft: number; problem: string | null; warning: string | null } {
  const daysLeft = (validTo.getTime() - now.getTime()) / 86_400_000;
  if (daysLeft <= 0)
    return { daysLeft, problem: `the certificate expired ${oneDecimal(-daysLeft)} days ago`, warning: null };
  const left = `the certificate expires in ${oneDecimal(daysLeft)} days`;
  if (daysLeft < days.critical)
    return { daysLeft, problem: `${left} (critical under ${days.critical})`, warning: null };
  if (daysLeft < days.warn) return { daysLeft, problem: null, warning: `${left} (warn under ${days.warn})` };
  return { daysLeft, problem: null, warning: null };
}

/**
 * Shakes hands with the host and reads its certificate: trusted (by Node's list or the check's `caFile`), issued
 * for the name asked, and how many days it has left. An untrusted certificate is still read, so that the sample
 * says whose it is.
 */
export async function probeTls(
  check: TlsCheckDefinition,
  signal: AbortSignal,
  started: number,
  now: Date,
): Promise<ProbeFinding> {
  const servername = check.servername ?? (isIP(check.host) ? undefined : check.host);
  const socket: TLSSocket = connectTls({
    host: check.host,
    port: check.port,
    ...(servername ? { servername } : {}),
    ...(check.ca ? { ca: check.ca } : {}),
    rejectUnauthorized: false,
  });
  try {
    // Rejects on the socket's error or when the signal aborts; the socket is destroyed below either way.
    await once(socket, 'secureConnect', { signal });
    const latencyMs = elapsedSince(started);
    const certificate = socket.getPeerCertificate();
    const problems: string[] = [];
    // Node reports a name mismatch as an authorization error too; the name's own line below says more.
    const authorizationError = socket.authorized ? null : String(socket.authorizationError ?? 'unknown');
    if (authorizationError && authorizationError !== 'ERR_TLS_CERT_ALTNAME_INVALID')
      problems.push(`the certificate is not trusted (${authorizationError})`);
    const names = certificateNames(certificate);
    const wanted = servername ?? check.host;
    if (checkServerIdentity(wanted, certificate) !== undefined)
      problems.push(`the certificate is for ${names.join(', ') || 'no name'}, not ${wanted}`);
    const validTo = new Date(certificate.valid_to);
    const expiry = certificateExpiry(validTo, check.days, now);
    if (expiry.problem) problems.push(expiry.problem);
    problems.push(...overCritical(latencyMs, check));
    const issuer = certificate.issuer?.CN ?? certificate.issuer?.O ?? null;
    return finding(problems, {
      status: null,
      latencyMs,
      warning: expiry.warning,
      details: {
        daysLeft: oneDecimal(expiry.daysLeft),
        validTo: validTo.toISOString(),
        issuer: issuer === null ? null : String(issuer),
        subject: certificate.subject?.CN ? String(certificate.subject.CN) : null,
        names,
        authorized: socket.authorized,
        protocol: socket.getProtocol(),
      },
    });
  } finally {
    socket.destroy();
  }
}

/** Opens a TCP connection; its latency is the time to connect. */
export async function probeTcp(
  check: TcpCheckDefinition,
  signal: AbortSignal,
  started: number,
): Promise<ProbeFinding> {
  const socket = connectTcp({ host: check.host, port: check.port });
  try {
    await once(socket, 'connect', { signal });
    const latencyMs = elapsedSince(started);
    return finding(overCritical(latencyMs, check), {
      status: null,
      latencyMs,
      details: { remoteAddress: socket.remoteAddress ?? null },
    });
  } finally {
    socket.destroy();
  }
}

/** Resolves the name (A or AAAA) and, when the check expects addresses, compares the answer with them. */
export async function probeDns(
  check: DnsCheckDefinition,
  signal: AbortSignal,
  started: number,
): Promise<ProbeFinding> {
  const resolver = new Resolver({ timeout: check.timeoutMs, tries: 1 });
  if (check.servers.length > 0) resolver.setServers(check.servers);
  const cancel = () => resolver.cancel();
  signal.addEventListener('abort', cancel, { once: true });
  try {
    const addresses =
      check.recordType === 'AAAA' ? await resolver.resolve6(check.host) : await resolver.resolve4(check.host);
    const latencyMs = elapsedSince(started);
    const problems: string[] = [];
    if (check.expect) {
      const unexpected = addresses.filter((address) => !check.expect?.includes(address));
      const expected = addresses.filter((address) => check.expect?.includes(address));
      if (unexpected.length > 0 || expected.length === 0)
        problems.push(
          `${check.host} resolves to ${addresses.join(', ')}, expected ${check.expect.join(' or ')}`,
        );
    }
    problems.push(...overCritical(latencyMs, check));
    return finding(problems, { status: null, latencyMs, details: { addresses } });
  } finally {
    signal.removeEventListener('abort', cancel);
  }
}
