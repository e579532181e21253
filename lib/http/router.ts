// Route table matching: one list of routes serves API Gateway and the local server alike.

import { badRequest } from './errors.ts';

export interface ApiRequest {
  method: string;
  path: string;
  /** Values of {name} segments in the route's path. */
  params: Record<string, string>;
  query: Record<string, string>;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  /** Parsed JSON for JSON bodies, the raw text otherwise, undefined when empty. */
  body: unknown;
  requestId: string;
  /** The IAM principal when API Gateway verified a SigV4 signature for this route. */
  principal?: string;
  /**
   * The domain the request arrived on, as API Gateway (or the local adapter) reports it in the event's
   * requestContext: unlike the Host header, nothing a client sends can change it.
   */
  domainName?: string;
}

export interface ApiResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Route<Deps> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  handler: (request: ApiRequest, deps: Deps) => Promise<ApiResponse> | ApiResponse;
}

export type RouteMatch<Deps> =
  | { kind: 'found'; route: Route<Deps>; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allowed: string[]; pattern: string }
  | { kind: 'not-found' };

function compile<Deps>(route: Route<Deps>) {
  const names: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      const name = segment.match(/^\{(\w+)\}$/)?.[1];
      if (name === undefined) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(name);
      return '([^/]+)';
    })
    .join('/');
  return { route, pattern: new RegExp(`^${source}/?$`), names };
}

/**
 * A path parameter, percent-decoded; a malformed escape or a control character (%00, %0A: nothing a name
 * holds, and NUL is what PostgreSQL cannot store) is the client's error (400), not ours.
 */
function decodeSegment(segment: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    throw badRequest(`the path segment "${segment}" is not valid percent-encoding`);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
  if (/[\u0000-\u001f\u007f]/.test(decoded)) {
    throw badRequest(`the path segment "${segment}" holds a control character`);
  }
  return decoded;
}

export function createRouter<Deps>(routes: Route<Deps>[]) {
  const compiled = routes.map(compile);
  return {
    match(method: string, path: string): RouteMatch<Deps> {
      const allowed: string[] = [];
      let pattern = '';
      for (const entry of compiled) {
        const found = entry.pattern.exec(path);
        if (!found) continue;
        pattern = entry.route.path;
        if (entry.route.method !== method && !(method === 'HEAD' && entry.route.method === 'GET')) {
          allowed.push(entry.route.method);
          continue;
        }
        const params = entry.names.map((name, index) => [name, decodeSegment(found[index + 1] ?? '')]);
        return { kind: 'found', route: entry.route, params: Object.fromEntries(params) };
      }
      if (allowed.length > 0) return { kind: 'method-not-allowed', allowed: [...new Set(allowed)], pattern };
      return { kind: 'not-found' };
    },
  };
}
