import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createApiHandler } from '../../lib/http/app.ts';
import { invocationLogFields, xrayTraceId } from '../../lib/log/lambda-context.ts';
import { createLogger } from '../../lib/log/logger.ts';
import { gatewayEvent } from '../support/gateway-event.ts';

const TRACE = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';

describe('xrayTraceId', () => {
  it('takes the Root of the X-Ray trace header', () => {
    expect(xrayTraceId(TRACE)).toBe('1-5759e988-bd862e3fe1be46a994272793');
    expect(xrayTraceId('Parent=53995c3f42cd8ad8;Root=1-abc;Sampled=0')).toBe('1-abc');
  });

  it('gives nothing when the header is missing or has no Root', () => {
    expect(xrayTraceId(undefined)).toBeUndefined();
    expect(xrayTraceId('')).toBeUndefined();
    expect(xrayTraceId('Parent=53995c3f42cd8ad8')).toBeUndefined();
  });
});

describe('invocationLogFields', () => {
  it('marks only the first invocation of a container as the cold start', () => {
    const fields = invocationLogFields(() => undefined);
    expect(fields({ awsRequestId: 'a' })).toEqual({ awsRequestId: 'a', coldStart: true });
    expect(fields({ awsRequestId: 'b' })).toEqual({ awsRequestId: 'b', coldStart: false });
    expect(fields({ awsRequestId: 'c' })).toEqual({ awsRequestId: 'c', coldStart: false });
  });

  it('reads the trace header anew for each invocation, as Lambda sets it anew', () => {
    let header: string | undefined = TRACE;
    const fields = invocationLogFields(() => header);
    expect(fields({ awsRequestId: 'a' })).toMatchObject({ traceId: '1-5759e988-bd862e3fe1be46a994272793' });
    header = 'Root=1-00000000-000000000000000000000001;Sampled=0';
    expect(fields({ awsRequestId: 'b' })).toMatchObject({ traceId: '1-00000000-000000000000000000000001' });
    header = undefined;
    expect(fields({ awsRequestId: 'c' })).not.toHaveProperty('traceId');
  });

  it('still counts a direct call that passes no context', () => {
    const fields = invocationLogFields(() => undefined);
    expect(fields(undefined)).toEqual({ coldStart: true });
  });
});

describe('the API handler with invocation log fields', () => {
  const context = (awsRequestId: string) =>
    ({ awsRequestId, getRemainingTimeInMillis: () => 10_000 }) as unknown as Context;

  it('writes the request id, cold start and trace id on the request line, keeping redaction', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({
      fields: { service: 'loadwatch' },
      write: (line) => lines.push(JSON.parse(line)),
    });
    const handler = createApiHandler({
      routes: [
        {
          method: 'GET',
          path: '/fail',
          handler: () => Promise.reject(new Error('connect postgres://api:s3cret@db.internal/app failed')),
        },
      ],
      deps: {},
      cors: { origins: [], credentials: false, maxAgeSeconds: 600 },
      logger,
      logFields: invocationLogFields(() => TRACE),
    });
    await handler(gatewayEvent({ method: 'GET', path: '/fail' }), context('first'));
    await handler(gatewayEvent({ method: 'GET', path: '/fail' }), context('second'));
    const requests = lines.filter((line) => line.msg === 'request');
    expect(requests.map((line) => [line.awsRequestId, line.coldStart, line.traceId, line.service])).toEqual([
      ['first', true, '1-5759e988-bd862e3fe1be46a994272793', 'loadwatch'],
      ['second', false, '1-5759e988-bd862e3fe1be46a994272793', 'loadwatch'],
    ]);
    // The failure's own line carries the same fields.
    expect(lines.find((line) => line.msg === 'request failed')).toMatchObject({
      awsRequestId: 'first',
      coldStart: true,
    });
    expect(JSON.stringify(lines)).not.toContain('s3cret');
    expect(JSON.stringify(lines)).toContain('postgres://***@db.internal/app');
  });
});
