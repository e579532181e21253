// A target on 127.0.0.1 whose behaviour a test switches between cycles: healthy, failing, slow, hanging, refusing.

import { createServer, type Server } from 'node:http';

export type FaultMode = 'healthy' | 'error' | 'slow' | 'hang' | 'refuse';

export interface FaultTarget {
  url: string;
  port: number;
  set(mode: FaultMode, slowMs?: number): Promise<void>;
  requests: () => number;
  close(): Promise<void>;
}

export async function startFaultTarget(): Promise<FaultTarget> {
  let mode: FaultMode = 'healthy';
  let slowMs = 0;
  let count = 0;
  const server: Server = createServer((request, response) => {
    count++;
    if (mode === 'hang') return;
    const answer = () => {
      response.statusCode = mode === 'error' ? 500 : 200;
      response.setHeader('content-type', 'application/json');
      response.end(
        JSON.stringify(
          mode === 'error' ? { error: 'injected failure' } : { status: 'ok', path: request.url },
        ),
      );
    };
    if (mode === 'slow') setTimeout(answer, slowMs);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('no address');
  const port = address.port;
  let listening = true;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests: () => count,
    async set(next, delay = 0) {
      mode = next;
      slowMs = delay;
      if (next === 'refuse' && listening) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        listening = false;
      } else if (next !== 'refuse' && !listening) {
        await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
        listening = true;
      }
      if (next !== 'hang') server.closeIdleConnections();
    },
    async close() {
      server.closeAllConnections();
      if (listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
