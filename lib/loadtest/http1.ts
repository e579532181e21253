// The engine's HTTP/1.1 client: keep-alive connections carrying one request at a time, request bytes built once
// per endpoint, and responses read only as far as their status and framing. A general client (undici) parses and
// allocates for every request what a load generator never looks at; here a request costs one write and a scan.

import { connect as connectTcp, isIP, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { LoadwatchError } from '../errors.ts';
import type { TargetConnection } from './connection-options.ts';

/** The endpoint's request, serialised once. */
export interface PreparedRequest {
  /** The HTTP/1.1 request as written on the wire. */
  bytes: Buffer;
  /** The same request as fields, for HTTP/2 (lib/loadtest/http2.ts). */
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
  /** False for HEAD: the response carries no body whatever its headers say. */
  expectsBody: boolean;
  /** Idempotent (RFC 9110 §9.2.2): safe to send again when a reused connection was closed under it. */
  retryable: boolean;
  /** A scenario's capture or check reads the response: its head and body are kept (the body up to 1 MB). */
  keepsResponse?: boolean;
}

/** A response's head (status line and headers, latin1) and body, for a request that keeps it. */
export interface KeptResponse {
  head: string;
  body: Buffer;
}

/** The most of a kept body held: a capture or check reads what it holds, the rest is read past. */
export const MAX_KEPT_BODY_BYTES = 1024 * 1024;

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']);

/** Calls back with the status (0 when the request failed) and the error, once the response is read to its end. */
export type ResponseCallback = (status: number, error: Error | null, response: KeptResponse | null) => void;

/** Without a Keep-Alive hint from the server, an idle connection is not trusted for longer than this. */
const DEFAULT_KEEP_ALIVE_MS = 4000;
/** A connection is dropped this long before the server's announced keep-alive timeout, not at it. */
const KEEP_ALIVE_MARGIN_MS = 1000;
/** Shared by every plain-TCP connection: a read is consumed before the next one can start. */
const READ_BUFFER_BYTES = 64 * 1024;

const CRLF_CRLF = Buffer.from('\r\n\r\n', 'latin1');
const LF = 0x0a;
const CR = 0x0d;
const SEMICOLON = 0x3b;

/** A failure of the connection itself, with the code lib/loadtest/engine.ts's classifyError reads. */
export class ConnectionError extends LoadwatchError {
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, { ...options, code });
  }
}

/** Bytes that would end a header line or the request line early: a request carrying them is refused, not sent. */
const UNSAFE_IN_HEADER = /[\r\n\0]/;
const UNSAFE_IN_PATH = /[^\x21-\x7e]/;

/** Serialises an endpoint's request once; refuses (code LOADTEST_INVALID_REQUEST) what would corrupt the stream. */
export function prepareRequest(
  origin: URL,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
): PreparedRequest {
  const invalid = (what: string) =>
    new ConnectionError('LOADTEST_INVALID_REQUEST', `${method} ${JSON.stringify(path)}: ${what}`);
  if (UNSAFE_IN_PATH.test(path))
    throw invalid('the path holds a space or a character outside printable ASCII');
  for (const [name, value] of Object.entries(headers))
    if (UNSAFE_IN_HEADER.test(name) || UNSAFE_IN_HEADER.test(value))
      throw invalid(`header "${name}" holds a line break or NUL`);
  const lines = [`${method} ${path || '/'} HTTP/1.1`];
  const names = new Set(Object.keys(headers).map((name) => name.toLowerCase()));
  if (!names.has('host')) lines.push(`host: ${origin.host}`);
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  const payload = body === undefined ? undefined : Buffer.from(body, 'utf8');
  if (payload && !names.has('content-length')) lines.push(`content-length: ${payload.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return {
    bytes: payload ? Buffer.concat([head, payload]) : head,
    method,
    path: path || '/',
    headers,
    body: payload,
    expectsBody: method !== 'HEAD',
    retryable: IDEMPOTENT.has(method),
  };
}

/** Where the response in flight is: plain numbers, so that Node's type stripping runs this file as it is. */
const Framing = {
  /** Reading the status line and headers. */
  Head: 0,
  Length: 1,
  ChunkSize: 2,
  ChunkData: 3,
  /** The CRLF after a chunk's data. */
  ChunkEnd: 4,
  /** After the last chunk: trailer lines up to an empty one. */
  Trailer: 5,
  /** No length and not chunked: the body ends when the server closes. */
  UntilClose: 6,
} as const;
type Framing = (typeof Framing)[keyof typeof Framing];

export type TlsSettings = ReturnType<typeof tlsSettings>;

/** The TLS options of node:tls (and undici's connect) for a run's connection settings. */
export function tlsSettings(connection: TargetConnection | undefined) {
  return {
    ...(connection?.ca === undefined ? {} : { ca: connection.ca }),
    ...(connection?.clientCert === undefined
      ? {}
      : { cert: connection.clientCert, key: connection.clientKey }),
    rejectUnauthorized: !connection?.insecure,
  };
}

/** What a ConnectionSet's connections share: one read buffer, the last response head parsed, TLS options. */
interface SharedState {
  readBuffer: Buffer;
  head: { bytes: Buffer; parsed: ParsedHead } | null;
  tls: TlsSettings;
}

/** One keep-alive connection, (re)opened as needed; one request at a time. */
export class Connection {
  private socket: Socket | null = null;
  private callback: ResponseCallback | null = null;
  private status = 0;
  private framing: Framing = Framing.Head;
  private remaining = 0;
  /** Header bytes of a head split across reads (rare): kept until its end arrives. */
  private partialHead: Buffer | null = null;
  private sizeDigits = 0;
  private sawSizeDigit = false;
  private inExtension = false;
  private lineLength = 0;
  private closeAfter = false;
  private keepAliveMs = DEFAULT_KEEP_ALIVE_MS;
  private idleSince = 0;
  private request: PreparedRequest | null = null;
  /** Responses the current socket has carried: a request on a reused socket may meet the server closing it. */
  private served = 0;
  private answered = false;
  private resent = false;
  /** performance.now() when the request in flight was sent; 0 when idle. */
  sentAt = 0;
  private keeps = false;
  private keptHead = '';
  private keptBody: Buffer[] = [];
  private keptBytes = 0;

  private readonly origin: URL;
  private readonly shared: SharedState;

  constructor(origin: URL, shared: SharedState) {
    this.origin = origin;
    this.shared = shared;
  }

  send(request: PreparedRequest, callback: ResponseCallback, now: number): void {
    this.callback = callback;
    this.request = request;
    this.answered = false;
    this.resent = false;
    this.status = 0;
    this.framing = Framing.Head;
    this.partialHead = null;
    this.sentAt = now;
    this.keeps = request.keepsResponse === true;
    if (this.keeps) {
      this.keptHead = '';
      this.keptBody = [];
      this.keptBytes = 0;
    }
    // Past the server's keep-alive timeout the server may be closing it as we write: a fresh one is safer.
    if (this.socket && now - this.idleSince > this.keepAliveMs - KEEP_ALIVE_MARGIN_MS) this.close();
    (this.socket ?? this.open()).write(request.bytes);
  }

  /** Fails the request in flight (a timeout, say) and closes the connection. */
  fail(error: Error): void {
    this.close();
    this.finish(0, error);
  }

  private open(): Socket {
    const port = Number(this.origin.port) || (this.origin.protocol === 'https:' ? 443 : 80);
    const host = this.origin.hostname.replace(/^\[|\]$/g, '');
    let socket: Socket;
    if (this.origin.protocol === 'https:') {
      // SNI takes a host name only, never an address.
      const servername = isIP(host) === 0 ? host : undefined;
      socket = connectTls({
        host,
        port,
        ...(servername ? { servername } : {}),
        ALPNProtocols: ['http/1.1'],
        ...this.shared.tls,
      });
      socket.on('data', (chunk: Buffer) => this.read(socket, chunk, chunk.length));
    } else {
      socket = connectTcp({
        host,
        port,
        noDelay: true,
        // Reads land in one shared buffer instead of a fresh Buffer each: nothing is kept past the call.
        onread: {
          buffer: this.shared.readBuffer,
          callback: (bytes, buffer) => this.read(socket, buffer as Buffer, bytes),
        },
      });
    }
    socket.setNoDelay(true);
    socket.on('error', (error) => this.lost(socket, error));
    // A half-close ends the socket (allowHalfOpen is off), so 'close' also covers a body read until close.
    socket.on('close', () => this.lost(socket, null));
    this.socket = socket;
    this.served = 0;
    return socket;
  }

  close(): void {
    const socket = this.socket;
    this.socket = null;
    socket?.destroy();
  }

  private lost(socket: Socket, error: Error | null): void {
    if (socket !== this.socket) return;
    this.socket = null;
    socket.destroy();
    if (!this.callback) return;
    if (this.framing === Framing.UntilClose && error === null) this.finish(this.status, null);
    else if (this.served > 0 && !this.answered && !this.resent && this.request?.retryable) {
      // The server closed a kept-alive connection as this request went out, before answering a byte (its idle
      // timeout without a Keep-Alive hint): sent once more on a fresh connection, as browsers do. Its latency
      // still counts from the first send.
      this.resent = true;
      this.open().write(this.request.bytes);
    } else
      this.finish(
        0,
        error ??
          new ConnectionError('ECONNRESET', 'the server closed the connection before the response ended'),
      );
  }

  private finish(status: number, error: Error | null): void {
    const callback = this.callback;
    if (!callback) return;
    this.callback = null;
    this.sentAt = 0;
    callback(
      status,
      error,
      this.keeps && error === null ? { head: this.keptHead, body: Buffer.concat(this.keptBody) } : null,
    );
  }

  /** Copies body bytes of a response that keeps them: the shared read buffer is reused by the next read. */
  private keepBody(chunk: Buffer, start: number, end: number): void {
    const take = Math.min(end - start, MAX_KEPT_BODY_BYTES - this.keptBytes);
    if (take <= 0) return;
    this.keptBody.push(Buffer.from(chunk.subarray(start, start + take)));
    this.keptBytes += take;
  }

  private complete(): void {
    this.served++;
    if (this.closeAfter) this.close();
    this.idleSince = performance.now();
    this.finish(this.status, null);
  }

  private protocolError(message: string): void {
    this.fail(new ConnectionError('HTTP_PARSE', message));
  }

  /** Reads `length` bytes of `chunk`; always true: the socket keeps reading. */
  private read(socket: Socket, chunk: Buffer, length: number): boolean {
    if (socket !== this.socket) return true;
    if (!this.callback) {
      // Bytes nobody asked for on an idle keep-alive connection: it can no longer be trusted.
      if (length > 0) this.close();
      return true;
    }
    if (length > 0) this.answered = true;
    let offset = 0;
    while (offset < length && this.callback) {
      if (this.framing === Framing.Head) offset = this.readHead(chunk, offset, length);
      else if (this.framing === Framing.Length) {
        const take = Math.min(this.remaining, length - offset);
        if (this.keeps) this.keepBody(chunk, offset, offset + take);
        this.remaining -= take;
        offset += take;
        if (this.remaining === 0) this.complete();
      } else if (this.framing === Framing.UntilClose) {
        if (this.keeps) this.keepBody(chunk, offset, length);
        offset = length;
      } else offset = this.readChunked(chunk, offset, length);
    }
    if (offset < length && socket === this.socket) this.close(); // a response ran past its own end: nothing after it can be parsed
    return true;
  }

  private readHead(chunk: Buffer, offset: number, length: number): number {
    let source = chunk;
    let start = offset;
    let end = length;
    if (this.partialHead) {
      source = Buffer.concat([this.partialHead, chunk.subarray(offset, length)]);
      start = 0;
      end = source.length;
    }
    const headEnd = source.indexOf(CRLF_CRLF, start);
    if (headEnd < 0 || headEnd + 4 > end) {
      // The shared read buffer is overwritten by the next read: what must survive is copied.
      this.partialHead = Buffer.from(source.subarray(start, end));
      if (this.partialHead.length > 64 * 1024) this.protocolError('response headers over 64 KB');
      return length;
    }
    const consumed = this.partialHead ? headEnd + 4 - this.partialHead.length + offset : headEnd + 4;
    this.partialHead = null;
    if (this.keeps) this.keptHead = source.toString('latin1', start, headEnd);
    // A target answers alike, but for its Date header once a second: a head equal byte for byte to the last one
    // parsed is not parsed again.
    const last = this.shared.head;
    if (
      last &&
      last.bytes.length === headEnd - start &&
      source.compare(last.bytes, 0, last.bytes.length, start, headEnd) === 0
    ) {
      this.applyHead(last.parsed);
      return consumed;
    }
    const parsed = parseHead(source.toString('latin1', start, headEnd));
    if (parsed === null) {
      this.protocolError('not an HTTP/1.x response head');
      return length;
    }
    if (!parsed.interim) this.shared.head = { bytes: Buffer.from(source.subarray(start, headEnd)), parsed };
    this.applyHead(parsed);
    return consumed;
  }

  private applyHead(head: ParsedHead): void {
    // An interim response (100 Continue, 103 Early Hints): the real one follows.
    if (head.interim) return;
    this.status = head.status;
    this.closeAfter = head.closeAfter;
    this.keepAliveMs = head.keepAliveMs;
    if (!this.request?.expectsBody || head.status === 204 || head.status === 304 || head.body === 0)
      this.complete();
    else if (head.body === 'chunked') {
      this.framing = Framing.ChunkSize;
      this.sizeDigits = 0;
      this.sawSizeDigit = false;
      this.inExtension = false;
    } else if (head.body === 'close') {
      this.framing = Framing.UntilClose;
      this.closeAfter = true;
    } else {
      this.remaining = head.body;
      this.framing = Framing.Length;
    }
  }

  private readChunked(chunk: Buffer, offset: number, length: number): number {
    let index = offset;
    while (index < length && this.callback) {
      if (this.framing === Framing.ChunkData) {
        const take = Math.min(this.remaining, length - index);
        if (this.keeps) this.keepBody(chunk, index, index + take);
        this.remaining -= take;
        index += take;
        if (this.remaining === 0) {
          this.framing = Framing.ChunkEnd;
          this.lineLength = 0;
        }
        continue;
      }
      const byte = chunk[index++] as number;
      if (this.framing === Framing.ChunkSize) {
        if (byte === LF) {
          if (!this.sawSizeDigit) return this.chunkError(length);
          if (this.sizeDigits === 0) {
            this.framing = Framing.Trailer;
            this.lineLength = 0;
          } else {
            this.remaining = this.sizeDigits;
            this.framing = Framing.ChunkData;
          }
        } else if (byte === SEMICOLON) this.inExtension = true;
        else if (!this.inExtension && byte !== CR) {
          const digit = hexDigit(byte);
          if (digit < 0 || this.sizeDigits > 0xfffffff) return this.chunkError(length);
          this.sizeDigits = this.sizeDigits * 16 + digit;
          this.sawSizeDigit = true;
        }
      } else if (this.framing === Framing.ChunkEnd) {
        if (byte === LF) {
          this.framing = Framing.ChunkSize;
          this.sizeDigits = 0;
          this.sawSizeDigit = false;
          this.inExtension = false;
        } else if (byte !== CR) return this.chunkError(length);
      } else {
        // Trailer: lines until an empty one ends the response.
        if (byte === LF) {
          if (this.lineLength === 0) this.complete();
          this.lineLength = 0;
        } else if (byte !== CR) this.lineLength++;
      }
    }
    return index;
  }

  private chunkError(length: number): number {
    this.protocolError('malformed chunked body');
    return length;
  }
}

/** What a response head says about the connection and the body to read; the same for every equal head. */
interface ParsedHead {
  status: number;
  interim: boolean;
  closeAfter: boolean;
  keepAliveMs: number;
  /** Bytes of body, or chunked, or read until the server closes. */
  body: number | 'chunked' | 'close';
}

/** Parses a response head (without its final CRLF CRLF); null when it is not HTTP/1.x. */
function parseHead(head: string): ParsedHead | null {
  // "HTTP/1.1 200 OK": the three digits after the first space.
  const space = head.indexOf(' ');
  const status = Number(head.slice(space + 1, space + 4));
  if (!head.startsWith('HTTP/1.') || !(status >= 100 && status <= 999)) return null;
  const lower = head.toLowerCase();
  const keepAlive = headerValue(lower, 'keep-alive');
  const hinted = keepAlive ? /timeout=(\d+)/.exec(keepAlive) : null;
  const contentLength = headerValue(lower, 'content-length');
  const length = contentLength === undefined ? Number.NaN : Number(contentLength);
  if (contentLength !== undefined && !(Number.isSafeInteger(length) && length >= 0)) return null;
  return {
    status,
    interim: status < 200 && status !== 101,
    closeAfter: headerValue(lower, 'connection')?.includes('close') ?? head.startsWith('HTTP/1.0'),
    keepAliveMs: hinted ? Number(hinted[1]) * 1000 : DEFAULT_KEEP_ALIVE_MS,
    body: headerValue(lower, 'transfer-encoding')?.includes('chunked')
      ? 'chunked'
      : contentLength === undefined
        ? 'close'
        : length,
  };
}

function hexDigit(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** A header's value from a lower-cased head, or undefined; the first of repeated headers. */
function headerValue(lowerHead: string, name: string): string | undefined {
  const at = lowerHead.indexOf(`\r\n${name}:`);
  if (at < 0) return undefined;
  const start = at + name.length + 3;
  const end = lowerHead.indexOf('\r\n', start);
  return lowerHead.slice(start, end < 0 ? undefined : end).trim();
}

/** A channel carrying one request at a time: `sentAt` is performance.now() at its send, 0 when idle. */
interface TimedChannel {
  send(request: PreparedRequest, callback: ResponseCallback, now: number): void;
  sentAt: number;
  fail(error: Error): void;
}

/**
 * What the engine needs of its connections to the target, whatever the protocol: channels to one origin, with one
 * sweep for every request's timeout.
 */
export abstract class TargetConnections<Channel extends TimedChannel = TimedChannel> {
  protected readonly channels: Channel[] = [];
  protected readonly origin: URL;
  private readonly timeoutMs: number;
  private readonly sweep: NodeJS.Timeout;

  constructor(origin: URL, timeoutMs: number) {
    this.origin = origin;
    this.timeoutMs = timeoutMs;
    // A request times out within a quarter of its timeout past it (at most 250 ms late).
    this.sweep = setInterval(() => this.expire(), Math.max(10, Math.min(250, timeoutMs / 4)));
    this.sweep.unref();
  }

  abstract create(): Channel;

  protected track(channel: Channel): Channel {
    this.channels.push(channel);
    return channel;
  }

  close(): void {
    clearInterval(this.sweep);
  }

  /** Fails every request still in flight with `error`: the shard's cutoff, so that it never outlives its Lambda. */
  failInFlight(error: Error): void {
    for (const channel of this.channels) if (channel.sentAt > 0) channel.fail(error);
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

/** The engine's HTTP/1.1 connections to one origin. */
export class ConnectionSet extends TargetConnections<Connection> {
  private readonly shared: SharedState;

  constructor(origin: URL, timeoutMs: number, tls: TlsSettings = { rejectUnauthorized: true }) {
    super(origin, timeoutMs);
    this.shared = { readBuffer: Buffer.allocUnsafe(READ_BUFFER_BYTES), head: null, tls };
  }

  create(): Connection {
    return this.track(new Connection(this.origin, this.shared));
  }

  override close(): void {
    super.close();
    for (const connection of this.channels) connection.close();
  }
}
