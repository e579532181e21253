// A small API behind a login, for scenario checks: POST /login answers a fresh token, GET /account answers the
// account's plan to a caller that sends it, and the test changes the plan, breaks the login or stalls the account.

import { createServer, type Server } from 'node:http';
import { listenLocally } from './listen.ts';

export interface AccountApi {
  url: string;
  /** What GET /account answers as `plan`. */
  plan: string;
  /** POST /login answers 200 without a token. */
  loginWithoutToken: boolean;
  /** GET /account never answers. */
  stallAccount: boolean;
  /** Requests seen, as "METHOD /path". */
  requests: string[];
  close(): Promise<void>;
}

export async function startAccountApi(): Promise<AccountApi> {
  const tokens = new Set<string>();
  let issued = 0;
  const stalled: Array<() => void> = [];
  const api: AccountApi = {
    url: '',
    plan: 'pro',
    loginWithoutToken: false,
    stallAccount: false,
    requests: [],
    close: async () => {
      for (const release of stalled) release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((request, response) => {
    api.requests.push(`${request.method} ${request.url}`);
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    request.on('end', () => {
      if (request.method === 'POST' && request.url === '/login') {
        const { user } = JSON.parse(body || '{}') as { user?: string };
        if (user !== 'monitor') return json(403, { error: 'unknown user' });
        if (api.loginWithoutToken) return json(200, { ok: true });
        const token = `token-${++issued}`;
        tokens.add(token);
        return json(200, { token });
      }
      if (request.method === 'GET' && request.url === '/account') {
        const token = request.headers.authorization?.replace(/^Bearer /, '');
        if (!token || !tokens.has(token)) return json(401, { error: 'log in first' });
        if (api.stallAccount) {
          stalled.push(() => response.destroy());
          return;
        }
        return json(200, { plan: api.plan });
      }
      json(404, { error: 'no such route' });
    });
  });
  api.url = await listenLocally(server);
  return api;
}
