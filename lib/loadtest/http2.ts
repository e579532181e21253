// The engine's HTTP/2 client on node:http2: a shard's channels multiplexed as streams over one session per 100,
// with the engine's own timeout sweep and completion callbacks. Over https HTTP/2 is negotiated by ALPN and
// required: a target that does not agree to h2 fails the connection, so a run said to be HTTP/2 never quietly
// measured HTTP/1.1. Over plain http it is HTTP/2 with prior knowledge (h2c).
//
// Not undici's HTTP/2: when a target refuses the client certificate after the TLS handshake (TLS 1.3), its
// client writes the next queued request onto the destroyed session and throws outside any handler, which would
// end the worker (undici 7.30; nodejs/node#63412 describes the session state behind it).

import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect,
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import { isIP, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  ConnectionError,
  type KeptResponse,
  MAX_KEPT_BODY_BYTES,
  type PreparedRequest,
  type ResponseCallback,
  TargetConnections,
  type TlsSettings,
} from './http1.ts';

/** Channels (requests in flight at once) per session: servers commonly allow 100 to 250 streams. */
const STREAMS_PER_SESSION = 100;

/** Headers HTTP/2 forbids (RFC 9113 §8.2.2); `host` becomes the :authority pseudo-header. */
const CONNECTION_SPECIFIC = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/** The endpoint's request as HTTP/2 headers, built once per endpoint. */
const headerBlocks = new WeakMap<PreparedRequest, OutgoingHttpHeaders>();

function headersOf(request: PreparedRequest, origin: URL): OutgoingHttpHeaders {
  let headers = headerBlocks.get(request);
  if (!headers) {
    headers = {
      [constants.HTTP2_HEADER_METHOD]: request.method,
      [constants.HTTP2_HEADER_PATH]: request.path,
      [constants.HTTP2_HEADER_SCHEME]: origin.protocol.slice(0, -1),
      [constants.HTTP2_HEADER_AUTHORITY]: request.headers.host ?? origin.host,
    };
    for (const [name, value] of Object.entries(request.headers))
      if (!CONNECTION_SPECIFIC.has(name)) headers[name] = value;
    headerBlocks.set(request, headers);
  }
  return headers;
}

/** One session to the origin, opened when first needed and again after it closed; each request a stream of it. */
class Session {
  private session: ClientHttp2Session | null = null;
  private readonly origin: URL;
  private readonly open: () => ClientHttp2Session;

  constructor(origin: URL, open: () => ClientHttp2Session) {
    this.origin = origin;
    this.open = open;
  }

  /** Opens the request's stream; throws when the session died between the check and the request. */
  request(request: PreparedRequest): ClientHttp2Stream {
    return this.get().request(headersOf(request, this.origin), { endStream: request.body === undefined });
  }

  private get(): ClientHttp2Session {
    const current = this.session;
    if (current && !current.closed && !current.destroyed) return current;
    const session = this.open();
    // As the HTTP/1.1 connections: a small request is written at once, not held back for the previous one's ACK.
    session.once('connect', (_session, socket) => (socket as Socket).setNoDelay(true));
    // Failures reach each stream as its own 'error'; a session error left unheard would end the process.
    session.on('error', () => undefined);
    session.on('close', () => {
      if (this.session === session) this.session = null;
    });
    this.session = session;
    return session;
  }

  close(): void {
    this.session?.destroy();
    this.session = null;
  }
}

/**
 * A response as a scenario's captures and checks read it, in the HTTP/1.1 client's shape: a status line, then
 * one "name: value" line per header (names already lowercase in HTTP/2), and at most MAX_KEPT_BODY_BYTES of body.
 */
function keptHead(headers: IncomingHttpHeaders): string {
  const lines = [`HTTP/2 ${headers[constants.HTTP2_HEADER_STATUS] ?? 0}`];
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':') || value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${item}`);
  }
  return lines.join('\r\n');
}

/** One request at a time, like an HTTP/1.1 connection of the engine; each a stream of its session. */
class Http2Channel {
  /** performance.now() when the request in flight was sent; 0 when idle. */
  sentAt = 0;
  private stream: ClientHttp2Stream | null = null;
  private callback: ResponseCallback | null = null;
  private readonly session: Session;

  constructor(session: Session) {
    this.session = session;
  }

  send(request: PreparedRequest, callback: ResponseCallback, now: number): void {
    this.callback = callback;
    this.sentAt = now;
    let status = 0;
    const keeps = request.keepsResponse === true;
    let kept: KeptResponse | null = null;
    let keptBytes = 0;
    let stream: ClientHttp2Stream;
    try {
      stream = this.session.request(request);
    } catch (error) {
      // A session that died between the check and the request: reported on the next turn, as a stream's would be.
      setImmediate(() => this.finish(null, 0, error as Error));
      return;
    }
    this.stream = stream;
    stream.on('response', (headers: IncomingHttpHeaders) => {
      status = Number(headers[constants.HTTP2_HEADER_STATUS]);
      if (keeps) kept = { head: keptHead(headers), body: Buffer.alloc(0) };
    });
    const chunks: Buffer[] = [];
    // Dropped unless a capture or check reads it: otherwise only the status and the end of the body are measured.
    stream.on('data', (chunk: Buffer) => {
      if (!keeps || keptBytes >= MAX_KEPT_BODY_BYTES) return;
      const take = chunk.subarray(0, MAX_KEPT_BODY_BYTES - keptBytes);
      chunks.push(Buffer.from(take));
      keptBytes += take.length;
    });
    stream.on('error', (error: Error) => this.finish(stream, 0, error));
    // Judged on close, not on the body's end: a stream the server reset also ends its body, without a response.
    stream.on('close', () => {
      if (status > 0 && stream.rstCode === constants.NGHTTP2_NO_ERROR) {
        if (kept) kept.body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
        this.finish(stream, status, null, kept);
      } else
        this.finish(
          stream,
          0,
          new ConnectionError(
            'ECONNRESET',
            `the server reset the stream (HTTP/2 error code ${stream.rstCode ?? 'none'}) before the response ended`,
          ),
        );
    });
    if (request.body !== undefined) stream.end(request.body);
  }

  /** Fails the request in flight (a timeout, say) and cancels its stream. */
  fail(error: Error): void {
    const stream = this.stream;
    this.finish(stream, 0, error);
    if (stream && !stream.destroyed) stream.close(constants.NGHTTP2_CANCEL);
  }

  /** Reports the request once; `stream` is the one it went out on (null when it never got one). */
  private finish(
    stream: ClientHttp2Stream | null,
    status: number,
    error: Error | null,
    kept: KeptResponse | null = null,
  ): void {
    if (stream !== this.stream || !this.callback) return;
    const callback = this.callback;
    this.callback = null;
    this.stream = null;
    this.sentAt = 0;
    callback(status, error, kept);
  }
}

/** Refuses a TLS session on which the target did not agree to HTTP/2. */
function requireH2(session: ClientHttp2Session): void {
  session.once('connect', () => {
    const protocol = (session.socket as TLSSocket | undefined)?.alpnProtocol;
    if (protocol !== 'h2')
      session.destroy(
        new ConnectionError(
          'LOADTEST_HTTP2_REFUSED',
          `the target answered TLS with ${protocol || 'no ALPN protocol'}, not h2: it does not speak HTTP/2 there`,
        ),
      );
  });
}

/** The shard's HTTP/2 sessions to one origin. */
export class Http2ConnectionSet extends TargetConnections<Http2Channel> {
  private readonly sessions: Session[] = [];
  private readonly tls: TlsSettings;

  constructor(origin: URL, timeoutMs: number, tls: TlsSettings) {
    super(origin, timeoutMs);
    this.tls = tls;
  }

  create(): Http2Channel {
    const at = Math.floor(this.channels.length / STREAMS_PER_SESSION);
    let session = this.sessions[at];
    if (!session) {
      session = new Session(this.origin, () => this.connect());
      this.sessions.push(session);
    }
    return this.track(new Http2Channel(session));
  }

  override close(): void {
    super.close();
    for (const session of this.sessions) session.close();
  }

  private connect(): ClientHttp2Session {
    const hostname = this.origin.hostname.replace(/^\[|\]$/g, '');
    if (this.origin.protocol !== 'https:') return connect(this.origin.origin);
    const session = connect(this.origin.origin, {
      ...this.tls,
      // SNI takes a host name only, never an address.
      ...(isIP(hostname) === 0 ? { servername: hostname } : {}),
      ALPNProtocols: ['h2'],
    });
    requireH2(session);
    return session;
  }
}
