// The engine against TLS and HTTP/2 servers on 127.0.0.1: HTTP/2 over TLS and h2c, client certificates, a private
// CA and unverified targets, with certificates openssl makes for the test.

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createH2cServer, createSecureServer, type Http2ServerRequest } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TargetConnection } from '../../lib/loadtest/connection-options.ts';
import { runShard, type ShardWork } from '../../lib/loadtest/engine.ts';
import { freePort } from '../../lib/local/embedded-postgres.ts';
import { createTestCertificates, type TestCertificates } from '../support/certificates.ts';
import { listenLocally } from '../support/listen.ts';

/** A server's requests by HTTP version ("2.0", "1.1"), counted as they arrive. */
class RequestCounter {
  readonly byVersion = new Map<string, number>();
  readonly handle = (request: IncomingMessage | Http2ServerRequest, response: ServerResponse | unknown) => {
    this.byVersion.set(request.httpVersion, (this.byVersion.get(request.httpVersion) ?? 0) + 1);
    (response as ServerResponse).end('ok');
  };
}

const servers: Array<{ close: () => void; closeAllConnections?: () => void }> = [];

async function serve(server: Server | ReturnType<typeof createSecureServer>, https = true): Promise<string> {
  servers.push(server as Server);
  const address = await listenLocally(server as Server);
  return https ? address.replace('http:', 'https:') : address;
}

describe('runShard over TLS and HTTP/2', () => {
  let certificates: TestCertificates;
  beforeAll(() => {
    certificates = createTestCertificates();
  });
  afterAll(() => {
    for (const server of servers) {
      server.closeAllConnections?.();
      server.close();
    }
  });

  const work = (
    target: string,
    connection: TargetConnection | undefined,
    requestsPerUser: number[],
  ): ShardWork => ({
    target,
    endpoints: [{ path: '/ok', method: 'GET', headers: {}, weight: 1 }],
    timeoutMs: 5000,
    runStartedAt: Date.now(),
    deadline: Date.now() + 30_000,
    load: { model: 'closed', requestsPerUser, thinkTimeMs: 0 },
    ...(connection ? { connection } : {}),
  });
  const http2 = (overrides: Partial<TargetConnection> = {}): TargetConnection => ({
    http2: true,
    insecure: false,
    ...overrides,
  });

  it('sends every request over HTTP/2, and the server counts each one exactly once', async () => {
    const counter = new RequestCounter();
    const sessions = new Set<unknown>();
    const server = createSecureServer({ ...certificates.server, allowHTTP1: true }, counter.handle as never);
    server.on('session', (session) => sessions.add(session));
    const target = await serve(server);
    // 150 users at once: more than the 100 streams a connection carries, so a second one, and no more.
    const result = await runShard(work(target, http2({ ca: certificates.ca }), Array(150).fill(4)));
    expect(result).toMatchObject({ requests: 600, ok: 600, failed: 0, statusCodes: { 200: 600 } });
    expect(Object.fromEntries(counter.byVersion)).toEqual({ '2.0': 600 });
    expect(sessions.size).toBe(2);
  });

  it('times out HTTP/2 requests the target never answers, and sends the next ones on the same connection', async () => {
    let answered = 0;
    const sessions = new Set<unknown>();
    const server = createSecureServer(certificates.server, (request, response) => {
      if (request.url === '/hang') return;
      answered++;
      response.end('ok');
    });
    server.on('session', (session) => sessions.add(session));
    const target = await serve(server);
    const hang = work(target, http2({ ca: certificates.ca }), [2, 2]);
    const result = await runShard({
      ...hang,
      timeoutMs: 1000,
      endpoints: [
        { path: '/hang', method: 'GET', headers: {}, weight: 1 },
        { path: '/ok', method: 'GET', headers: {}, weight: 1 },
      ],
    });
    expect(result.requests).toBe(4);
    expect(result.errors.timeout + result.ok).toBe(4);
    expect(result.ok).toBe(answered);
    expect(sessions.size).toBe(1);
  });

  it('counts refused connections over HTTP/2 as refused, and a stream the server resets as reset', async () => {
    const closedPort = await freePort();
    const refused = await runShard(work(`https://127.0.0.1:${closedPort}`, http2(), [3, 3]));
    expect(refused).toMatchObject({ requests: 6, failed: 6, errors: { refused: 6 } });
    const server = createSecureServer(certificates.server, (request) => {
      request.stream.close(0x8);
    });
    const target = await serve(server);
    const reset = await runShard(work(target, http2({ ca: certificates.ca }), [2]));
    expect(reset).toMatchObject({ requests: 2, failed: 2, errors: { reset: 2 } });
  });

  it('speaks HTTP/2 with prior knowledge to a plain-http target (h2c)', async () => {
    const counter = new RequestCounter();
    const target = await serve(createH2cServer(counter.handle as never) as never, false);
    const result = await runShard(work(target, http2(), [5, 5, 5]));
    expect(result).toMatchObject({ requests: 15, ok: 15, failed: 0 });
    expect(Object.fromEntries(counter.byVersion)).toEqual({ '2.0': 15 });
  });

  it('fails every request, rather than measuring HTTP/1.1, when an https target does not agree to HTTP/2', async () => {
    const counter = new RequestCounter();
    const target = await serve(createHttpsServer(certificates.server, counter.handle));
    const result = await runShard(work(target, http2({ ca: certificates.ca }), [3]));
    expect(result).toMatchObject({ requests: 3, ok: 0, failed: 3, errors: { other: 3 } });
    expect(counter.byVersion.size).toBe(0);
  });

  it('presents the client certificate to a target that requires one, and is refused without it', async () => {
    const counter = new RequestCounter();
    const options = {
      ...certificates.server,
      ca: certificates.ca,
      requestCert: true,
      rejectUnauthorized: true,
    };
    const h1 = await serve(createHttpsServer(options, counter.handle));
    const h2 = await serve(createSecureServer({ ...options, allowHTTP1: false }, counter.handle as never));
    const client = { clientCert: certificates.client.cert, clientKey: certificates.client.key };
    const withCert = { http2: false, insecure: false, ca: certificates.ca, ...client };

    expect(await runShard(work(h1, withCert, [4, 4]))).toMatchObject({ requests: 8, ok: 8, failed: 0 });
    expect(await runShard(work(h2, { ...withCert, http2: true }, [4, 4]))).toMatchObject({
      ok: 8,
      failed: 0,
    });
    expect(Object.fromEntries(counter.byVersion)).toEqual({ '1.1': 8, '2.0': 8 });

    const withoutCert = { http2: false, insecure: false, ca: certificates.ca };
    expect(await runShard(work(h1, withoutCert, [3]))).toMatchObject({ requests: 3, ok: 0, failed: 3 });
    expect(await runShard(work(h2, { ...withoutCert, http2: true }, [3]))).toMatchObject({
      ok: 0,
      failed: 3,
    });
    const stranger = {
      ...withoutCert,
      clientCert: certificates.stranger.cert,
      clientKey: certificates.stranger.key,
    };
    expect(await runShard(work(h1, stranger, [3]))).toMatchObject({ ok: 0, failed: 3 });
    expect(Object.fromEntries(counter.byVersion)).toEqual({ '1.1': 8, '2.0': 8 });
  });

  it('trusts a private CA given as ca, and refuses its certificates without it', async () => {
    const counter = new RequestCounter();
    const target = await serve(createHttpsServer(certificates.server, counter.handle));
    expect(await runShard(work(target, undefined, [3]))).toMatchObject({
      ok: 0,
      failed: 3,
      errors: { other: 3 },
    });
    const trusted = { http2: false, insecure: false, ca: certificates.ca };
    expect(await runShard(work(target, trusted, [3, 3]))).toMatchObject({ requests: 6, ok: 6, failed: 0 });
    expect(Object.fromEntries(counter.byVersion)).toEqual({ '1.1': 6 });
  });

  it('reaches a self-signed target only when told not to verify it', async () => {
    const counter = new RequestCounter();
    const h1 = await serve(createHttpsServer(certificates.selfSigned, counter.handle));
    const h2 = await serve(createSecureServer(certificates.selfSigned, counter.handle as never));
    expect(
      await runShard(work(h1, { http2: false, insecure: false, ca: certificates.ca }, [2])),
    ).toMatchObject({
      ok: 0,
      failed: 2,
    });
    expect(await runShard(work(h2, http2(), [2]))).toMatchObject({ ok: 0, failed: 2 });
    expect(counter.byVersion.size).toBe(0);
    expect(await runShard(work(h1, { http2: false, insecure: true }, [3]))).toMatchObject({
      ok: 3,
      failed: 0,
    });
    expect(await runShard(work(h2, http2({ insecure: true }), [3]))).toMatchObject({ ok: 3, failed: 0 });
    expect(Object.fromEntries(counter.byVersion)).toEqual({ '1.1': 3, '2.0': 3 });
  });
});
