// The engine's HTTP/2 client: undici's, the shard's channels multiplexed as streams over one connection per 100,
// with the engine's own timeout sweep and completion callbacks. Over https HTTP/2 is negotiated by ALPN and required: a
// target that picks HTTP/1.1 fails the connection, so a run said to be HTTP/2 never quietly measured HTTP/1.1.

import type { TLSSocket } from 'node:tls';
import { buildConnector, Client, type Dispatcher } from 'undici';
import {
  ConnectionError,
  type PreparedRequest,
  type ResponseCallback,
  type TargetConnections,
  type TlsSettings,
} from './http1.ts';

/**
 * Channels (requests in flight at once) per connection (servers commonly allow 100 to 250 streams). Channels are
 * given their connection, not left to a pool: a pool opens a connection for every request sent while the first
 * one is still connecting, which for a shard's users starting at once is one each.
 */
const STREAMS_PER_CONNECTION = 100;

/** Headers HTTP/2 forbids (RFC 9113 §8.2.2); `host` becomes the :authority pseudo-header. */
const CONNECTION_SPECIFIC = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/** One request at a time, like an HTTP/1.1 connection of the engine; each a stream of its connection. */
class Http2Channel {
  /** performance.now() when the request in flight was sent; 0 when idle. */
  sentAt = 0;
  private callback: ResponseCallback | null = null;
  private controller: Dispatcher.DispatchController | null = null;
  private readonly client: Client;
  private readonly authority: string;

  constructor(client: Client, authority: string) {
    this.client = client;
    this.authority = authority;
  }

  send(request: PreparedRequest, callback: ResponseCallback, now: number): void {
    this.callback = callback;
    this.sentAt = now;
    this.controller = null;
    let status = 0;
    // A handler per request: an aborted stream may still report after the channel carries the next one.
    const finish = (result: number, error: Error | null) => {
      if (this.callback !== callback || this.controller !== controller) return;
      this.callback = null;
      this.controller = null;
      this.sentAt = 0;
      callback(result, error);
    };
    let controller: Dispatcher.DispatchController | null = null;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers))
      if (!CONNECTION_SPECIFIC.has(name.toLowerCase())) headers[name] = value;
    const authority = request.headers.host ?? this.authority;
    this.client.dispatch(
      {
        path: request.path,
        method: request.method as Dispatcher.HttpMethod,
        headers: { ...headers, host: authority },
        body: request.body ?? null,
        idempotent: request.retryable,
        // The engine's own sweep times requests out; undici's timers would only add one per request.
        headersTimeout: 0,
        bodyTimeout: 0,
      },
      {
        onRequestStart: (started) => {
          controller = started;
          this.controller = started;
        },
        onResponseStart: (_controller, statusCode) => {
          status = statusCode;
        },
        onResponseData: () => undefined,
        onResponseEnd: () => finish(status, null),
        onResponseError: (_controller, error) => finish(0, error),
      },
    );
  }

  fail(error: Error): void {
    const callback = this.callback;
    const controller = this.controller;
    this.callback = null;
    this.controller = null;
    this.sentAt = 0;
    controller?.abort(error);
    callback?.(0, error);
  }
}

/** Connects as undici does, then refuses a TLS connection on which the target did not agree to HTTP/2. */
function requireH2(connect: buildConnector.connector): buildConnector.connector {
  return (options, callback) =>
    connect(options, (error, socket) => {
      if (error || !socket) return callback(error, null);
      const protocol = (socket as TLSSocket).alpnProtocol;
      if (protocol === 'h2') return callback(null, socket);
      socket.destroy();
      return callback(
        new ConnectionError(
          'LOADTEST_HTTP2_REFUSED',
          `the target answered TLS with ${protocol || 'no ALPN protocol'}, not h2: it does not speak HTTP/2 there`,
        ),
        null,
      );
    });
}

/** The shard's HTTP/2 connections to one origin, with one sweep for every request's timeout. */
export class Http2ConnectionSet implements TargetConnections {
  private readonly clients: Client[] = [];
  private readonly channels: Http2Channel[] = [];
  private readonly sweep: NodeJS.Timeout;
  private readonly timeoutMs: number;
  private readonly authority: string;
  private readonly newClient: () => Client;

  constructor(origin: URL, timeoutMs: number, tls: TlsSettings) {
    this.timeoutMs = timeoutMs;
    this.authority = origin.host;
    const https = origin.protocol === 'https:';
    const hostname = origin.hostname.replace(/^\[|\]$/g, '');
    const servername = isAddress(hostname) ? {} : { servername: hostname };
    const options: Client.Options = {
      maxConcurrentStreams: STREAMS_PER_CONNECTION,
      headersTimeout: 0,
      bodyTimeout: 0,
      // Over plain http there is no ALPN: HTTP/2 with prior knowledge (h2c).
      ...(https
        ? { allowH2: true, connect: requireH2(buildConnector({ allowH2: true, ...tls, ...servername })) }
        : { useH2c: true }),
    };
    this.newClient = () => new Client(origin.origin, options);
    this.sweep = setInterval(() => this.expire(), Math.max(10, Math.min(250, timeoutMs / 4)));
    this.sweep.unref();
  }

  create(): Http2Channel {
    const at = Math.floor(this.channels.length / STREAMS_PER_CONNECTION);
    let client = this.clients[at];
    if (!client) {
      client = this.newClient();
      this.clients.push(client);
    }
    const channel = new Http2Channel(client, this.authority);
    this.channels.push(channel);
    return channel;
  }

  failInFlight(error: Error): void {
    for (const channel of this.channels) if (channel.sentAt > 0) channel.fail(error);
  }

  close(): void {
    clearInterval(this.sweep);
    for (const client of this.clients) client.destroy().catch(() => undefined);
  }

  private expire(): void {
    const now = performance.now();
    for (const channel of this.channels)
      if (channel.sentAt > 0 && now - channel.sentAt >= this.timeoutMs)
        channel.fail(
          new ConnectionError('LOADTEST_REQUEST_TIMEOUT', `no response within ${this.timeoutMs} ms`),
        );
  }
}

/** SNI takes a host name only, never an address. */
const isAddress = (hostname: string) => /^[\d.]+$/.test(hostname) || hostname.includes(':');
