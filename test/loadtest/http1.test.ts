import { createServer as createHttpsServer } from 'node:https';
import { createServer, type Server, type Socket } from 'node:net';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionSet, prepareRequest } from '../../lib/loadtest/http1.ts';
import { classifyError } from '../../lib/loadtest/measurement.ts';
import { createTestCertificates } from '../support/certificates.ts';

interface RawServer {
  origin: URL;
  /** Every request as the server received it, in order. */
  requests: string[];
  connections: number;
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1 answering each complete request with `answer`: the test controls every byte. */
async function rawServer(
  answer: (socket: Socket, request: string, index: number) => void,
): Promise<RawServer> {
  const sockets = new Set<Socket>();
  const state: RawServer = {
    origin: new URL('http://127.0.0.1'),
    requests: [],
    connections: 0,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server: Server = createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let pending = '';
    socket.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      for (;;) {
        const headEnd = pending.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(pending.slice(0, headEnd))?.[1] ?? 0);
        if (pending.length < headEnd + 4 + length) return;
        const request = pending.slice(0, headEnd + 4 + length);
        pending = pending.slice(request.length);
        state.requests.push(request);
        answer(socket, request, state.requests.length - 1);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the raw server did not bind');
  state.origin = new URL(`http://127.0.0.1:${address.port}`);
  return state;
}

/** Writes the bytes one at a time, each in its own TCP segment: every split a parser can meet. */
async function trickle(socket: Socket, text: string): Promise<void> {
  for (const byte of text) {
    socket.write(byte);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';

describe('HTTP/1.1 connections of the engine', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp(answer: Parameters<typeof rawServer>[0], timeoutMs = 2000) {
    const server = await rawServer(answer);
    const connections = new ConnectionSet(server.origin, timeoutMs);
    cleanups.push(
      () => server.close(),
      () => connections.close(),
    );
    const connection = connections.create();
    const send = (method = 'GET', path = '/', headers: Record<string, string> = {}, body?: string) =>
      new Promise<{ status: number; error: string | null }>((resolve) =>
        connection.send(
          prepareRequest(server.origin, method, path, headers, body),
          (status, error) => resolve({ status, error: error ? classifyError(error) : null }),
          performance.now(),
        ),
      );
    return { server, send };
  }

  it('sends the request line, host, headers and body exactly as prepared', async () => {
    const { server, send } = await setUp((socket) => socket.write(OK));
    expect(await send('POST', '/base/items', { 'x-test': '1' }, 'héllo')).toEqual({
      status: 200,
      error: null,
    });
    expect(server.requests).toEqual([
      `POST /base/items HTTP/1.1\r\nhost: ${server.origin.host}\r\nx-test: 1\r\ncontent-length: 6\r\n\r\nh\u00c3\u00a9llo`,
    ]);
  });

  it('reads chunked bodies with extensions and trailers split at every byte, and reuses the connection', async () => {
    const chunked =
      'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '5;name=value\r\nhello\r\nA\r\n0123456789\r\n0\r\nx-trailer: yes\r\n\r\n';
    const { server, send } = await setUp((socket, _request, index) => {
      if (index === 0) void trickle(socket, chunked);
      else socket.write(chunked);
    });
    expect(await send()).toEqual({ status: 201, error: null });
    expect(await send()).toEqual({ status: 201, error: null });
    expect(server.connections).toBe(1);
  });

  it('reads a content-length body and a head split across reads', async () => {
    const { server, send } = await setUp(
      (socket) => void trickle(socket, 'HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nnope!'),
    );
    expect(await send()).toEqual({ status: 404, error: null });
    expect(await send()).toEqual({ status: 404, error: null });
    expect(server.connections).toBe(1);
  });

  it('expects no body after HEAD, 204 or 304, and skips a 100 Continue', async () => {
    const answers = [
      'HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n',
      'HTTP/1.1 204 No Content\r\ncontent-length: 10\r\n\r\n',
      'HTTP/1.1 304 Not Modified\r\n\r\n',
      `HTTP/1.1 100 Continue\r\n\r\n${OK}`,
    ];
    const { server, send } = await setUp((socket, _request, index) => socket.write(answers[index] ?? OK));
    expect(await send('HEAD')).toEqual({ status: 200, error: null });
    expect(await send()).toEqual({ status: 204, error: null });
    expect(await send()).toEqual({ status: 304, error: null });
    expect(await send()).toEqual({ status: 200, error: null });
    expect(server.connections).toBe(1);
  });

  it('reads a body without length to the close, and opens a new connection after connection: close', async () => {
    const { server, send } = await setUp((socket, _request, index) => {
      if (index === 0) socket.end('HTTP/1.1 200 OK\r\n\r\nall of it until the end');
      else if (index === 1)
        socket.write('HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 2\r\n\r\nok');
      else socket.write(OK);
    });
    expect(await send()).toEqual({ status: 200, error: null });
    expect(await send()).toEqual({ status: 200, error: null });
    expect(await send()).toEqual({ status: 200, error: null });
    expect(server.connections).toBe(3);
  });

  it('reconnects instead of failing when the server closed an idle connection, or its keep-alive ran out', async () => {
    const { server, send } = await setUp((socket, _request, index) => {
      if (index === 0) {
        socket.write(OK);
        setTimeout(() => socket.end(), 20);
      } else socket.write('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\ncontent-length: 2\r\n\r\nok');
    });
    expect(await send()).toEqual({ status: 200, error: null });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await send()).toEqual({ status: 200, error: null });
    // "timeout=1" leaves no idle time to trust, less the margin: the next request gets a fresh connection.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await send()).toEqual({ status: 200, error: null });
    expect(server.connections).toBe(3);
  });

  it('sends an idempotent request once more when a reused connection closes before any answer, never a POST', async () => {
    const servedOn = new WeakMap<Socket, number>();
    const { server, send } = await setUp((socket) => {
      // The second request on each connection meets the server closing it, unanswered.
      const served = (servedOn.get(socket) ?? 0) + 1;
      servedOn.set(socket, served);
      if (served === 2) socket.destroy();
      else socket.write(OK);
    });
    expect(await send()).toEqual({ status: 200, error: null });
    expect(await send()).toEqual({ status: 200, error: null });
    expect(server.connections).toBe(2);
    expect(server.requests).toHaveLength(3);
    expect(await send('POST', '/', {}, 'once')).toEqual({ status: 0, error: 'reset' });
    expect(server.requests).toHaveLength(4);
  });

  it('times out a request without a response, and reports a reset and a malformed response', async () => {
    const { send } = await setUp((socket, request) => {
      if (request.startsWith('GET /hang')) return;
      if (request.startsWith('GET /reset')) {
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial');
        setTimeout(() => socket.destroy(), 10);
        return;
      }
      socket.write('SMTP ready\r\n\r\n');
    }, 200);
    const started = performance.now();
    expect(await send('GET', '/hang')).toEqual({ status: 0, error: 'timeout' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(195);
    expect(performance.now() - started).toBeLessThan(600);
    expect(await send('GET', '/reset')).toEqual({ status: 0, error: 'reset' });
    expect(await send('GET', '/garbage')).toEqual({ status: 0, error: 'other' });
  });

  it('speaks TLS to an https target, verifying its certificate, and keeps the connection alive', async () => {
    // A throw-away certificate for localhost, signed by a private CA trusted for this test only.
    const {
      ca,
      server: { key, cert },
    } = createTestCertificates();
    let connections = 0;
    const server = createHttpsServer({ key, cert }, (_request, response) => response.end('secure'));
    server.on('secureConnection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const trusted = getCACertificates('default');
    cleanups.push(
      () => new Promise<void>((resolve) => server.close(() => resolve())),
      () => server.closeAllConnections(),
      () => setDefaultCACertificates(trusted),
    );
    const send = async (origin: URL) => {
      const connections = new ConnectionSet(origin, 2000);
      cleanups.push(() => connections.close());
      const connection = connections.create();
      const once = () =>
        new Promise<{ status: number; error: string | null }>((resolve) =>
          connection.send(
            prepareRequest(origin, 'GET', '/', {}, undefined),
            (status, error) => resolve({ status, error: error ? classifyError(error) : null }),
            performance.now(),
          ),
        );
      return [await once(), await once()];
    };
    const origin = new URL(`https://localhost:${port}`);
    // Not yet trusted: the handshake is refused, as it must be for a certificate nobody vouches for.
    expect(await send(origin)).toEqual([
      { status: 0, error: 'other' },
      { status: 0, error: 'other' },
    ]);
    setDefaultCACertificates([...trusted, ca]);
    connections = 0;
    expect(await send(origin)).toEqual([
      { status: 200, error: null },
      { status: 200, error: null },
    ]);
    expect(connections).toBe(1);
  });
});
