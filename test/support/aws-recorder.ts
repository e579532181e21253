// A stand-in AWS endpoint on 127.0.0.1: records every request as sent and answers from a queue the test fills.

import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { vi } from 'vitest';

export interface RecordedRequest {
  method: string;
  path: string;
  /** Header names lower-cased, as node:http gives them. */
  headers: IncomingHttpHeaders;
  /** The body exactly as it came over the socket (still gzip-compressed when the client compressed it). */
  body: Buffer;
}

export interface RecorderResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

export interface AwsRecorder {
  url: string;
  requests: RecordedRequest[];
  /** Answers for the next requests, in order; once the queue is empty every request gets `fallback`. */
  enqueue(...responses: RecorderResponse[]): void;
  /** Forgets recorded requests and queued answers between tests. */
  reset(): void;
  close(): Promise<void>;
}

/** The body as text, after undoing a gzip Content-Encoding. */
export function decodedBody(request: RecordedRequest): string {
  const gzipped = String(request.headers['content-encoding'] ?? '')
    .split(',')
    .some((encoding) => encoding.trim().toLowerCase() === 'gzip');
  return (gzipped ? gunzipSync(request.body) : request.body).toString('utf8');
}

/**
 * Points an adapter's own client at the recorder as Lambda's environment would: AWS_ENDPOINT_URL_<ID>, the keys in
 * AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, no profile files. Undone by vi.unstubAllEnvs().
 */
export function stubRecorderEnvironment(
  endpointVariable: string,
  url: string,
  secretAccessKey: string,
): void {
  vi.stubEnv(`AWS_ENDPOINT_URL_${endpointVariable}`, url);
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDTEST');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', secretAccessKey);
  vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/aws-config');
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/aws-credentials');
}

/** `answer`, when given, answers a request first (by its path, say); then the queue, then `fallback`. */
export async function startAwsRecorder(
  fallback: RecorderResponse,
  answer?: (request: RecordedRequest) => RecorderResponse | undefined,
): Promise<AwsRecorder> {
  const requests: RecordedRequest[] = [];
  let queue: RecorderResponse[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const recorded = {
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(recorded);
      const reply = answer?.(recorded) ?? queue.shift() ?? fallback;
      response.writeHead(reply.status, reply.headers ?? {});
      response.end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('recorder did not bind');
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    enqueue: (...responses) => {
      queue.push(...responses);
    },
    reset: () => {
      requests.length = 0;
      queue = [];
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
