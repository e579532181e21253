// API Gateway HTTP API (payload 2.0) events and Lambda contexts, for calling the API handler as Lambda does.

import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { HttpEvent } from '../../lib/http/middleware/types.ts';

export interface EventOptions {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** The domain API Gateway received the request on. */
  domainName?: string;
  /** The IAM principal API Gateway verified, for the SigV4-signed routes. */
  userArn?: string;
}

export function gatewayEvent(options: EventOptions): HttpEvent {
  const [rawPath = '/', rawQueryString = ''] = options.path.split('?');
  const domainName = options.domainName ?? 'abc123.execute-api.eu-west-1.amazonaws.com';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    ...(rawQueryString
      ? { queryStringParameters: Object.fromEntries(new URLSearchParams(rawQueryString)) }
      : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: {
        method: options.method ?? 'GET',
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'test',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
      ...(options.userArn ? { authorizer: { iam: { userArn: options.userArn } } } : {}),
    } as HttpEvent['requestContext'],
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    isBase64Encoded: false,
  };
}

/** A Lambda context whose invocation ends remainingMs from now. */
export function lambdaContext(remainingMs: number): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'loadwatch-test-api',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:loadwatch-test-api',
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: 'test',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
