import { describe, expect, it } from 'vitest';
import { createLogger, redactQuery, redactString } from '../../lib/log/logger.ts';

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

describe('redactQuery', () => {
  it('masks the values of credential-like query parameters and keeps every other one', () => {
    expect(redactQuery('/x?api_key=SECRET&page=2')).toBe('/x?api_key=***&page=2');
    expect(
      redactQuery(
        'https://h/p?X-Amz-Signature=abc&X-Amz-Credential=AKIA%2F&access_token=t&password=p&sessionid=s&sig=1&q=ok#frag',
      ),
    ).toBe(
      'https://h/p?X-Amz-Signature=***&X-Amz-Credential=***&access_token=***&password=***&sessionid=***&sig=***&q=ok#frag',
    );
    expect(redactQuery('/a?Authorization=Basic%20x;apiKey=k&limit=10')).toBe(
      '/a?Authorization=***;apiKey=***&limit=10',
    );
    expect(redactQuery('/a?%61pi_key=encoded-name&empty_token=')).toBe('/a?%61pi_key=***&empty_token=');
    expect(redactQuery('/health')).toBe('/health');
    expect(redactString('GET /x?token=abc failed')).toBe('GET /x?token=*** failed');
  });
});
