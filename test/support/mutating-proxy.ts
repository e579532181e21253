// A reverse proxy on 127.0.0.1 that breaks the real API's answers on purpose: a CORS leak, a stack trace…

import { createServer, type IncomingMessage, type Server } from 'node:http';
import { request } from 'undici';
import { listenLocally } from './listen.ts';

export interface ProxiedResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type Mutation = (response: ProxiedResponse, incoming: IncomingMessage) => ProxiedResponse;

export async function startMutatingProxy(
  target: string,
  mutate: Mutation,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(async (incoming, outgoing) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(incoming.headers)) {
      if (value !== undefined && name !== 'host' && name !== 'connection')
        headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const upstream = await request(`${target}${incoming.url ?? '/'}`, {
      method: (incoming.method ?? 'GET') as 'GET',
      headers,
      body: chunks.length ? Buffer.concat(chunks) : undefined,
    });
    const responseHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(upstream.headers)) {
      if (
        value !== undefined &&
        !['content-length', 'connection', 'keep-alive', 'transfer-encoding'].includes(name)
      ) {
        responseHeaders[name] = Array.isArray(value) ? value.join(', ') : value;
      }
    }
    const mutated = mutate(
      { status: upstream.statusCode, headers: responseHeaders, body: await upstream.body.text() },
      incoming,
    );
    outgoing.writeHead(mutated.status, mutated.headers);
    outgoing.end(mutated.body);
  });
  const url = await listenLocally(server);
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
