// Probes a live API's CORS behaviour from outside, as a browser would see it: used by the monitor and prodtest.

import { finished } from 'node:stream/promises';
import { freshRequest } from './fresh-request.ts';

export interface CorsProbeOptions {
  allowedOrigin: string;
  deniedOrigin: string;
  /** Whether the API is expected to allow credentials for the allowed origin. */
  credentials?: boolean;
  timeoutMs?: number;
  headers?: Record<string, string>;
  /** Aborts every request of the probe: the monitor's one deadline for the whole check. */
  signal?: AbortSignal;
}

export interface CorsProbeResult {
  ok: boolean;
  /** One line per failed expectation, naming what was sent and what came back. */
  problems: string[];
}

type Headers = Record<string, string | string[] | undefined>;

const one = (headers: Headers, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
};
const varyHasOrigin = (headers: Headers) =>
  (one(headers, 'vary') ?? '')
    .split(',')
    .some((token) => token.trim().toLowerCase() === 'origin' || token.trim() === '*');
const noVary = (label: string) =>
  `${label}: no "Vary: Origin" (shared caches may serve one origin's answer to another)`;

/** What a page's fetch with a bearer token and a JSON body makes the browser ask for. */
const PREFLIGHT_HEADERS = {
  'access-control-request-method': 'POST',
  'access-control-request-headers': 'authorization, content-type',
};

const accessControlNames = (headers: Headers) =>
  Object.keys(headers).filter((name) => name.toLowerCase().startsWith('access-control-'));

/** Sends a GET, or a preflight, to url from an origin (none when unset), each within the probe's timeout. */
function sender(url: string, options: Pick<CorsProbeOptions, 'timeoutMs' | 'headers' | 'signal'>) {
  return async (kind: 'GET' | 'preflight', origin?: string) => {
    const deadline = AbortSignal.timeout(options.timeoutMs ?? 5000);
    const response = await freshRequest(url, {
      method: kind === 'GET' ? 'GET' : 'OPTIONS',
      headers: {
        ...options.headers,
        ...(origin === undefined ? {} : { origin }),
        ...(kind === 'preflight' ? PREFLIGHT_HEADERS : {}),
      },
      signal: options.signal ? AbortSignal.any([options.signal, deadline]) : deadline,
    });
    response.resume();
    await finished(response);
    return { status: response.statusCode ?? 0, headers: response.headers as Headers };
  };
}

export async function probeCors(url: string, options: CorsProbeOptions): Promise<CorsProbeResult> {
  const send = sender(url, options);
  const problems: string[] = [];
  const { allowedOrigin, deniedOrigin } = options;

  const allowed = await send('GET', allowedOrigin);
  const allowOrigin = one(allowed.headers, 'access-control-allow-origin');
  if (allowOrigin !== allowedOrigin && !(allowOrigin === '*' && !options.credentials)) {
    problems.push(
      `GET with Origin ${allowedOrigin}: Access-Control-Allow-Origin is ${allowOrigin ?? 'missing'}, expected ${allowedOrigin}`,
    );
  }
  const allowCredentials = one(allowed.headers, 'access-control-allow-credentials');
  if (options.credentials && allowCredentials !== 'true') {
    problems.push(
      `GET with Origin ${allowedOrigin}: Access-Control-Allow-Credentials is ${allowCredentials ?? 'missing'}, expected true`,
    );
  }
  if (allowCredentials === 'true' && allowOrigin === '*') {
    problems.push(
      'Access-Control-Allow-Credentials: true with Access-Control-Allow-Origin: * (browsers reject it; it signals a misconfiguration)',
    );
  }

  const denied = await send('GET', deniedOrigin);
  const deniedAllow = one(denied.headers, 'access-control-allow-origin');
  if (deniedAllow === deniedOrigin || (deniedAllow === '*' && options.credentials)) {
    problems.push(
      `CORS leak: GET with the disallowed Origin ${deniedOrigin} got Access-Control-Allow-Origin: ${deniedAllow}`,
    );
  }
  if (one(denied.headers, 'access-control-allow-credentials') === 'true' && deniedAllow !== undefined) {
    problems.push(
      `CORS leak: the disallowed Origin ${deniedOrigin} got Access-Control-Allow-Credentials: true`,
    );
  }

  const none = await send('GET');
  const noneAllow = one(none.headers, 'access-control-allow-origin');
  if (noneAllow !== undefined && noneAllow !== '*') {
    problems.push(
      `GET without Origin got Access-Control-Allow-Origin: ${noneAllow} (an origin reflected or hard-coded)`,
    );
  }

  for (const [label, response] of [
    [`Origin ${allowedOrigin}`, allowed],
    [`Origin ${deniedOrigin}`, denied],
    ['no Origin', none],
  ] as const) {
    if (!varyHasOrigin(response.headers)) problems.push(noVary(`GET with ${label}`));
  }

  const preflight = await send('preflight', allowedOrigin);
  if (preflight.status !== 204 && preflight.status !== 200) {
    problems.push(`preflight from ${allowedOrigin}: status ${preflight.status}, expected 204`);
  }
  const preflightOrigin = one(preflight.headers, 'access-control-allow-origin');
  if (preflightOrigin !== allowedOrigin && preflightOrigin !== '*') {
    problems.push(
      `preflight from ${allowedOrigin}: Access-Control-Allow-Origin is ${preflightOrigin ?? 'missing'}`,
    );
  }
  const methods = (one(preflight.headers, 'access-control-allow-methods') ?? '').toUpperCase();
  if (!methods.includes('POST') && methods !== '*')
    problems.push(
      `preflight from ${allowedOrigin}: Access-Control-Allow-Methods lacks POST (got "${methods}")`,
    );
  const allowHeaders = (one(preflight.headers, 'access-control-allow-headers') ?? '').toLowerCase();
  if (!allowHeaders.includes('authorization') && allowHeaders !== '*') {
    problems.push(
      `preflight from ${allowedOrigin}: Access-Control-Allow-Headers lacks Authorization (got "${allowHeaders}")`,
    );
  }
  if (one(preflight.headers, 'access-control-max-age') === undefined)
    problems.push(`preflight from ${allowedOrigin}: no Access-Control-Max-Age`);

  const deniedPreflight = await send('preflight', deniedOrigin);
  const deniedPreflightOrigin = one(deniedPreflight.headers, 'access-control-allow-origin');
  if (deniedPreflightOrigin === deniedOrigin) {
    problems.push(`CORS leak: preflight from the disallowed Origin ${deniedOrigin} was allowed`);
  }
  return { ok: problems.length === 0, problems };
}

/**
 * For an API that allows no origin (CORS_ORIGINS empty): a foreign origin gets no Access-Control-* header on a
 * request or a preflight, so browsers confine the API to same-origin pages; responses still say Vary: Origin.
 */
export async function probeSameOriginOnly(
  url: string,
  options: Pick<CorsProbeOptions, 'deniedOrigin' | 'timeoutMs' | 'headers'>,
): Promise<CorsProbeResult> {
  const send = sender(url, options);
  const { deniedOrigin } = options;
  const problems: string[] = [];
  const request = await send('GET', deniedOrigin);
  const preflight = await send('preflight', deniedOrigin);
  for (const [label, response] of [
    [`GET with Origin ${deniedOrigin}`, request],
    [`preflight from ${deniedOrigin}`, preflight],
  ] as const) {
    const leaked = accessControlNames(response.headers);
    if (leaked.length > 0) {
      problems.push(
        `CORS leak: ${label} got ${leaked.map((name) => `${name}: ${one(response.headers, name)}`).join(', ')} (expected no Access-Control-* header)`,
      );
    }
  }
  if (!varyHasOrigin(request.headers)) problems.push(noVary(`GET with Origin ${deniedOrigin}`));
  return { ok: problems.length === 0, problems };
}
