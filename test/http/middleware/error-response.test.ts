import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lib/config/config.ts';
import { DatabaseUnavailableError, PoolExhaustedError } from '../../../lib/db/errors.ts';
import { LoadwatchError } from '../../../lib/errors.ts';
import { HttpError, MAX_LISTED_PROBLEMS } from '../../../lib/http/errors.ts';
import { errorResponse, toHttpError } from '../../../lib/http/middleware/error-response.ts';
import type { HttpRequest } from '../../../lib/http/middleware/types.ts';
import { LoadTestInputError } from '../../../lib/loadtest/input-error.ts';
import { ConcurrencyLimitError } from '../../../lib/loadtest/store.ts';
import { createLogger, type LogEntry } from '../../../lib/log/logger.ts';
import { MEMBERS } from '../../support/error-family.ts';

/** Runs the middleware's onError on one error and returns the response it wrote and the lines it logged. */
function answer(error: unknown) {
  const lines: LogEntry[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line)) });
  const request = { error, event: { requestContext: { requestId: 'req-1' } } } as unknown as HttpRequest;
  errorResponse({ logger }).onError?.(request);
  const response = request.response as { statusCode: number; headers: Record<string, string>; body: string };
  return { ...response, json: JSON.parse(response.body), lines };
}

describe('errorResponse', () => {
  it.each(
    MEMBERS.filter(([error]) => error.expose).map(([error, fields]) => [error.name, error, fields] as const),
  )('answers an exposed %s with its own status and code', (_name, error, fields) => {
    const response = answer(error);
    expect(response.statusCode).toBe(fields.status);
    expect(response.json.error.code).toBe(fields.code);
    expect(response.json.requestId).toBe('req-1');
  });

  it.each(MEMBERS.filter(([error]) => !error.expose).map(([error]) => [error.name, error] as const))(
    'never shows the message of a %s',
    (_name, error) => {
      const response = answer(error);
      expect(response.body).not.toContain(error.message);
      expect(response.statusCode).toBeGreaterThanOrEqual(500);
    },
  );

  it('answers a database error 503 with Retry-After and its public message, logging the real one', () => {
    const response = answer(new DatabaseUnavailableError('ECONNREFUSED 10.0.0.1:5432'));
    expect(response.statusCode).toBe(503);
    expect(response.headers['Retry-After']).toBe('5');
    expect(response.json.error).toEqual({
      code: 'DB_UNAVAILABLE',
      message: 'the database is unavailable; retry shortly',
    });
    expect(response.lines[0]).toMatchObject({
      code: 'DB_UNAVAILABLE',
      error: 'database unavailable: ECONNREFUSED 10.0.0.1:5432',
    });
  });

  it('answers 500 INTERNAL for an error outside the family and for a hidden member without a public message', () => {
    for (const error of [
      new TypeError('x is undefined'),
      new ConfigError(['SECRET: "hunter2" is wrong']),
      'thrown text',
    ]) {
      const response = answer(error);
      expect(response.statusCode).toBe(500);
      expect(response.json.error).toEqual({ code: 'INTERNAL', message: 'internal error' });
    }
  });

  it('hides the details and problems of an error whose message is hidden', () => {
    const error = new LoadwatchError('pg said: password authentication failed', {
      code: 'SECRET',
      expose: false,
      publicMessage: 'try later',
      problems: ['password: wrong'],
      details: { host: 'db.internal' },
    });
    expect(answer(error).json.error).toEqual({ code: 'SECRET', message: 'try later' });
  });

  it('lists at most MAX_LISTED_PROBLEMS problems and counts the rest', () => {
    const problems = Array.from({ length: 25 }, (_, index) => `field${index}: wrong`);
    const response = answer(new LoadTestInputError(problems));
    expect(response.statusCode).toBe(400);
    expect(response.json.error.problems).toHaveLength(MAX_LISTED_PROBLEMS + 1);
    expect(response.json.error.problems.at(-1)).toBe('and 5 more');
  });

  it('answers the concurrency limit 429 with Retry-After and the runs in the way', () => {
    const response = answer(new ConcurrencyLimitError(2, ['run-a', 'run-b']));
    expect(response.statusCode).toBe(429);
    expect(response.headers['Retry-After']).toBe('30');
    expect(response.json.error).toMatchObject({
      code: 'LOADTEST_CONCURRENCY_LIMIT',
      limit: 2,
      running: ['run-a', 'run-b'],
    });
  });
});

describe('toHttpError', () => {
  it('returns an exposed member or one with a public message as itself', () => {
    const notFound = new HttpError(404, 'NOT_FOUND', 'no load test x');
    const busy = new PoolExhaustedError(1);
    expect(toHttpError(notFound)).toBe(notFound);
    expect(toHttpError(busy)).toBe(busy);
  });

  it('wraps anything else in a hidden 500 that keeps it as the cause', () => {
    const original = new Error('boom');
    const wrapped = toHttpError(original);
    expect([wrapped.status, wrapped.code, wrapped.expose, wrapped.cause]).toEqual([
      500,
      'INTERNAL',
      false,
      original,
    ]);
  });
});
