import { describe, expect, it } from 'vitest';
import { UsageError } from '../lib/cli/usage-error.ts';
import {
  DatabaseTimeoutError,
  DatabaseUnavailableError,
  MigrationsPendingError,
  PoolExhaustedError,
} from '../lib/db/errors.ts';
import { EXIT, LoadwatchError } from '../lib/errors.ts';
import { ConcurrencyLimitError } from '../lib/loadtest/store.ts';
import { LocalStackError } from '../lib/local/stack.ts';
import { MEMBERS } from './support/error-family.ts';

describe('LoadwatchError', () => {
  it.each(MEMBERS.map(([error, fields]) => [error.name, error, fields] as const))(
    'gives %s its code, status, exit code and exposure',
    (_name, error, fields) => {
      expect(error).toBeInstanceOf(LoadwatchError);
      expect(error).toBeInstanceOf(Error);
      expect({
        code: error.code,
        status: error.status,
        exitCode: error.exitCode,
        expose: error.expose,
      }).toEqual(fields);
    },
  );

  it('names each member after its class, so logs say which one it was', () => {
    expect(MEMBERS.map(([error]) => error.name)).not.toContain('Error');
    expect(new PoolExhaustedError(1).name).toBe('PoolExhaustedError');
  });

  it('defaults to a 500 that fails the command and hides its message', () => {
    const error = new LoadwatchError('secret detail', { code: 'SOMETHING' });
    expect([error.status, error.exitCode, error.expose, error.headers]).toEqual([
      500,
      EXIT.failed,
      false,
      {},
    ]);
  });

  it('keeps the cause it was given', () => {
    const cause = new Error('ECONNREFUSED');
    expect(new DatabaseUnavailableError('ECONNREFUSED', { cause }).cause).toBe(cause);
    expect(new UsageError('bad', { cause }).cause).toBe(cause);
    expect(new LocalStackError('STACK_FAILED', 'no', { cause }).cause).toBe(cause);
  });

  it('carries Retry-After on the errors a client should retry', () => {
    expect(new PoolExhaustedError(0.2).headers).toEqual({ 'Retry-After': '1' });
    expect(new DatabaseTimeoutError(1500).headers).toEqual({ 'Retry-After': '2' });
    expect(new MigrationsPendingError('x').headers).toEqual({ 'Retry-After': '30' });
    expect(new ConcurrencyLimitError(2, ['a']).headers).toEqual({ 'Retry-After': '30' });
  });
});
