// The local server's guard against DNS rebinding: it answers only for the names this machine reaches it by.

import type { HttpResult } from '../http/middleware/types.ts';
import { HOST_HEADER } from '../validation/rules.ts';

/** The names of the loopback address the local server listens on. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

/** The host name of a Host header: lower-cased, without its port or a trailing dot; null when it is not one. */
function hostName(header: string): string | null {
  return HOST_HEADER.exec(header.trim())?.[1]?.toLowerCase() ?? null;
}

/** An entry matches its exact name; one starting with a dot also matches every subdomain (Vite's convention). */
function hostAllowed(name: string, allowed: readonly string[]): boolean {
  return allowed.some((entry) =>
    entry.startsWith('.') ? name === entry.slice(1) || name.endsWith(entry) : name === entry,
  );
}

function refusal(statusCode: number, code: string, message: string): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify({ error: { code, message } }),
  };
}

/**
 * The answer to a request whose Host is not one of ours, or null to serve it. A page on another site that
 * rebinds its own name to 127.0.0.1 sends its own name as Host: refusing it keeps the API out of that page's reach.
 */
export function refuseForeignHost(header: string | undefined, allowed: readonly string[]): HttpResult | null {
  if (header === undefined || header.trim() === '') {
    return refusal(400, 'HOST_MISSING', 'the request has no Host header');
  }
  const name = hostName(header);
  if (name === null) {
    return refusal(400, 'HOST_INVALID', `Host "${header.slice(0, 100)}" is not a host name`);
  }
  if (hostAllowed(name, allowed)) return null;
  return refusal(
    421,
    'HOST_NOT_ALLOWED',
    `this server does not answer for host "${name}"; to allow it, add it to LOCAL_ALLOWED_HOSTS (now ${allowed.join(', ')})`,
  );
}
