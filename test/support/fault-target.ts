// A target on 127.0.0.1 whose behaviour a test switches between cycles: healthy, failing, slow, hanging, refusing,
// trickling its body, answering too much, or answering with terminal escape sequences.

import { createServer, type Server } from 'node:http';

export type FaultMode = 'healthy' | 'error' | 'slow' | 'hang' | 'refuse' | 'trickle' | 'large' | 'hostile';

/** What a hostile target puts in its answers: a title change, a bell, a colour, a C1 CSI, a cursor move. */
export const HOSTILE_TEXT = '\x1b]0;PWNED\x07\x1b[31m\x9b2J\r\x1b[1A';

export interface FaultTarget {
  url: string;
  port: number;
  /**
   * `amount` is the delay in ms for `slow`, the ms between body bytes for `trickle` (it never ends), and the
   * body's size in bytes for `large`.
   */
  set(mode: FaultMode, amount?: number): Promise<void>;
  requests: () => number;
  close(): Promise<void>;
}

/** A readiness answer whose migration names and pool figures carry HOSTILE_TEXT, as JSON allows. */
const hostileReadiness = JSON.stringify({
  status: 'ok',
  database: {
    latencyMs: 1,
    migrations: { current: `0001${HOSTILE_TEXT}`, latest: 'x', pending: [HOSTILE_TEXT] },
    pool: { total: 1, idle: 0, waiting: 1, max: `1${HOSTILE_TEXT}` },
  },
});

export async function startFaultTarget(): Promise<FaultTarget> {
  let mode: FaultMode = 'healthy';
  let amount = 0;
  let count = 0;
  const server: Server = createServer((request, response) => {
    count++;
    if (mode === 'hang') return;
    if (mode === 'trickle') {
      response.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => response.write('.'), amount);
      response.on('close', () => clearInterval(timer));
      return;
    }
    if (mode === 'large') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(`"${'x'.repeat(Math.max(0, amount - 2))}"`);
      return;
    }
    if (mode === 'hostile') {
      // Header values travel as Latin-1: the C1 CSI (0x9b) is the control a header can carry.
      response.writeHead(500, {
        'content-type': 'application/json',
        'access-control-allow-origin': 'https://evil.test\x9b31m',
      });
      response.end(hostileReadiness);
      return;
    }
    const answer = () => {
      response.statusCode = mode === 'error' ? 500 : 200;
      response.setHeader('content-type', 'application/json');
      response.end(
        JSON.stringify(
          mode === 'error' ? { error: 'injected failure' } : { status: 'ok', path: request.url },
        ),
      );
    };
    if (mode === 'slow') setTimeout(answer, amount);
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
    async set(next, value = 0) {
      mode = next;
      amount = value;
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
