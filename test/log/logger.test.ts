import { describe, expect, it } from 'vitest';
import { createLogger, redactString } from '../../lib/log/logger.ts';

describe('createLogger', () => {
  const capture = (level: 'debug' | 'info' | 'warn' | 'error' = 'info') => {
    const lines: string[] = [];
    const logger = createLogger({
      level,
      fields: { service: 'loadwatch' },
      write: (line) => lines.push(line),
      now: () => new Date('2026-01-01T00:00:00Z'),
    });
    return { lines, logger };
  };

  it('writes one JSON object per line with time, level, message and fields', () => {
    const { lines, logger } = capture();
    logger.info('request', { method: 'GET', status: 200 });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      time: '2026-01-01T00:00:00.000Z',
      level: 'info',
      msg: 'request',
      service: 'loadwatch',
      method: 'GET',
      status: 200,
    });
  });

  it('drops lines below its level', () => {
    const { lines, logger } = capture('warn');
    logger.info('hidden');
    logger.debug('hidden');
    logger.warn('shown');
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual(['shown']);
  });

  it('never writes a password, token or connection string, wherever it appears', () => {
    const { lines, logger } = capture();
    const error = Object.assign(new Error('connect to postgres://api:s3cret@db.internal:5432/app failed'), {
      code: 'ECONNREFUSED',
    });
    logger.error('database failed for postgres://api:s3cret@db.internal/app', {
      error,
      password: 's3cret',
      DATABASE_URL: 'postgres://api:s3cret@db.internal/app',
      headers: { authorization: 'Bearer lw_abcdef', accept: 'json' },
      detail: 'sent Bearer lw_abcdef upstream',
      nested: { secretAccessKey: 'AKIA…', list: ['postgresql://u:p@h/d'] },
    });
    const line = lines[0] ?? '';
    expect(line).not.toMatch(/s3cret|lw_abcdef|u:p@/);
    const entry = JSON.parse(line);
    expect(entry.error).toEqual({
      name: 'Error',
      message: 'connect to postgres://***@db.internal:5432/app failed',
      code: 'ECONNREFUSED',
    });
    expect(entry.password).toBe('***');
    expect(entry.headers).toEqual({ authorization: '***', accept: 'json' });
    expect(entry.detail).toBe('sent Bearer *** upstream');
    expect(entry.nested.list).toEqual(['postgresql://***@h/d']);
  });

  it('keeps child fields and redacts them too', () => {
    const { lines, logger } = capture();
    logger.child({ requestId: 'r1', token: 'abc' }).info('child');
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ service: 'loadwatch', requestId: 'r1', token: '***' });
  });
});

describe('redactString', () => {
  it('leaves ordinary text alone and scrubs credentials in URLs', () => {
    expect(redactString('GET /health 200')).toBe('GET /health 200');
    expect(redactString('user@example.com wrote')).toBe('user@example.com wrote');
    expect(redactString('https://user:pw@host/path')).toBe('https://***@host/path');
  });
});
