// Serves the Lambda handler over node:http by translating requests into API Gateway HTTP API (2.0) events.

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Context } from 'aws-lambda';
import type { ApiHandler } from '../http/app.ts';
import type { HttpEvent, HttpResult } from '../http/middleware/types.ts';
import { LOOPBACK_HOSTS, refuseForeignHost } from './allowed-hosts.ts';

/** API Gateway refuses payloads over 10 MB before the Lambda runs; so does this adapter. */
const GATEWAY_BODY_LIMIT_BYTES = 10 * 1024 * 1024;

const TEXT_CONTENT = /^(text\/|application\/([\w.+-]+\+)?(json|xml|javascript|x-www-form-urlencoded))/i;

/**
 * The address this server accepted the connection on, as API Gateway names the domain it serves: taken
 * from the socket, never from the Host header a client writes.
 */
function listeningDomain(request: IncomingMessage): string {
  const address = (request.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:(?=\d+\.)/, '');
  const host = address.includes(':') ? `[${address}]` : address;
  return request.socket.localPort ? `${host}:${request.socket.localPort}` : host;
}

function toGatewayEvent(request: IncomingMessage, body: Buffer): HttpEvent {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || name === 'cookie') continue;
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams)
    query[name] = name in query ? `${query[name]},${value}` : value;
  const contentType = headers['content-type'] ?? '';
  const isText = body.length === 0 || contentType === '' || TEXT_CONTENT.test(contentType);
  const requestId = randomUUID();
  const now = new Date();
  const domainName = listeningDomain(request);
  const cookies = request.headers.cookie?.split(';').map((cookie) => cookie.trim());
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    ...(cookies ? { cookies } : {}),
    headers,
    ...(url.search ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: {
        method: request.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: '$default',
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: !isText,
  };
}

/** The api function's timeout (serverless.yml), which the handler sees through getRemainingTimeInMillis(). */
const TIMEOUT_MS = 29_000;

function lambdaContext(requestId: string): Context {
  const deadline = Date.now() + TIMEOUT_MS;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'loadwatch-local-api',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:loadwatch-local-api',
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: 'local',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A JSON answer, as API Gateway writes its own (a refusal, a failed integration, a bare return value). */
const jsonResult = (statusCode: number, value: unknown): HttpResult => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(value),
});

function writeResult(response: ServerResponse, result: HttpResult | string | undefined): void {
  // API Gateway's rules for a response without a statusCode: the value becomes a 200 JSON body.
  const structured =
    typeof result === 'object' && result !== null && 'statusCode' in result
      ? result
      : jsonResult(200, result ?? null);
  for (const [name, value] of Object.entries(structured.headers ?? {}))
    response.setHeader(name, String(value));
  if (structured.cookies?.length) response.setHeader('set-cookie', structured.cookies);
  const body = structured.body ?? '';
  response.statusCode = structured.statusCode ?? 200;
  response.end(structured.isBase64Encoded ? Buffer.from(body, 'base64') : body);
}

function readBody(request: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        resolve(null);
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

export interface LocalServerOptions {
  handler: ApiHandler;
  onError?: (error: unknown) => void;
  /**
   * The Host names served (DNS rebinding guard), localhost, 127.0.0.1 and [::1] by default; 'any' only for
   * tests that exercise the API's own defences against a spoofed Host.
   */
  allowedHosts?: readonly string[] | 'any';
}

/** Stops the server, dropping its open connections (keep-alive ones included) rather than waiting for them. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolveClose) => {
    server.close(() => resolveClose());
    server.closeAllConnections();
  });
}

export function createLocalServer(options: LocalServerOptions): Server {
  const allowedHosts = options.allowedHosts ?? LOOPBACK_HOSTS;
  const server = createServer(async (request, response) => {
    try {
      const foreign = allowedHosts === 'any' ? null : refuseForeignHost(request.headers.host, allowedHosts);
      if (foreign) {
        request.resume();
        writeResult(response, foreign);
        return;
      }
      const body = await readBody(request, GATEWAY_BODY_LIMIT_BYTES);
      if (body === null) {
        writeResult(response, jsonResult(413, { message: 'Request Entity Too Large' }));
        return;
      }
      const event = toGatewayEvent(request, body);
      const invocation = options.handler(event, lambdaContext(event.requestContext.requestId));
      // Lambda ends an invocation at its timeout whatever the handler does; so does this adapter.
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`handler timed out after ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
      });
      const result = await Promise.race([invocation, timedOut]).finally(() => clearTimeout(timer));
      writeResult(response, result);
    } catch (error) {
      // What API Gateway answers when the integration fails.
      options.onError?.(error);
      if (!response.headersSent) writeResult(response, jsonResult(500, { message: 'Internal Server Error' }));
    }
  });
  server.keepAliveTimeout = 65_000;
  return server;
}
