// What one API Gateway HTTP API (payload 2.0) invocation looks like to the handler: env, event and context.

import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

/** An origin the API allows, so every measured request takes the CORS path a browser would. */
export const BENCH_ORIGIN = 'https://app.example.com';

/** The Lambda environment: enough for loadConfig; nothing connects to the database at import time. */
export const LAMBDA_ENV: Readonly<Record<string, string>> = {
  AWS_LAMBDA_FUNCTION_NAME: 'api',
  DATABASE_URL: 'postgres://u:p@127.0.0.1:1/x',
  CORS_ORIGINS: BENCH_ORIGIN,
  // Lambda sets it for every invocation; the logs carry its Root.
  _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
};

/** What getRemainingTimeInMillis reports: a fresh invocation of a 30 s function. */
export const REMAINING_TIME_MS = 29_000;

/** A request as API Gateway delivers it, with the headers a browser and the gateway add. */
export function gatewayEvent(
  method: string,
  path: string,
  extraHeaders: Record<string, string> = {},
): APIGatewayProxyEventV2 {
  const userAgent = 'Mozilla/5.0 (X11; Linux x86_64) loadwatch-bench';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: {
      accept: 'application/json',
      'accept-encoding': 'gzip, deflate, br',
      'accept-language': 'en-GB,en;q=0.9',
      'content-length': '0',
      host: 'api.example.com',
      origin: BENCH_ORIGIN,
      'user-agent': userAgent,
      'x-amzn-trace-id': 'Root=1-67891233-abcdef012345678912345678',
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
      ...extraHeaders,
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'bench',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent },
      requestId: 'JKJaXmPLvHcESHA=',
      routeKey: '$default',
      stage: '$default',
      time: '25/Nov/2026:22:00:00 +0000',
      timeEpoch: 1_795_644_000_000,
    },
    isBase64Encoded: false,
  };
}

export const healthEvent = (): APIGatewayProxyEventV2 => gatewayEvent('GET', '/health');

export const preflightEvent = (): APIGatewayProxyEventV2 =>
  gatewayEvent('OPTIONS', '/health', {
    'access-control-request-method': 'GET',
    'access-control-request-headers': 'authorization',
  });

export const notFoundEvent = (): APIGatewayProxyEventV2 => gatewayEvent('GET', '/no-such-route');

/** A Lambda context; getRemainingTimeInMillis matters, since middy arms its early-timeout timer from it. */
export function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'loadwatch-dev-api',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:loadwatch-dev-api',
    memoryLimitInMB: '1024',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    logGroupName: '/aws/lambda/loadwatch-dev-api',
    logStreamName: '2026/11/25/[$LATEST]bench',
    getRemainingTimeInMillis: () => REMAINING_TIME_MS,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
